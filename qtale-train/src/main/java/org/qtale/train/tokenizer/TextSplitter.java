package org.qtale.train.tokenizer;

import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cuts text into the pieces that BPE learns and encodes one at a time, exactly as the engine's tokenizer does with
 * the file the trainer writes: special tokens are found first (the longest one starting at the earliest position),
 * then the text between them is split with Llama 3's regex, keeping every match and every gap as its own piece.
 */
final class TextSplitter {
    /** Llama 3's pre-tokenizer regex: contractions, words with one leading non-letter, 1-3 digits, punctuation runs. */
    static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The same flags as the engine, so that \s and case folding cover all of Unicode as in Oniguruma. */
    private static final Pattern PATTERN = Pattern.compile(LLAMA3_PATTERN,
            Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);

    private final List<String> specialTokens;

    TextSplitter(List<String> specialTokens) {
        this.specialTokens = List.copyOf(specialTokens);
    }

    /** Calls {@code onPiece} for each ordinary piece and {@code onSpecial} for each special token, in text order. */
    void split(String text, Consumer<String> onPiece, Consumer<String> onSpecial) {
        int from = 0;
        while (from < text.length()) {
            int at = text.length();
            String special = null;
            for (String candidate : specialTokens) {
                int i = text.indexOf(candidate, from);
                if (i >= 0 && (i < at || (i == at && candidate.length() > special.length()))) {
                    at = i;
                    special = candidate;
                }
            }
            splitPlain(text.substring(from, at), onPiece);
            if (special == null) {
                return;
            }
            onSpecial.accept(special);
            from = at + special.length();
        }
    }

    private static void splitPlain(String text, Consumer<String> onPiece) {
        Matcher m = PATTERN.matcher(text);
        int end = 0;
        while (m.find()) {
            if (m.start() == m.end()) {
                continue;
            }
            if (m.start() > end) {
                onPiece.accept(text.substring(end, m.start()));
            }
            onPiece.accept(m.group());
            end = m.end();
        }
        if (end < text.length()) {
            onPiece.accept(text.substring(end));
        }
    }
}
