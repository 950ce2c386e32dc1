package org.qtale.quant.algo;

import org.qtale.QtaleException;
import org.qtale.tensor.Parallel;

/**
 * The GPTQ Hessian of one linear layer's inputs, {@code H = (2/n)·Σ_s X_sᵀ X_s} over the {@code n} calibration
 * samples {@code X_s} (tokens × columns), kept in double as a running average exactly as the reference
 * {@code add_batch}:
 *
 * <pre>
 * H ← H · n / (n + b);  n ← n + b;  H ← H + (2/n) · Σ_{tokens t of the batch} x_t x_tᵀ
 * </pre>
 *
 * where a batch holds {@code b} samples (sequences) and {@code n} counts samples, not tokens. The scale of H does
 * not matter to GPTQ (its damping is relative) nor to MagR (which divides by the largest eigenvalue); the
 * coordinate-descent refinement after MagR needs the unnormalized {@link #gram()} {@code Σ_s X_sᵀ X_s = H·n/2}.
 *
 * <p>Deviation: the reference accumulates in fp32; this accumulates in double.
 */
public final class Hessian {
    /** Tokens converted to double per product. */
    private static final int TOKEN_BLOCK = 256;
    /** Rows of H per product: the upper triangle is covered by row blocks that start at their diagonal. */
    private static final int ROW_BLOCK = 128;

    private final int columns;
    private final double[] h;
    private int samples;

    public Hessian(int columns) {
        if (columns < 1) {
            throw new QtaleException("A Hessian needs at least one column, got " + columns + ".");
        }
        this.columns = columns;
        this.h = new double[columns * columns];
    }

    public int columns() {
        return columns;
    }

    /** The number of samples (sequences) added so far. */
    public int samples() {
        return samples;
    }

    /** Adds one sample: {@code x} holds {@code tokens} rows of {@link #columns()} inputs, row-major. */
    public void add(float[] x, int tokens) {
        add(x, tokens, 1);
    }

    /** Adds one sample given as {@code x[token][column]}. */
    public void add(float[][] x) {
        add(Weights.flatten(x), x.length, 1);
    }

    /** Adds a batch of {@code batchSamples} samples whose {@code tokens} rows (all of them) are in {@code x}. */
    public void add(float[] x, int tokens, int batchSamples) {
        add(x, tokens, batchSamples, MatrixKernels.SEQUENTIAL);
    }

    /**
     * {@link #add(float[], int, int)} with the rows of H split across {@code parallel}: the upper triangle gets
     * {@code (2/n) · X_bᵀ X_b} for blocks {@code X_b} of tokens, one product per block.
     */
    public void add(float[] x, int tokens, int batchSamples, Parallel parallel) {
        checkBatch(x, tokens, batchSamples);
        decay(batchSamples);
        double weight = 2.0 / samples;
        int block = Math.min(tokens, TOKEN_BLOCK);
        double[] minusWeightedT = new double[columns * block];
        double[] inputs = new double[block * columns];
        for (int t0 = 0; t0 < tokens; t0 += block) {
            int count = Math.min(block, tokens - t0);
            for (int t = 0; t < count; t++) {
                int row = (t0 + t) * columns;
                for (int i = 0; i < columns; i++) {
                    inputs[t * columns + i] = x[row + i];
                    minusWeightedT[i * count + t] = -(weight * x[row + i]);
                }
            }
            parallel.forRange(columns, ROW_BLOCK, (from, to) -> {
                for (int i0 = from; i0 < to; i0 += ROW_BLOCK) {
                    int i1 = Math.min(to, i0 + ROW_BLOCK);
                    MatrixKernels.multiplySubtract(minusWeightedT, i0 * count, count, inputs, i0, columns, h,
                            i0 * columns + i0, columns, i1 - i0, count, columns - i0);
                }
            });
        }
        MatrixKernels.mirrorUpperToLower(h, columns, parallel);
    }

    /** The unvectorized single-threaded {@link #add(float[], int, int)}, one outer product per token. */
    void addReference(float[] x, int tokens, int batchSamples) {
        checkBatch(x, tokens, batchSamples);
        decay(batchSamples);
        double weight = 2.0 / samples;
        for (int t = 0; t < tokens; t++) {
            addOuterProductUpper(x, t * columns, weight);
        }
        for (int i = 0; i < columns; i++) {
            for (int j = 0; j < i; j++) {
                h[i * columns + j] = h[j * columns + i];
            }
        }
    }

    private void checkBatch(float[] x, int tokens, int batchSamples) {
        if (tokens < 0 || x.length != tokens * columns) {
            throw new QtaleException("Calibration inputs of " + x.length + " values are not " + tokens + " tokens of "
                    + columns + " columns.");
        }
        if (batchSamples < 1) {
            throw new QtaleException("A calibration batch needs at least one sample, got " + batchSamples + ".");
        }
    }

    /** {@code H ← H · n / (n + b);  n ← n + b}. */
    private void decay(int batchSamples) {
        double decay = (double) samples / (samples + batchSamples);
        for (int i = 0; i < h.length; i++) {
            h[i] *= decay;
        }
        samples += batchSamples;
    }

    /** A copy of H, row-major {@code columns × columns}. */
    public double[] matrix() {
        return h.clone();
    }

    /** {@code Σ_s X_sᵀ X_s = H · n / 2}, the unnormalized input Gram matrix (MagR's {@code XtX}). */
    public double[] gram() {
        double[] g = h.clone();
        double scale = samples / 2.0;
        for (int i = 0; i < g.length; i++) {
            g[i] *= scale;
        }
        return g;
    }

    /** {@code H[i][j] += weight · x_i x_j} for {@code j ≥ i}. */
    private void addOuterProductUpper(float[] x, int offset, double weight) {
        for (int i = 0; i < columns; i++) {
            double xi = weight * x[offset + i];
            if (xi == 0) {
                continue;
            }
            int row = i * columns;
            for (int j = i; j < columns; j++) {
                h[row + j] += xi * x[offset + j];
            }
        }
    }
}
