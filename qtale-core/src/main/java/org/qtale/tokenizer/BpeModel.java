package org.qtale.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * The "BPE" model of a {@code tokenizer.json}: splits a pre-token into characters (or their UTF-8 byte tokens when
 * {@code byteFallback} is set), then applies the ranked merges, lowest rank first and leftmost among equals.
 */
final class BpeModel {
    private static final int CACHED_WORD_LENGTH = 64;
    private static final int CACHE_CAPACITY = 20_000;

    private final Map<String, Integer> vocab;
    private final MergeTable merges;
    private final Options options;
    private final int[] byteTokens;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /** The model's switches; {@code unk} is -1 when there is no unknown token. */
    record Options(int unk, boolean byteFallback, boolean fuseUnk, boolean ignoreMerges) {
    }

    BpeModel(Map<String, Integer> vocab, MergeTable merges, Options options) {
        this.vocab = vocab;
        this.merges = merges;
        this.options = options;
        this.byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = vocab.getOrDefault(String.format("<0x%02X>", b), -1);
        }
    }

    Options options() {
        return options;
    }

    int mergeCount() {
        return merges.size();
    }

    /** The ids of one pre-token. */
    int[] encodeWord(String word) {
        if (word.length() > CACHED_WORD_LENGTH) {
            return compute(word);
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = compute(word);
            if (cache.size() >= CACHE_CAPACITY) {
                cache.clear();
            }
            cache.put(word, cached);
        }
        return cached;
    }

    private int[] compute(String word) {
        if (options.ignoreMerges()) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                return new int[] {whole};
            }
        }
        return merge(initialSymbols(word));
    }

    /** One symbol per character; unknown characters become byte tokens, or the (fused) unknown token. */
    private int[] initialSymbols(String word) {
        IntStream.Builder symbols = IntStream.builder();
        boolean previousUnknown = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            String c = Character.toString(cp);
            i += c.length();
            Integer id = vocab.get(c);
            if (id != null) {
                symbols.add(id);
                previousUnknown = false;
            } else if (options.byteFallback() && addBytes(c, symbols)) {
                previousUnknown = false;
            } else if (options.unk() >= 0) {
                if (!(options.fuseUnk() && previousUnknown)) {
                    symbols.add(options.unk());
                }
                previousUnknown = true;
            } // with neither byte tokens nor an unknown token the character is dropped, as Hugging Face does
        }
        return symbols.build().toArray();
    }

    private boolean addBytes(String c, IntStream.Builder symbols) {
        byte[] utf8 = c.getBytes(StandardCharsets.UTF_8);
        for (byte b : utf8) {
            if (byteTokens[b & 0xFF] < 0) {
                return false;
            }
        }
        for (byte b : utf8) {
            symbols.add(byteTokens[b & 0xFF]);
        }
        return true;
    }

    /**
     * Applies merges through a priority queue of candidate pairs (rank in the high half, left position in the low
     * half), so long inputs such as a whole SentencePiece line stay O(n log n). Symbols form a linked list; a merge
     * keeps the left slot and kills the right one. A queued pair is stale when its slots no longer hold that pair.
     */
    private int[] merge(int[] symbols) {
        int n = symbols.length;
        if (n < 2) {
            return symbols;
        }
        int[] id = symbols.clone();
        int[] prev = new int[n];
        int[] next = new int[n];
        LongHeap queue = new LongHeap(n);
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, id, i, i + 1);
        }
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int pos = (int) top;
            int right = next[pos];
            if (id[pos] < 0 || right < 0) {
                continue;
            }
            int slot = merges.find(id[pos], id[right]);
            if (slot < 0 || merges.rank(slot) != (int) (top >>> 32)) {
                continue;
            }
            id[pos] = merges.result(slot);
            id[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
                offer(queue, id, pos, next[pos]);
            }
            if (prev[pos] >= 0) {
                offer(queue, id, prev[pos], pos);
            }
        }
        IntStream.Builder out = IntStream.builder();
        for (int i = 0; i >= 0; i = next[i]) {
            out.add(id[i]);
        }
        return out.build().toArray();
    }

    private void offer(LongHeap queue, int[] id, int left, int right) {
        int slot = merges.find(id[left], id[right]);
        if (slot >= 0) {
            queue.add(((long) merges.rank(slot) << 32) | left);
        }
    }

    /** A binary min-heap of longs, so the queue of candidate merges does not box. */
    private static final class LongHeap {
        private long[] items;
        private int size;

        LongHeap(int capacity) {
            items = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long item) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            int i = size++;
            while (i > 0 && items[(i - 1) / 2] > item) {
                items[i] = items[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            items[i] = item;
        }

        long pop() {
            long top = items[0];
            long last = items[--size];
            int i = 0;
            for (int child = 1; child < size; child = 2 * i + 1) {
                if (child + 1 < size && items[child + 1] < items[child]) {
                    child++;
                }
                if (items[child] >= last) {
                    break;
                }
                items[i] = items[child];
                i = child;
            }
            items[i] = last;
            return top;
        }
    }
}
