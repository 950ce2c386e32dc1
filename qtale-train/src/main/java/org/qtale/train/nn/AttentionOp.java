package org.qtale.train.nn;

import java.util.Arrays;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/**
 * Causal grouped-query attention over {@code batch} sequences of {@code seqLen} tokens, with an optional per-key
 * mask applied as D-LLM's training code does: after the softmax,
 * {@code P'[i][j] = P[i][j] · m[j] / (Σ_k P[i][k] · m[k] + ε)}, with a gradient into the mask (D-LLM's ε is 1e-6;
 * with a key that is never masked, ε = 0 makes it exactly the engine's −∞ mask). Rows are laid out
 * {@code n = b · seqLen + i}; q has {@code heads · headDim} columns, k and v {@code kvHeads · headDim}.
 *
 * <p>Each head is computed as whole-matrix products on {@link Gemm} ({@code S = Q Kᵀ}, {@code O = P' V} and, backward,
 * {@code dP = dO Vᵀ}, {@code dV = P'ᵀ dO}, {@code dQ = dS K}, {@code dK = dSᵀ Q}) over head slices copied into
 * contiguous scratch, so a short head costs no per-key calls; the causal products run by blocks of four rows over
 * the part at or below the diagonal only.
 */
public final class AttentionOp {
    /** D-LLM's ε, which keeps a row whose keys are all masked finite. */
    public static final float MASK_EPSILON = 1e-6f;

    private final int batch;
    private final int seqLen;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;
    private final float maskEpsilon;

    public AttentionOp(int batch, int seqLen, int heads, int kvHeads, int headDim) {
        this(batch, seqLen, heads, kvHeads, headDim, MASK_EPSILON);
    }

    public AttentionOp(int batch, int seqLen, int heads, int kvHeads, int headDim, float maskEpsilon) {
        this.batch = batch;
        this.seqLen = seqLen;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.maskEpsilon = maskEpsilon;
    }

    /** Floats of the saved softmax probabilities. */
    public int probsSize() {
        return batch * heads * seqLen * seqLen;
    }

    /** Floats of the saved mask normalizers. */
    public int normsSize() {
        return batch * heads * seqLen;
    }

    /** Per-task buffers: head slices (row-major {@code [seqLen][headDim]}), transposed slices and score matrices. */
    private final class Scratch {
        final float[] head = new float[seqLen * headDim];
        final float[] keys = new float[seqLen * headDim];
        final float[] keysT = new float[seqLen * headDim];
        final float[] values = new float[seqLen * headDim];
        final float[] valuesT = new float[seqLen * headDim];
        final float[] grad = new float[seqLen * headDim];
        final float[] gradKeys = new float[seqLen * headDim];
        final float[] gradValues = new float[seqLen * headDim];
        final float[] scores = new float[seqLen * seqLen];
        final float[] weights = new float[seqLen * seqLen];
        final float[] lanes = VectorOps.laneScratch();
    }

    /**
     * Computes {@code out} and saves the softmax probabilities {@code probs} (before the mask) and, with a mask, the
     * normalizers {@code norms}; {@code keyMask} (one value per row) may be null.
     */
    public void forward(Parallel parallel, float[] out, float[] probs, float[] norms, float[] q, float[] k, float[] v,
            float[] keyMask) {
        parallel.forRange(batch * heads, (start, end) -> {
            Scratch s = new Scratch();
            for (int task = start; task < end; task++) {
                forwardHead(out, probs, norms, q, k, v, keyMask, task / heads, task % heads, s);
            }
        });
    }

