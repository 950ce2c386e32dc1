package org.qtale.quant.algo;

import java.util.Comparator;
import java.util.stream.IntStream;
import org.qtale.QtaleException;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.tensor.Parallel;

/**
 * GPTQ (Frantar et al., ICLR 2023; {@code gptq.py::fasterquant} of IST-DASLab/gptq, with AutoGPTQ's static groups).
 * Every row {@code w} of W solves {@code min_q ‖X wᵀ − X qᵀ‖²} column by column: when column {@code i} is rounded to
 * {@code q_i} on its grid, the columns not yet quantized absorb the error through the OBS update
 *
 * <pre>
 * err = (w_i − q_i) / U_ii;   w_{i:} ← w_{i:} − err · U_{i, i:}
 * </pre>
 *
 * where {@code U} is the upper Cholesky factor of {@code H⁻¹} ({@code H⁻¹ = Uᵀ U}): row {@code i} of U from column
 * {@code i} on is {@code (H_F⁻¹)_{i,i:} / √[H_F⁻¹]_ii} for the inverse of H restricted to the columns
 * {@code F = {i..K−1}} still free, so one factorization replaces the OBS inverse downdates. Preparation:
 *
 * <ol>
 *   <li>per-channel grids ({@code groupSize = -1} or {@code cols}) are fitted on the input weights, before anything
 *       else, as the reference's {@code find_params(W)};</li>
 *   <li>dead columns ({@code H_jj = 0}: inputs that were always 0) get {@code H_jj = 1} and {@code W_{:,j} = 0};</li>
 *   <li>static groups: every group of {@code g} original columns gets its grid now, from W after step 2;</li>
 *   <li>act-order: columns and H are permuted by descending {@code diag H};</li>
 *   <li>damping {@code H += dampPercent · mean(diag H) · I}; {@code U = chol(chol_inverse(chol(H)))ᵀ}.</li>
 * </ol>
 *
 * The columns are then processed in lazy blocks of {@code blockSize}: inside a block the OBS update touches only the
 * block's copy {@code W1}; at the end of the block the remaining columns get {@code W_{:, i2:} −= Err1 · U_{i1:i2,
 * i2:}} in one product. Dynamic groups (not static) get their grid when the loop reaches their first column, from
 * {@code W_{:, i:i+g}} — the weights updated by earlier blocks but, as in the reference, not by earlier columns of
 * the same block (only matters when {@code g} is not a multiple of {@code blockSize}). With act-order, dynamic groups
 * are runs of {@code g} consecutive permuted columns and the result carries the group of every original column
 * ({@code g_idx}); static groups keep {@code group = column / g} and no index.
 *
 * <p>Every row of W is quantized independently given U, so the rows of each block are split across the threads of a
 * {@link Parallel} (the result does not depend on the split).
 *
 * <p>Deviations from the reference: H and U are double (the reference uses fp32; W stays float as there, and the lazy
 * block update is summed in double before it is subtracted); ties in the act-order sort keep the original column
 * order (a stable sort; {@code torch.argsort} does not promise one); a Cholesky failure ends with a
 * {@link QtaleException} as the reference raises (no automatic retry with more damping).
 */
public final class Gptq {
    private final int rows;
    private final int cols;
    private final int groupSize;
    private final GridRule rule;
    private final GptqOptions options;
    private final Parallel parallel;
    private final boolean perChannel;
    private final boolean dynamicGroups;
    private final float[] w;
    private final double[] u;
    private final int[] perm;
    private final QuantGrid[][] grids;
    private final byte[] codes;
    /** The loss of every row, summed in row order at the end so that the total does not depend on the threads. */
    private final double[] rowLoss;

    /** {@code hessian} is not modified unless {@code owned} (a copy made for this run, which then becomes scratch). */
    private Gptq(float[][] weights, double[] hessian, boolean owned, GridRule rule, GptqOptions options,
            Parallel parallel) {
        this.cols = Weights.columns(weights);
        this.rows = weights.length;
        if (hessian.length != cols * cols) {
            throw new QtaleException("The Hessian has " + hessian.length + " entries for " + cols + " input columns.");
        }
        this.groupSize = Weights.groupSize(options.groupSize(), cols);
        this.rule = rule;
        this.options = options;
        this.parallel = parallel;
        this.perChannel = groupSize == cols;
        this.dynamicGroups = !perChannel && !options.staticGroups();
        this.grids = new QuantGrid[rows][cols / groupSize];
        this.codes = new byte[rows * cols];
        this.rowLoss = new double[rows];

        float[] original = Weights.flatten(weights);
        // at 8192 inputs each n × n copy is 512 MB: make only the ones the steps need
        double[] h = owned ? hessian : hessian.clone();
        if (perChannel) {
            fitGroups(original);
        }
        zeroDeadColumns(original, h);
        if (!perChannel && options.staticGroups()) {
            fitGroups(original);
        }
        this.perm = options.actOrder() ? descendingDiagonalOrder(h) : IntStream.range(0, cols).toArray();
        this.w = permuteColumns(original);
        double[] permuted = options.actOrder() ? permuteSymmetric(h) : h;
        addDamping(permuted, options.dampPercent());
        try {
            this.u = Cholesky.upperFactorOfInverse(permuted, cols, parallel);
        } catch (QtaleException e) {
            throw new QtaleException("GPTQ cannot factor the damped Hessian: " + e.getMessage()
                    + " Increase the damping or the calibration data.", e);
        }
    }

    /** GPTQ on the statistics of {@code hessian}. */
    public static GptqResult quantize(float[][] weights, Hessian hessian, GridRule rule, GptqOptions options) {
        return quantize(weights, hessian, rule, options, MatrixKernels.SEQUENTIAL);
    }

