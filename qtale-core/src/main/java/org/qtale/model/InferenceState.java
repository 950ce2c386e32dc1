package org.qtale.model;

import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.ExecutionTrace;
import org.qtale.tensor.Parallel;

/**
 * What one generation needs besides the weights: the KV cache, the number of positions already in it, scratch
 * buffers for a batch of up to {@code maxBatch} tokens, and the thread pool that runs the kernels.
 */
public final class InferenceState {
    final Parallel parallel;
    final KvCache cache;
    final int maxBatch;
    final float[] x;
    final float[] xb;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] attention;
    final float[] hidden;
    final float[] hidden2;
    final float[] ropeCos;
    final float[] ropeSin;
    final float[] scratch;
    final float[] logits;
    /** Per row of the batch: whether it executes the current layer. */
    final boolean[] runs;
    /** Rows saved before a layer that some rows skip, to restore the skipping ones. */
    final float[] saved;
    /** For each row the layer computes, its index in the batch (rows that skip are left out). */
    final int[] batchRow;
    int position;
    ExecutionPolicy policy;
    ExecutionTrace trace;

    InferenceState(LlamaConfig c, Parallel parallel, int capacity, int maxBatch) {
        if (capacity < 1 || capacity > c.contextLength()) {
            throw new QtaleException("The context capacity must be between 1 and the model's " + c.contextLength()
                    + " positions, got " + capacity + ".");
        }
        if (maxBatch < 1) {
            throw new QtaleException("The batch size must be at least 1, got " + maxBatch + ".");
        }
        this.parallel = parallel;
        this.cache = new KvCache(c, capacity);
        this.maxBatch = maxBatch;
        this.x = new float[maxBatch * c.dim()];
        this.xb = new float[maxBatch * Math.max(c.dim(), c.qDim())];
        this.q = new float[maxBatch * c.qDim()];
        this.k = new float[maxBatch * c.kvDim()];
        this.v = new float[maxBatch * c.kvDim()];
        this.attention = new float[maxBatch * c.qDim()];
        this.hidden = new float[maxBatch * c.hiddenDim()];
        this.hidden2 = new float[maxBatch * c.hiddenDim()];
        this.ropeCos = new float[maxBatch * c.headDim()];
        this.ropeSin = new float[maxBatch * c.headDim()];
        this.scratch = new float[Math.max(c.qDim(), c.kvDim())];
        this.logits = new float[c.vocabSize()];
        this.runs = new boolean[maxBatch];
        this.saved = new float[maxBatch * c.dim()];
        this.batchRow = new int[maxBatch];
    }

    /** How routed layers decide for this sequence (ignored by a model without routers). */
    public void setPolicy(ExecutionPolicy policy) {
        this.policy = policy;
    }

    public ExecutionPolicy policy() {
        return policy;
    }

    /** Which layers ran for each token so far, or null for a model without routers. */
    public ExecutionTrace trace() {
        return trace;
    }

    /** Positions already in the KV cache; the next token goes to this position. */
    public int position() {
        return position;
    }

    /**
     * Forgets the positions from {@code position} on, so that the next token goes there: another continuation of the
     * same prefix runs without computing the prefix again. The cache entries past it are rewritten, executed-or-skipped
     * marks included, before any later query can read them. The execution trace keeps the forgotten tokens.
     */
    public void rewind(int position) {
        if (position < 0 || position > this.position) {
            throw new QtaleException("Cannot rewind to position " + position + " of a sequence at " + this.position + ".");
        }
        this.position = position;
    }

    public int capacity() {
        return cache.capacity();
    }

    public KvCache cache() {
        return cache;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public Parallel parallel() {
        return parallel;
    }

}
