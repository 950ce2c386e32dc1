package org.qtale.quant.algo;

import java.util.SplittableRandom;
import org.qtale.QtaleException;
import org.qtale.tensor.Parallel;

/**
 * MagR, weight magnitude reduction (Zhang, Wang, Deng, Li, Yang, Yin, NeurIPS 2024; AozhongZhang/MagR
 * {@code MagR.py}): a preprocessing step that replaces every row {@code ŵ} of W (one output channel over the K
 * inputs) by the solution of the ℓ∞-regularized least-squares problem
 *
 * <pre>
 * min_w ½‖X w − X ŵ‖² + α‖w‖∞      (per group of columns: α Σ_groups ‖w_group‖∞)
 * </pre>
 *
 * by proximal gradient with step {@code η = 1/λ_max(XᵀX)}. With {@code G = XᵀX / λ_max(XᵀX)} (λ_max(G) = 1, η = 1):
 *
 * <pre>
 * w ← prox_{α‖·‖∞}( w − G (w − ŵ) )
 * </pre>
 *
 * with the prox of {@link LInfinityProx} (applied to each group independently in the per-group variant). Because X
 * is nearly rank-deficient the output barely changes ({@code O(√α)}) while the largest weights shrink, so a
 * min-max grid gets finer.
 *
 * <p>Deviations from the released code (snapshot ed40ef0):
 * <ul>
 *   <li>G comes from the {@link Hessian} of <em>all</em> calibration samples; the code overwrites {@code self.X} on
 *       every {@code add_batch} and so uses only the last sample (its comment: "this is one sample"). The problem is
 *       the same up to that data choice; H's scale cancels in the normalization.</li>
 *   <li>The code normalizes X by its largest singular value via an SVD; {@code (X/σ_max)ᵀ(X/σ_max) = XᵀX/λ_max}
 *       exactly, so λ_max is found by power iteration on H instead. Power iteration approaches λ_max from below, so
 *       the step is at most slightly above 1/λ_max (proximal gradient stays convergent for steps below 2/λ_max).</li>
 *   <li>Arithmetic is double (the code is fp32).</li>
 * </ul>
 */
public final class Magr {
    private static final int ROW_TILE = 64;
    private static final int POWER_ITERATIONS = 1000;
    private static final double POWER_TOLERANCE = 1e-12;

    private Magr() {
    }

    /**
     * The preprocessed weights.
     *
     * @param hessian row-major {@code cols × cols} {@code XᵀX} up to a positive factor (GPTQ's H or the Gram matrix)
     */
    public static float[][] preprocess(float[][] weights, double[] hessian, MagrOptions options) {
        return preprocess(weights, hessian, options, MatrixKernels.SEQUENTIAL);
    }

    /** {@link #preprocess(float[][], double[], MagrOptions)} with tiles of rows split across {@code parallel}. */
    public static float[][] preprocess(float[][] weights, double[] hessian, MagrOptions options, Parallel parallel) {
        int cols = Weights.columns(weights);
        if (hessian.length != cols * cols) {
            throw new QtaleException("The Hessian has " + hessian.length + " entries for " + cols + " input columns.");
        }
        int groupSize = Weights.groupSize(options.groupSize(), cols);
        double lambdaMax = largestEigenvalue(hessian, cols);
        if (!(lambdaMax > 0)) {
            throw new QtaleException("MagR needs calibration inputs that are not all zero.");
        }
        double[] g = hessian.clone();
        for (int i = 0; i < g.length; i++) {
            g[i] /= lambdaMax;
        }
        float[][] out = new float[weights.length][];
        parallel.forRange(weights.length, ROW_TILE, (start, end) -> {
            for (int from = start; from < end; from += ROW_TILE) {
                preprocessRows(weights, from, Math.min(end, from + ROW_TILE), g, groupSize, options, out);
            }
        });
        return out;
    }

    /**
     * Proximal gradient for rows {@code [from, to)}: {@code w ← prox(w − G (w − ŵ))}, starting from {@code ŵ}. The
     * rows of a tile share every pass over G ({@code G (w − ŵ)} is one product for the tile), so G streams from memory
     * once per tile and iteration, not once per row.
     */
    private static void preprocessRows(float[][] weights, int from, int to, double[] g, int groupSize,
            MagrOptions options, float[][] out) {
        int rows = to - from;
        int cols = weights[from].length;
        double[] target = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                target[r * cols + j] = weights[from + r][j];
            }
        }
        double[] w = target.clone();
        double[] next = new double[rows * cols];
        double[] difference = new double[rows * cols];
        for (int iteration = 0; iteration < options.iterations(); iteration++) {
            for (int i = 0; i < w.length; i++) {
                difference[i] = w[i] - target[i];
            }
            System.arraycopy(w, 0, next, 0, w.length);
            // next −= (w − ŵ) G, row by row the same as G (w − ŵ) for the symmetric G
            MatrixKernels.multiplySubtract(difference, 0, cols, g, 0, cols, next, 0, cols, rows, cols, cols);
            for (int r = 0; r < rows; r++) {
                for (int group = 0; group < cols; group += groupSize) {
                    LInfinityProx.prox(next, r * cols + group, r * cols + group + groupSize, options.alpha());
                }
            }
            double[] swap = w;
            w = next;
            next = swap;
        }
        for (int r = 0; r < rows; r++) {
            out[from + r] = new float[cols];
            for (int j = 0; j < cols; j++) {
                out[from + r][j] = (float) w[r * cols + j];
            }
        }
    }

    /**
     * The largest eigenvalue of the symmetric positive semi-definite {@code n × n} matrix {@code a}, by power
     * iteration from a fixed pseudo-random start; the Rayleigh quotient of the last iterate (never above λ_max).
     */
    public static double largestEigenvalue(double[] a, int n) {
        SplittableRandom random = new SplittableRandom(0x6D61_6752L);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 1 + random.nextDouble();
        }
        normalize(v);
        double[] av = new double[n];
        double lambda = 0;
        for (int iteration = 0; iteration < POWER_ITERATIONS; iteration++) {
            multiply(a, v, av);
            double rayleigh = dot(av, 0, v, n);
            double norm = Math.sqrt(dot(av, 0, av, n));
            if (norm == 0) {
                return 0;
            }
            for (int i = 0; i < n; i++) {
                v[i] = av[i] / norm;
            }
            boolean converged = Math.abs(rayleigh - lambda) <= POWER_TOLERANCE * Math.abs(rayleigh);
            lambda = rayleigh;
            if (converged) {
                break;
            }
        }
        return lambda;
    }

    private static void multiply(double[] a, double[] v, double[] out) {
        int n = v.length;
        for (int i = 0; i < n; i++) {
            out[i] = dot(a, i * n, v, n);
        }
    }

    private static void normalize(double[] v) {
        double norm = Math.sqrt(dot(v, 0, v, v.length));
        for (int i = 0; i < v.length; i++) {
            v[i] /= norm;
        }
    }

    private static double dot(double[] a, int offset, double[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[offset + i] * b[i];
        }
        return s;
    }
}
