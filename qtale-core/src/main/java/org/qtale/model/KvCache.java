package org.qtale.model;

/** Keys and values of every layer for positions {@code [0, capacity)}, float32, one row of kvDim per position. */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int capacity;
    private final int kvDim;

    public KvCache(LlamaConfig config, int capacity) {
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        this.keys = new float[config.nLayers()][Math.multiplyExact(capacity, kvDim)];
        this.values = new float[config.nLayers()][capacity * kvDim];
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
