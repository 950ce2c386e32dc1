package org.qtale.train.nn;

import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/**
 * Causal grouped-query attention over {@code batch} sequences of {@code seqLen} tokens, with an optional per-key
 * mask applied as D-LLM's training code does: after the softmax,
 * {@code P'[i][j] = P[i][j] · m[j] / (Σ_k P[i][k] · m[k] + 1e-6)}, with a gradient into the mask. Rows are laid out
 * {@code n = b · seqLen + i}; q has {@code heads · headDim} columns, k and v {@code kvHeads · headDim}.
 */
public final class AttentionOp {
    static final float MASK_EPSILON = 1e-6f;

    private final int batch;
    private final int seqLen;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;

    public AttentionOp(int batch, int seqLen, int heads, int kvHeads, int headDim) {
        this.batch = batch;
        this.seqLen = seqLen;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /** Floats of the saved softmax probabilities. */
    public int probsSize() {
        return batch * heads * seqLen * seqLen;
    }

    /** Floats of the saved mask normalizers. */
    public int normsSize() {
        return batch * heads * seqLen;
    }

    /**
     * Computes {@code out} and saves the softmax probabilities {@code probs} (before the mask) and, with a mask, the
     * normalizers {@code norms}; {@code keyMask} (one value per row) may be null.
     */
    public void forward(Parallel parallel, float[] out, float[] probs, float[] norms, float[] q, float[] k, float[] v,
            float[] keyMask) {
        parallel.forRange(batch * heads, (start, end) -> {
            float[] keysT = new float[headDim * seqLen];
            float[] weights = new float[seqLen];
            float[] lanes = VectorOps.laneScratch();
            int loaded = -1;
            for (int task = start; task < end; task++) {
                int b = task / heads;
                int h = task % heads;
                int g = h / (heads / kvHeads);
                if (loaded != b * kvHeads + g) {
                    loaded = b * kvHeads + g;
                    transpose(k, b, g, keysT);
                }
                for (int i = 0; i < seqLen; i++) {
                    forwardQuery(out, probs, norms, q, keysT, v, keyMask, b, h, g, i, weights, lanes);
                }
            }
        });
    }

    /**
     * One query: scores as {@code Σ_d q[d] · Kᵀ[d][·]} (vectorized over keys, so a short head needs no lane sums
     * per key), softmax, then {@code out = Σ_j P[j] · V[j]}.
     */
    private void forwardQuery(float[] out, float[] probs, float[] norms, float[] q, float[] keysT, float[] values,
            float[] keyMask, int b, int h, int g, int i, float[] weights, float[] lanes) {
        int query = (b * seqLen + i) * heads * headDim + h * headDim;
        int p = probsOffset(b, h, i);
        int n = i + 1;
        java.util.Arrays.fill(probs, p, p + n, 0f);
        for (int d = 0; d < headDim; d++) {
            VectorOps.axpy(q[query + d] * scale, keysT, d * seqLen, probs, p, n);
        }
        VectorOps.softmax(probs, p, n, lanes);
        System.arraycopy(probs, p, weights, 0, n);
        if (keyMask != null) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += probs[p + j] * keyMask[b * seqLen + j];
            }
            float norm = (float) sum + MASK_EPSILON;
            norms[(b * heads + h) * seqLen + i] = norm;
            for (int j = 0; j < n; j++) {
                weights[j] = probs[p + j] * keyMask[b * seqLen + j] / norm;
            }
        }
        java.util.Arrays.fill(out, query, query + headDim, 0f);
        for (int j = 0; j < n; j++) {
            VectorOps.axpy(weights[j], values, (b * seqLen + j) * kvHeads * headDim + g * headDim, out, query, headDim);
        }
    }

    /** Copies key/value head {@code g} of sequence {@code b} into {@code dst} as {@code [headDim][seqLen]}. */
    private void transpose(float[] kv, int b, int g, float[] dst) {
        int kvDim = kvHeads * headDim;
        for (int j = 0; j < seqLen; j++) {
            int row = (b * seqLen + j) * kvDim + g * headDim;
            for (int d = 0; d < headDim; d++) {
                dst[d * seqLen + j] = kv[row + d];
            }
        }
    }

    /** Adds {@code src} ({@code [headDim][seqLen]}) into key/value head {@code g} of sequence {@code b}. */
    private void addTransposed(float[] src, int b, int g, float[] kv) {
        int kvDim = kvHeads * headDim;
        for (int j = 0; j < seqLen; j++) {
            int row = (b * seqLen + j) * kvDim + g * headDim;
            for (int d = 0; d < headDim; d++) {
                kv[row + d] += src[d * seqLen + j];
            }
        }
    }

    private int probsOffset(int b, int h, int i) {
        return ((b * heads + h) * seqLen + i) * seqLen;
    }

    /**
     * Accumulates the gradients of q, k, v and (with a mask, if {@code dMask} is not null) of the mask from
     * {@code dout}. Work is split by (sequence, key/value head), so that each task owns the rows of dk and dv it
     * writes; mask gradients are summed per task and then added.
     */
    public void backward(Parallel parallel, float[] dq, float[] dk, float[] dv, float[] dMask, float[] dout,
            float[] probs, float[] norms, float[] q, float[] k, float[] v, float[] keyMask) {
        int tasks = batch * kvHeads;
        float[] maskParts = dMask == null ? null : new float[tasks * seqLen];
        parallel.forRange(tasks, (start, end) -> {
            Scratch s = new Scratch(headDim * seqLen, seqLen);
            int group = heads / kvHeads;
            for (int task = start; task < end; task++) {
                int b = task / kvHeads;
                int g = task % kvHeads;
                transpose(v, b, g, s.valuesT);
                java.util.Arrays.fill(s.dKeysT, 0f);
                java.util.Arrays.fill(s.dValuesT, 0f);
                for (int h = g * group; h < (g + 1) * group; h++) {
                    for (int i = 0; i < seqLen; i++) {
                        backwardQuery(dq, maskParts, task, dout, probs, norms, q, k, keyMask, b, h, i, s);
                    }
                }
                addTransposed(s.dKeysT, b, g, dk);
                addTransposed(s.dValuesT, b, g, dv);
            }
        });
        if (dMask != null) {
            for (int task = 0; task < tasks; task++) {
                int b = task / kvHeads;
                for (int j = 0; j < seqLen; j++) {
                    dMask[b * seqLen + j] += maskParts[task * seqLen + j];
                }
            }
        }
    }

    /** Per-task buffers of the backward pass: transposed V, the gradients of K and V transposed, per-query rows. */
    private static final class Scratch {
        final float[] valuesT;
        final float[] dKeysT;
        final float[] dValuesT;
        final float[] weights;
        final float[] dP;

        Scratch(int size, int seqLen) {
            valuesT = new float[size];
            dKeysT = new float[size];
            dValuesT = new float[size];
            weights = new float[seqLen];
            dP = new float[seqLen];
        }
    }

    private void backwardQuery(float[] dq, float[] maskParts, int task, float[] dout, float[] probs, float[] norms,
            float[] q, float[] k, float[] keyMask, int b, int h, int i, Scratch s) {
        int query = (b * seqLen + i) * heads * headDim + h * headDim;
        int p = probsOffset(b, h, i);
        int n = i + 1;
        float norm = keyMask == null ? 1 : norms[(b * heads + h) * seqLen + i];
        float[] weights = s.weights;
        float[] dP = s.dP;
        for (int j = 0; j < n; j++) {
            weights[j] = keyMask == null ? probs[p + j] : probs[p + j] * keyMask[b * seqLen + j] / norm;
        }
        // dP'[j] = dout · v[j]; dv[j] += P'[j] · dout
        java.util.Arrays.fill(dP, 0, n, 0f);
        for (int d = 0; d < headDim; d++) {
            VectorOps.axpy(dout[query + d], s.valuesT, d * seqLen, dP, 0, n);
            VectorOps.axpy(dout[query + d], weights, 0, s.dValuesT, d * seqLen, n);
        }
        // through the renormalized mask: dP[j] = m[j] / S · (dP'[j] − Σ dP'·P'), dm[j] += P[j] / S · (same)
        if (keyMask != null) {
            double weighted = 0;
            for (int j = 0; j < n; j++) {
                weighted += (double) dP[j] * weights[j];
            }
            for (int j = 0; j < n; j++) {
                float centered = (float) (dP[j] - weighted) / norm;
                if (maskParts != null) {
                    maskParts[task * seqLen + j] += probs[p + j] * centered;
                }
                dP[j] = keyMask[b * seqLen + j] * centered;
            }
        }
        // softmax: dS[j] = P[j] · (dP[j] − Σ P·dP), times the score scale; dq = dS · K, dk[j] += dS[j] · q
        double expected = 0;
        for (int j = 0; j < n; j++) {
            expected += (double) probs[p + j] * dP[j];
        }
        for (int j = 0; j < n; j++) {
            dP[j] = probs[p + j] * (dP[j] - (float) expected) * scale;
        }
        int keyRow = kvHeads * headDim;
        int g = h / (heads / kvHeads);
        for (int j = 0; j < n; j++) {
            VectorOps.axpy(dP[j], k, (b * seqLen + j) * keyRow + g * headDim, dq, query, headDim);
        }
        for (int d = 0; d < headDim; d++) {
            VectorOps.axpy(q[query + d], dP, 0, s.dKeysT, d * seqLen, n);
        }
    }
}
