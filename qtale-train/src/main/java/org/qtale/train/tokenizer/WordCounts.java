package org.qtale.train.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct pre-tokenized pieces of a training text and how often each occurs: BPE only ever looks inside a
 * piece, so counting them once lets training work on tens of thousands of distinct words instead of megabytes of
 * text. Special tokens written in a document are left out, as the engine encodes them as single ids. Documents can be
 * added one at a time, so a large corpus never has to be in memory at once.
 */
public final class WordCounts {
    private final TextSplitter splitter = new TextSplitter(BpeTrainer.SPECIAL_TOKENS);
    /** Insertion order, so that everything built from the counts is the same from run to run. */
    private final Map<String, long[]> counts = new LinkedHashMap<>();
    private long inputBytes;

    /** Counts the pieces of one document. */
    public void add(String document) {
        inputBytes += utf8Length(document);
        splitter.split(document, piece -> counts.computeIfAbsent(piece, k -> new long[1])[0]++, special -> { });
    }

    /** UTF-8 bytes of all documents added so far. */
    public long inputBytes() {
        return inputBytes;
    }

    /** Number of distinct pieces. */
    public int distinctWords() {
        return counts.size();
    }

    /** The distinct pieces, in the order they first occurred. */
    List<String> words() {
        return new ArrayList<>(counts.keySet());
    }

    /** Occurrences of each piece of {@link #words()}, in the same order. */
    long[] frequencies() {
        return counts.values().stream().mapToLong(c -> c[0]).toArray();
    }

    private static long utf8Length(String s) {
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += Character.isSurrogate(c) ? 1 : 3; // a lone surrogate is encoded as '?'
            }
        }
        return bytes;
    }
}
