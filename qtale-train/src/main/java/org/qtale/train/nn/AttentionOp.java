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
            float[] lanes = VectorOps.laneScratch();
            for (int task = start; task < end; task++) {
                int b = task / heads;
                int h = task % heads;
                for (int i = 0; i < seqLen; i++) {
                    forwardQuery(out, probs, norms, q, k, v, keyMask, b, h, i, lanes);
                }
            }
        });
    }

    private void forwardQuery(float[] out, float[] probs, float[] norms, float[] q, float[] k, float[] v,
            float[] keyMask, int b, int h, int i, float[] lanes) {
        int qDim = heads * headDim;
        int kvDim = kvHeads * headDim;
        int g = h / (heads / kvHeads);
        int query = (b * seqLen + i) * qDim + h * headDim;
        int p = probsOffset(b, h, i);
        for (int j = 0; j <= i; j++) {
            probs[p + j] = VectorOps.dot(q, query, k, (b * seqLen + j) * kvDim + g * headDim, headDim, lanes) * scale;
        }
        VectorOps.softmax(probs, p, i + 1);
        float norm = 1;
        if (keyMask != null) {
            double sum = 0;
            for (int j = 0; j <= i; j++) {
                sum += probs[p + j] * keyMask[b * seqLen + j];
            }
            norm = (float) sum + MASK_EPSILON;
            norms[(b * heads + h) * seqLen + i] = norm;
        }
        java.util.Arrays.fill(out, query, query + headDim, 0f);
        for (int j = 0; j <= i; j++) {
            float weight = keyMask == null ? probs[p + j] : probs[p + j] * keyMask[b * seqLen + j] / norm;
            VectorOps.axpy(weight, v, (b * seqLen + j) * kvDim + g * headDim, out, query, headDim);
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
            float[] dScores = new float[seqLen];
            float[] lanes = VectorOps.laneScratch();
            int group = heads / kvHeads;
            for (int task = start; task < end; task++) {
                int b = task / kvHeads;
                int g = task % kvHeads;
                for (int h = g * group; h < (g + 1) * group; h++) {
                    for (int i = 0; i < seqLen; i++) {
                        backwardQuery(dq, dk, dv, maskParts, task, dout, probs, norms, q, k, v, keyMask, b, h, i,
                                dScores, lanes);
                    }
                }
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

    private void backwardQuery(float[] dq, float[] dk, float[] dv, float[] maskParts, int task, float[] dout,
            float[] probs, float[] norms, float[] q, float[] k, float[] v, float[] keyMask, int b, int h, int i,
            float[] dP, float[] lanes) {
        int qDim = heads * headDim;
        int kvDim = kvHeads * headDim;
        int g = h / (heads / kvHeads);
        int query = (b * seqLen + i) * qDim + h * headDim;
        int p = probsOffset(b, h, i);
        float norm = keyMask == null ? 1 : norms[(b * heads + h) * seqLen + i];
        // dP'[j] = dout · v[j]; dv[j] += P'[j] · dout
        double weighted = 0;
        for (int j = 0; j <= i; j++) {
            int key = (b * seqLen + j) * kvDim + g * headDim;
            float masked = keyMask == null ? probs[p + j] : probs[p + j] * keyMask[b * seqLen + j] / norm;
            dP[j] = VectorOps.dot(dout, query, v, key, headDim, lanes);
            VectorOps.axpy(masked, dout, query, dv, key, headDim);
            weighted += (double) dP[j] * masked;
        }
        // through the renormalized mask: dP[j] = m[j] / S · (dP'[j] − Σ dP'·P'), dm[j] += P[j] / S · (same)
        if (keyMask != null) {
            for (int j = 0; j <= i; j++) {
                float centered = (float) (dP[j] - weighted) / norm;
                if (maskParts != null) {
                    maskParts[task * seqLen + j] += probs[p + j] * centered;
                }
                dP[j] = keyMask[b * seqLen + j] * centered;
            }
        }
        // softmax: dS[j] = P[j] · (dP[j] − Σ P·dP)
        double expected = 0;
        for (int j = 0; j <= i; j++) {
            expected += (double) probs[p + j] * dP[j];
        }
        for (int j = 0; j <= i; j++) {
            int key = (b * seqLen + j) * kvDim + g * headDim;
            float dScore = probs[p + j] * (dP[j] - (float) expected) * scale;
            VectorOps.axpy(dScore, k, key, dq, query, headDim);
            VectorOps.axpy(dScore, q, query, dk, key, headDim);
        }
    }
}