    /** GPTQ with {@code hessian} the row-major {@code cols × cols} H (not modified). */
    public static GptqResult quantize(float[][] weights, double[] hessian, GridRule rule, GptqOptions options) {
        return quantize(weights, hessian, rule, options, MatrixKernels.SEQUENTIAL);
    }

    /** GPTQ on the statistics of {@code hessian}, with the factorization and the rows split across {@code parallel}. */
    public static GptqResult quantize(float[][] weights, Hessian hessian, GridRule rule, GptqOptions options,
            Parallel parallel) {
        return new Gptq(weights, hessian.matrix(), true, rule, options, parallel).run();
    }

    /** GPTQ with {@code hessian} the row-major {@code cols × cols} H (not modified). */
    public static GptqResult quantize(float[][] weights, double[] hessian, GridRule rule, GptqOptions options,
            Parallel parallel) {
        return new Gptq(weights, hessian, false, rule, options, parallel).run();
    }

    private GptqResult run() {
        for (int i1 = 0; i1 < cols; i1 += options.blockSize()) {
            int first = i1;
            int i2 = Math.min(i1 + options.blockSize(), cols);
            parallel.forRange(rows, 4, (from, to) -> {
                double[] err = new double[(to - from) * (i2 - first)];
                for (int r = from; r < to; r++) {
                    quantizeBlock(r, first, i2, err, (r - from) * (i2 - first));
                }
                propagateBlockError(err, from, to, first, i2);
            });
        }
        double loss = 0;
        for (double l : rowLoss) {
            loss += l;
        }
        int[] groupIndex = dynamicGroups && options.actOrder() ? permutedGroupIndex() : null;
        QuantizedMatrix matrix = Weights.assemble(rule.bits(), groupSize, codes, grids, groupIndex);
        return new GptqResult(matrix, loss);
    }

    /**
     * Quantizes columns {@code [i1, i2)} of row {@code r} with OBS updates inside the block, on a copy {@code w1} of
     * the row's block; its {@code Err1} goes to {@code err[at, at + i2 − i1)}.
     */
    private void quantizeBlock(int r, int i1, int i2, double[] err, int at) {
        int count = i2 - i1;
        float[] w1 = new float[count];
        System.arraycopy(w, r * cols + i1, w1, 0, count);
        for (int i = 0; i < count; i++) {
            int col = i1 + i;
            if (dynamicGroups && col % groupSize == 0) {
                grids[r][col / groupSize] = rule.fit(w, r * cols + col, r * cols + col + groupSize);
            }
            double d = u[col * cols + col];
            float x = w1[i];
            QuantGrid grid = gridOf(r, col);
            int code = grid.code(x);
            codes[r * cols + perm[col]] = (byte) code;
            double e = (x - grid.value(code)) / d;
            rowLoss[r] += e * e / 2;
            err[at + i] = e;
            MatrixKernels.subtractScaledFromFloats(w1, e, u, col * cols + i1, i + 1, count);
        }
    }

    /** The lazy batch update {@code W[from:to, i2:] −= Err1 · U[i1:i2, i2:]}. */
    private void propagateBlockError(double[] err, int from, int to, int i1, int i2) {
        int count = i2 - i1;
        MatrixKernels.multiplySubtractFromFloats(err, 0, count, u, i1 * cols + i2, cols, w, from * cols + i2, cols,
                to - from, count, cols - i2);
    }

    private QuantGrid gridOf(int row, int permutedCol) {
        if (perChannel) {
            return grids[row][0];
        }
        return grids[row][(dynamicGroups ? permutedCol : perm[permutedCol]) / groupSize];
    }

    /** {@code g_idx}: the group of every original column is its permuted position over g. */
    private int[] permutedGroupIndex() {
        int[] groupIndex = new int[cols];
        for (int p = 0; p < cols; p++) {
            groupIndex[perm[p]] = p / groupSize;
        }
        return groupIndex;
    }

    /** Grids of consecutive groups of the unpermuted weights {@code flat}. */
    private void fitGroups(float[] flat) {
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols / groupSize; k++) {
                grids[r][k] = rule.fit(flat, r * cols + k * groupSize, r * cols + (k + 1) * groupSize);
            }
        }
    }

    private void zeroDeadColumns(float[] flat, double[] h) {
        for (int j = 0; j < cols; j++) {
            if (h[j * cols + j] == 0) {
                h[j * cols + j] = 1;
                for (int r = 0; r < rows; r++) {
                    flat[r * cols + j] = 0;
                }
            }
        }
    }

    /** Column indices by descending {@code H_jj}, ties in index order. */
    private int[] descendingDiagonalOrder(double[] h) {
        return IntStream.range(0, cols).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> h[j * cols + j]).reversed())
                .mapToInt(Integer::intValue).toArray();
    }

    private float[] permuteColumns(float[] flat) {
        float[] out = new float[flat.length];
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < cols; p++) {
                out[r * cols + p] = flat[r * cols + perm[p]];
            }
        }
        return out;
    }

    private double[] permuteSymmetric(double[] h) {
        double[] out = new double[h.length];
        for (int p = 0; p < cols; p++) {
            for (int q = 0; q < cols; q++) {
                out[p * cols + q] = h[perm[p] * cols + perm[q]];
            }
        }
        return out;
    }

    private void addDamping(double[] h, double dampPercent) {
        double trace = 0;
        for (int j = 0; j < cols; j++) {
            trace += h[j * cols + j];
        }
        double damp = dampPercent * trace / cols;
        for (int j = 0; j < cols; j++) {
            h[j * cols + j] += damp;
        }
    }
}
