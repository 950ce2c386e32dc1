package org.qtale.tokenizer;

import java.util.Arrays;

/**
 * BPE merges keyed by the pair of token ids packed into one long: open addressing with linear probing, so the 280k
 * merges of Llama 3 cost three flat arrays instead of a boxed map.
 */
final class MergeTable {
    private long[] keys;
    private int[] ranks;
    private int[] results;
    private int mask;
    private int size;

    /** An empty table; {@code expected} merges fit without growing. */
    MergeTable(int expected) {
        allocate(Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1);
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        Arrays.fill(keys, -1L);
        ranks = new int[capacity];
        results = new int[capacity];
        mask = capacity - 1;
        size = 0;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (keys[i] != -1L && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    /** Adds a merge; a pair listed twice keeps its last rank, as Hugging Face tokenizers does. */
    void put(int left, int right, int rank, int result) {
        if (size * 2 >= keys.length) {
            grow();
        }
        int i = slot(key(left, right));
        if (keys[i] == -1L) {
            keys[i] = key(left, right);
            size++;
        }
        ranks[i] = rank;
        results[i] = result;
    }

    /** Doubles the capacity so the table stays at most half full. */
    private void grow() {
        long[] oldKeys = keys;
        int[] oldRanks = ranks;
        int[] oldResults = results;
        allocate(oldKeys.length * 2);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != -1L) {
                put((int) (oldKeys[i] >>> 32), (int) oldKeys[i], oldRanks[i], oldResults[i]);
            }
        }
    }

    /** The slot of the pair, or -1 when the pair does not merge. */
    int find(int left, int right) {
        int i = slot(key(left, right));
        return keys[i] == -1L ? -1 : i;
    }

    int rank(int slot) {
        return ranks[slot];
    }

    int result(int slot) {
        return results[slot];
    }

    int size() {
        return size;
    }
}
