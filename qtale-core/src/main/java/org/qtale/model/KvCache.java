package org.qtale.model;

/**
 * Keys and values of every layer for positions {@code [0, capacity)}, float32, one row of kvDim per position, and for
 * each layer which positions executed it: a token that skipped a layer wrote nothing there, and later queries attend
 * only to the positions that did (D-LLM's eviction rule).
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final java.util.BitSet[] executed;
    private final int capacity;
    private final int kvDim;

    public KvCache(LlamaConfig config, int capacity) {
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        this.keys = new float[config.nLayers()][Math.multiplyExact(capacity, kvDim)];
        this.values = new float[config.nLayers()][capacity * kvDim];
        this.executed = new java.util.BitSet[config.nLayers()];
        for (int l = 0; l < executed.length; l++) {
            executed[l] = new java.util.BitSet(capacity);
        }
    }

    /** Records whether the token at {@code position} executed {@code layer} (and so wrote its key and value). */
    public void setExecuted(int layer, int position, boolean ran) {
        executed[layer].set(position, ran);
    }

    /** Whether a query may attend to {@code position} in {@code layer}. */
    public boolean executed(int layer, int position) {
        return executed[layer].get(position);
    }

    public int capacity() {
        return capacity;
    }

    public float[] keys(int layer) {
        return keys[layer];
    }

    public float[] values(int layer) {
        return values[layer];
    }

    public int kvDim() {
        return kvDim;
    }
}