    private void forwardHead(float[] out, float[] probs, float[] norms, float[] q, float[] k, float[] v,
            float[] keyMask, int b, int h, Scratch s) {
        int g = h / (heads / kvHeads);
        gather(q, heads, b, h, s.head);
        gather(k, kvHeads, b, g, s.keys);
        transpose(s.keys, s.keysT);
        gather(v, kvHeads, b, g, s.values);
        Arrays.fill(s.scores, 0f);
        scoresBelowDiagonal(s.head, s.keysT, s.scores);
        for (int i = 0; i < seqLen; i++) {
            int p = probsOffset(b, h, i);
            int n = i + 1;
            for (int j = 0; j < n; j++) {
                probs[p + j] = s.scores[i * seqLen + j] * scale;
            }
            VectorOps.softmax(probs, p, n, s.lanes);
            int row = i * seqLen;
            System.arraycopy(probs, p, s.weights, row, n);
            Arrays.fill(s.weights, row + n, row + seqLen, 0f);
            if (keyMask != null) {
                double kept = 0;
                for (int j = 0; j < n; j++) {
                    kept += probs[p + j] * keyMask[b * seqLen + j];
                }
                float norm = (float) kept + maskEpsilon;
                norms[(b * heads + h) * seqLen + i] = norm;
                for (int j = 0; j < n; j++) {
                    s.weights[row + j] = probs[p + j] * keyMask[b * seqLen + j] / norm;
                }
            }
        }
        Arrays.fill(s.grad, 0f);
        rowsTimesCausal(s.weights, s.values, s.grad);
        scatter(s.grad, out, heads, b, h, false);
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
            Scratch s = new Scratch();
            int group = heads / kvHeads;
            for (int task = start; task < end; task++) {
                int b = task / kvHeads;
                int g = task % kvHeads;
                gather(k, kvHeads, b, g, s.keys);
                gather(v, kvHeads, b, g, s.values);
                transpose(s.values, s.valuesT);
                Arrays.fill(s.gradKeys, 0f);
                Arrays.fill(s.gradValues, 0f);
                for (int h = g * group; h < (g + 1) * group; h++) {
                    backwardHead(dq, maskParts, task, dout, probs, norms, q, keyMask, b, h, s);
                }
                scatter(s.gradKeys, dk, kvHeads, b, g, true);
                scatter(s.gradValues, dv, kvHeads, b, g, true);
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

    private void backwardHead(float[] dq, float[] maskParts, int task, float[] dout, float[] probs, float[] norms,
            float[] q, float[] keyMask, int b, int h, Scratch s) {
        // P' (the weights the forward pass used), row by row, zero above the diagonal
        for (int i = 0; i < seqLen; i++) {
            int p = probsOffset(b, h, i);
            int row = i * seqLen;
            int n = i + 1;
            float norm = keyMask == null ? 1 : norms[(b * heads + h) * seqLen + i];
            for (int j = 0; j < n; j++) {
                s.weights[row + j] = keyMask == null ? probs[p + j] : probs[p + j] * keyMask[b * seqLen + j] / norm;
            }
            Arrays.fill(s.weights, row + n, row + seqLen, 0f);
        }
        gather(dout, heads, b, h, s.grad);
        // dP' = dO Vᵀ and dV += P'ᵀ dO
        Arrays.fill(s.scores, 0f);
        scoresBelowDiagonal(s.grad, s.valuesT, s.scores);
        columnsTimesCausal(s.weights, s.grad, s.gradValues);
        for (int i = 0; i < seqLen; i++) {
            scoreGradientRow(maskParts, task, probs, norms, keyMask, b, h, i, s);
        }
        // dQ = dS K and dK += dSᵀ Q (dS holds the score scale already)
        gather(q, heads, b, h, s.head);
        Arrays.fill(s.grad, 0f);
        rowsTimesCausal(s.scores, s.keys, s.grad);
        scatter(s.grad, dq, heads, b, h, true);
        columnsTimesCausal(s.scores, s.head, s.gradKeys);
    }

    /**
     * Turns row i of {@code s.scores} from dP' into dS: through the renormalized mask
     * ({@code dP[j] = m[j] / S · (dP'[j] − Σ dP'·P')}, {@code dm[j] += P[j] / S · (same)}), then through the softmax
     * ({@code dS[j] = P[j] · (dP[j] − Σ P·dP)}), times the score scale; zero above the diagonal.
     */
    private void scoreGradientRow(float[] maskParts, int task, float[] probs, float[] norms, float[] keyMask, int b,
            int h, int i, Scratch s) {
        int p = probsOffset(b, h, i);
        int row = i * seqLen;
        int n = i + 1;
        float[] d = s.scores;
        if (keyMask != null) {
            float norm = norms[(b * heads + h) * seqLen + i];
            double weighted = 0;
            for (int j = 0; j < n; j++) {
                weighted += (double) d[row + j] * s.weights[row + j];
            }
            for (int j = 0; j < n; j++) {
                float centered = (float) (d[row + j] - weighted) / norm;
                if (maskParts != null) {
                    maskParts[task * seqLen + j] += probs[p + j] * centered;
                }
                d[row + j] = keyMask[b * seqLen + j] * centered;
            }
        }
        double expected = 0;
        for (int j = 0; j < n; j++) {
            expected += (double) probs[p + j] * d[row + j];
        }
        for (int j = 0; j < n; j++) {
            d[row + j] = probs[p + j] * (d[row + j] - (float) expected) * scale;
        }
        Arrays.fill(d, row + n, row + seqLen, 0f);
    }

    /*
     * The three causal product shapes, by blocks of four rows so that nothing far above the diagonal is computed
     * (a block's last vector of columns may reach a little past it; those entries are never read).
     */

    /** {@code S[i][j] = Σ_d X[i][d] · Yᵀ[d][j]} for {@code j ≤ i} (and a few more), X {@code [seqLen][headDim]}. */
    private void scoresBelowDiagonal(float[] x, float[] yT, float[] scores) {
        for (int i0 = 0; i0 < seqLen; i0 += 4) {
            int i1 = Math.min(seqLen, i0 + 4);
            int width = Math.min(seqLen, (i1 + Gemm.LANES - 1) / Gemm.LANES * Gemm.LANES);
            Gemm.accumulate(i0, i1, width, 0, headDim, x, headDim, 1, yT, seqLen, scores, seqLen);
        }
    }

    /** {@code out[i][d] += Σ_{j ≤ i} M[i][j] · Y[j][d]} for a lower-triangular M. */
    private void rowsTimesCausal(float[] m, float[] y, float[] out) {
        for (int i0 = 0; i0 < seqLen; i0 += 4) {
            int i1 = Math.min(seqLen, i0 + 4);
            Gemm.accumulate(i0, i1, headDim, 0, i1, m, seqLen, 1, y, headDim, out, headDim);
        }
    }

    /** {@code out[j][d] += Σ_{i ≥ j} M[i][j] · Y[i][d]} (Mᵀ Y) for a lower-triangular M. */
    private void columnsTimesCausal(float[] m, float[] y, float[] out) {
        for (int j0 = 0; j0 < seqLen; j0 += 4) {
            int j1 = Math.min(seqLen, j0 + 4);
            Gemm.accumulate(j0, j1, headDim, j0, seqLen, m, 1, seqLen, y, headDim, out, headDim);
        }
    }

    private int probsOffset(int b, int h, int i) {
        return ((b * heads + h) * seqLen + i) * seqLen;
    }

    /** Copies head {@code h} (of {@code count} per row) of sequence {@code b} into {@code dst} as {@code [seqLen][headDim]}. */
    private void gather(float[] src, int count, int b, int h, float[] dst) {
        int width = count * headDim;
        for (int j = 0; j < seqLen; j++) {
            System.arraycopy(src, (b * seqLen + j) * width + h * headDim, dst, j * headDim, headDim);
        }
    }

    /** Writes (or adds) {@code src} ({@code [seqLen][headDim]}) into head {@code h} of sequence {@code b}. */
    private void scatter(float[] src, float[] dst, int count, int b, int h, boolean add) {
        int width = count * headDim;
        for (int j = 0; j < seqLen; j++) {
            int o = (b * seqLen + j) * width + h * headDim;
            if (add) {
                VectorOps.add(src, j * headDim, dst, o, headDim);
            } else {
                System.arraycopy(src, j * headDim, dst, o, headDim);
            }
        }
    }

    /** {@code [seqLen][headDim]} to {@code [headDim][seqLen]}. */
    private void transpose(float[] src, float[] dst) {
        for (int j = 0; j < seqLen; j++) {
            for (int d = 0; d < headDim; d++) {
                dst[d * seqLen + j] = src[j * headDim + d];
            }
        }
    }
}
