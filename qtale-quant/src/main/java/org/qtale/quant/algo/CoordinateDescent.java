package org.qtale.quant.algo;

import org.qtale.QtaleException;
import org.qtale.quant.QuantizedMatrix;

/**
 * The coordinate-descent refinement that the released MagR code runs after GPTQ (after COMQ; {@code optq.py}, the
 * loop after {@code fasterquant}'s main loop). With {@code S = Σ XᵀX} (the unnormalized {@link Hessian#gram()}),
 * {@code m = mean(diag S)} and {@code D_j = S_jj + 0.75·m}, every pass visits the columns in order (Gauss–Seidel) and
 * re-rounds each one towards the <em>original</em> weights ŵ:
 *
 * <pre>
 * u_j = ( Σ_i S_ij ŵ_i + 0.75·m·ŵ_j − Σ_{i≠j} S_ij q_i ) / (D_j + 0.1);    q_j = quantize(u_j)
 * </pre>
 *
 * with {@code q_i} the newest value of column i. Without the damping this is the exact minimizer of
 * {@code ‖X(ŵ − q)‖²} over coordinate j; the damping pulls {@code u_j} towards ŵ_j. The constant 0.1 is in units of
 * S, so S must be the raw sum over all calibration tokens, as in the code.
 *
 * <p>Deviation: every column keeps the grid GPTQ gave it. The code does the same per channel, but with groups it
 * refits each group's grid when the pass reaches the group, from the GPTQ codes' values with β applied again (which
 * shrinks the grid once more), in contiguous column order even after act-order, and with static groups under
 * act-order it picks group {@code perm[j]/g} for original column j. Keeping the grids keeps the result consistent
 * with its {@code g_idx}.
 */
public final class CoordinateDescent {
    private static final double DIAGONAL_DAMPING = 0.75;
    private static final double DENOMINATOR_OFFSET = 0.1;

    private CoordinateDescent() {
    }

    /**
     * {@code passes} Gauss–Seidel passes over {@code quantized}, towards {@code target}, keeping every grid.
     *
     * @param gram row-major {@code cols × cols} {@code Σ XᵀX}
     */
    public static QuantizedMatrix refine(QuantizedMatrix quantized, float[][] target, double[] gram, int passes) {
        int rows = quantized.rows();
        int cols = quantized.cols();
        if (target.length != rows || Weights.columns(target) != cols || gram.length != cols * cols) {
            throw new QtaleException("The refinement target or Gram matrix does not fit a " + rows + "x" + cols
                    + " quantized matrix.");
        }
        double damping = DIAGONAL_DAMPING * meanDiagonal(gram, cols);
        byte[] codes = quantized.codes().clone();
        for (int r = 0; r < rows; r++) {
            refineRow(quantized, r, target[r], gram, damping, passes, codes);
        }
        return new QuantizedMatrix(rows, cols, quantized.bits(), quantized.groupSize(), codes, quantized.scales(),
                quantized.zeros(), quantized.groupIndex());
    }

    private static void refineRow(QuantizedMatrix m, int r, float[] target, double[] s, double damping, int passes,
            byte[] codes) {
        int cols = m.cols();
        double[] q = new double[cols];
        double[] pull = new double[cols];
        for (int j = 0; j < cols; j++) {
            q[j] = m.dequantize(r, j);
        }
        for (int j = 0; j < cols; j++) {
            double sum = damping * target[j];
            for (int i = 0; i < cols; i++) {
                sum += s[j * cols + i] * target[i];
            }
            pull[j] = sum;
        }
        for (int pass = 0; pass < passes; pass++) {
            for (int j = 0; j < cols; j++) {
                double others = 0;
                for (int i = 0; i < cols; i++) {
                    others += i == j ? 0 : s[j * cols + i] * q[i];
                }
                double denominator = s[j * cols + j] + damping + DENOMINATOR_OFFSET;
                QuantGrid grid = Weights.grid(m, r, m.group(j));
                int code = grid.code((float) ((pull[j] - others) / denominator));
                codes[r * cols + j] = (byte) code;
                q[j] = grid.value(code);
            }
        }
    }

    private static double meanDiagonal(double[] a, int n) {
        double trace = 0;
        for (int j = 0; j < n; j++) {
            trace += a[j * n + j];
        }
        return trace / n;
    }
}
