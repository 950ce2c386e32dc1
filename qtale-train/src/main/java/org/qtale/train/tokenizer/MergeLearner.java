package org.qtale.train.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Learns byte-level BPE merges from counted words. Token ids 0 to 255 are the bytes; each merge adds the next id.
 *
 * <p>Each step merges the adjacent pair with the highest count (occurrences weighted by word frequency); among equal
 * counts the pair with the smaller left id wins, then the smaller right id. Within a word the occurrences are merged
 * left to right without overlap ("aaa" becomes "aa", "a"), which is also what the engine does when it applies the
 * merges in rank order, so the engine's encoding of a training word is exactly the segmentation training ended with.
 * That needs every token to come from exactly one merge; should a pair's concatenation already be a token (another
 * split of the same bytes; no text tried so far produced one), the pair is skipped rather than merged.
 *
 * <p>Pair counts are kept up to date incrementally: a merge rewrites only the words that hold the pair (each pair
 * remembers them) and adjusts the counts of the neighbouring pairs. The queue may hold outdated counts; an entry is
 * trusted only when it matches the current count, and a pair whose count grew is queued again.
 */
final class MergeLearner {
    private final int[][] symbols;
    private final int[] lengths;
    private final long[] frequencies;
    /** The merge number at which each word was last rewritten, so a word listed twice is rewritten once. */
    private final int[] rewrittenAt;
    private final List<String> pieces = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<int[]> merges = new ArrayList<>();
    private final Map<Long, Pair> pairs = new HashMap<>();
    private final PriorityQueue<Candidate> queue = new PriorityQueue<>();
    private final List<Pair> grown = new ArrayList<>();

    /** A pair of adjacent token ids, its current count and the words it may occur in (some no longer hold it). */
    private static final class Pair {
        final int left;
        final int right;
        long count;
        int[] words = new int[2];
        int wordCount;
        boolean alreadyAToken;
        int grownAt = -1;

        Pair(int left, int right) {
            this.left = left;
            this.right = right;
        }

        void addWord(int word) {
            if (wordCount > 0 && words[wordCount - 1] == word) {
                return;
            }
            if (wordCount == words.length) {
                words = Arrays.copyOf(words, wordCount * 2);
            }
            words[wordCount++] = word;
        }
    }

    /** A queue entry; the best pair comes first. */
    private record Candidate(long count, int left, int right) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate other) {
            if (count != other.count) {
                return Long.compare(other.count, count);
            }
            if (left != other.left) {
                return Integer.compare(left, other.left);
            }
            return Integer.compare(right, other.right);
        }
    }

    MergeLearner(List<String> words, long[] frequencies) {
        for (int b = 0; b < 256; b++) {
            pieces.add(ByteAlphabet.piece(b));
            ids.put(ByteAlphabet.piece(b), b);
        }
        this.frequencies = frequencies.clone();
        this.symbols = new int[words.size()][];
        this.lengths = new int[words.size()];
        this.rewrittenAt = new int[words.size()];
        for (int w = 0; w < symbols.length; w++) {
            byte[] utf8 = words.get(w).getBytes(StandardCharsets.UTF_8);
            symbols[w] = new int[utf8.length];
            for (int i = 0; i < utf8.length; i++) {
                symbols[w][i] = utf8[i] & 0xFF;
            }
            lengths[w] = utf8.length;
            for (int i = 0; i + 1 < utf8.length; i++) {
                count(symbols[w][i], symbols[w][i + 1], frequencies[w], w);
            }
        }
        queueGrownPairs();
    }

    /** Merges until there are {@code tokenLimit} tokens or no pair is left. */
    void learn(int tokenLimit) {
        while (pieces.size() < tokenLimit) {
            Pair best = nextBest();
            if (best == null) {
                return;
            }
            merge(best);
        }
    }

    /** Id to piece (GPT-2 byte characters) of the bytes and the merged tokens. */
    List<String> pieces() {
        return List.copyOf(pieces);
    }

    /** The merges in rank order as {left, right}; merge r produced token 256 + r. */
    List<int[]> merges() {
        return merges.stream().map(int[]::clone).toList();
    }

    /** The token ids that word {@code word} (an index into the words given) ended up as. */
    int[] segmentation(int word) {
        return Arrays.copyOf(symbols[word], lengths[word]);
    }

    private Pair nextBest() {
        for (Candidate c = queue.poll(); c != null; c = queue.poll()) {
            Pair pair = pairs.get(key(c.left(), c.right()));
            if (pair.alreadyAToken || pair.count <= 0 || c.count() < pair.count) {
                continue; // gone, or a stale low entry: a current one was queued when the count grew
            }
            if (c.count() > pair.count) {
                queue.add(new Candidate(pair.count, pair.left, pair.right));
                continue;
            }
            if (ids.containsKey(pieces.get(pair.left) + pieces.get(pair.right))) {
                pair.alreadyAToken = true;
                continue;
            }
            return pair;
        }
        return null;
    }

    private void merge(Pair pair) {
        int token = pieces.size();
        String piece = pieces.get(pair.left) + pieces.get(pair.right);
        pieces.add(piece);
        ids.put(piece, token);
        merges.add(new int[] {pair.left, pair.right});
        int mergeNumber = merges.size();
        for (int i = 0; i < pair.wordCount; i++) {
            int word = pair.words[i];
            if (rewrittenAt[word] != mergeNumber) {
                rewrittenAt[word] = mergeNumber;
                rewrite(word, pair.left, pair.right, token);
            }
        }
        pair.count = 0;
        pair.words = null;
        pair.wordCount = 0;
        queueGrownPairs();
    }

    /** Replaces each occurrence of (a, b) in the word by {@code token}, moving the neighbours' counts along. */
    private void rewrite(int word, int a, int b, int token) {
        int[] s = symbols[word];
        int n = lengths[word];
        long f = frequencies[word];
        int out = 0;
        for (int in = 0; in < n; ) {
            if (in + 1 < n && s[in] == a && s[in + 1] == b) {
                if (out > 0) {
                    count(s[out - 1], a, -f, word);
                    count(s[out - 1], token, f, word);
                }
                if (in + 2 < n) {
                    count(b, s[in + 2], -f, word);
                    count(token, s[in + 2], f, word);
                }
                s[out++] = token;
                in += 2;
            } else {
                s[out++] = s[in++];
            }
        }
        lengths[word] = out;
    }

    private void count(int left, int right, long delta, int word) {
        Pair pair = pairs.computeIfAbsent(key(left, right), k -> new Pair(left, right));
        pair.count += delta;
        if (delta > 0) {
            pair.addWord(word);
            if (pair.grownAt != merges.size()) {
                pair.grownAt = merges.size();
                grown.add(pair);
            }
        }
    }

    private void queueGrownPairs() {
        for (Pair pair : grown) {
            if (pair.count > 0 && !pair.alreadyAToken) {
                queue.add(new Candidate(pair.count, pair.left, pair.right));
            }
        }
        grown.clear();
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | right;
    }
}
