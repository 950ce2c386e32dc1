package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.quant.QuantizedMatrix;

/**
 * MagR on an LLM-like synthetic layer: weights of std 0.02 with a few 5× outliers per row (the scale matters: α is in
 * weight units), inputs from a 96-dimensional subspace of 128 channels plus 1% noise, with log-normal channel scales.
 */
class MagrTest {
    private static final int ROWS = 32;
    private static final int COLS = 128;

    private static final float[][] X = SyntheticLayer.unevenLowRankInputs(1024, COLS, 96, 0.01, 1, 21);
    private static final float[][] W = SyntheticLayer.weightsWithOutliers(ROWS, COLS, 0.02, 3, 5, 22);
    private static final Hessian H = SyntheticLayer.hessian(X, 128);

    private static double error(float[][] approx) {
        return SyntheticLayer.relativeOutputError(X, W, approx);
    }

    private static double error(QuantizedMatrix q) {
        return error(Weights.dequantize(q));
    }

    @Test
    void powerIterationFindsTheLargestEigenvalue() {
        // A = Q diag(λ) Qᵀ with the Householder reflection Q = I − 2uuᵀ/uᵀu
        double[] lambda = {0.5, 3, 7.25, 1, 0, 2};
        double[] u = {1, -2, 0.5, 3, 1, -1};
        int n = lambda.length;
        double uu = 0;
        for (double x : u) {
            uu += x * x;
        }
        double[] q = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                q[i * n + j] = (i == j ? 1 : 0) - 2 * u[i] * u[j] / uu;
            }
        }
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) {
                    a[i * n + j] += q[i * n + k] * lambda[k] * q[j * n + k];
                }
            }
        }
        assertEquals(7.25, Magr.largestEigenvalue(a, n), 1e-9);
        assertEquals(0, Magr.largestEigenvalue(new double[4], 2));
    }

    @Test
    void lowersEveryRowsLargestWeightAndDecreasesTheObjective() {
        MagrOptions options = MagrOptions.reference(Weights.PER_CHANNEL);
        float[][] m = Magr.preprocess(W, H.matrix(), options);
        double[] g = H.matrix();
        double lambdaMax = Magr.largestEigenvalue(g, COLS);
        double worst = 0;
        double mean = 0;
        for (int r = 0; r < ROWS; r++) {
            double ratio = SyntheticLayer.maxAbs(m[r], 0, COLS) / SyntheticLayer.maxAbs(W[r], 0, COLS);
            worst = Math.max(worst, ratio);
            mean += ratio / ROWS;
            double before = options.alpha() * SyntheticLayer.maxAbs(W[r], 0, COLS);
            double after = objective(g, lambdaMax, W[r], m[r], options.alpha());
            assertTrue(after < before, "row " + r + ": objective " + after + " vs " + before);
        }
        double outputChange = error(m);
        System.out.printf("MagR per channel: row max|w| ratio mean %.3f, worst %.3f; output change %.4f%n", mean, worst,
                outputChange);
        assertTrue(worst < 1, "worst row ratio " + worst);
        assertTrue(mean < 0.7, "mean row ratio " + mean);
        assertTrue(outputChange < 0.1, "output change " + outputChange);
    }

    /** {@code ½ dᵀ (H/λ_max) d + α ‖w‖∞} with {@code d = w − ŵ}. */
    private static double objective(double[] h, double lambdaMax, float[] original, float[] w, double alpha) {
        double quadratic = 0;
        for (int i = 0; i < COLS; i++) {
            for (int j = 0; j < COLS; j++) {
                quadratic += (w[i] - original[i]) * h[i * COLS + j] / lambdaMax * (w[j] - original[j]);
            }
        }
        return quadratic / 2 + alpha * SyntheticLayer.maxAbs(w, 0, COLS);
    }

    /** The per-group penalty is the sum of the group maxima: that sum drops in every row (one group's may grow). */
    @Test
    void groupwiseLowersEveryRowsSumOfGroupMaxima() {
        float[][] m = Magr.preprocess(W, H.matrix(), MagrOptions.reference(32));
        double mean = 0;
        for (int r = 0; r < ROWS; r++) {
            double before = 0;
            double after = 0;
            for (int from = 0; from < COLS; from += 32) {
                before += SyntheticLayer.maxAbs(W[r], from, from + 32);
                after += SyntheticLayer.maxAbs(m[r], from, from + 32);
                mean += SyntheticLayer.maxAbs(m[r], from, from + 32) / SyntheticLayer.maxAbs(W[r], from, from + 32)
                        / (ROWS * 4);
            }
            assertTrue(after < before, "row " + r + ": " + after + " vs " + before);
        }
        System.out.printf("MagR g32 (alpha 1e-4): group max|w| ratio mean %.3f; output change %.4f%n", mean,
                error(m));
        assertTrue(mean < 0.95, "mean group ratio " + mean);
    }

    @Test
    void improvesGptqAtThreeBitsPerChannel() {
        GptqOptions perChannel = GptqOptions.perChannel();
        double rtn = error(Rtn.quantize(W, GptqGrid.asymmetric(3), Weights.PER_CHANNEL));
        double gptq = error(Gptq.quantize(W, H, GptqGrid.asymmetric(3), perChannel).matrix());
        double magrGptq = error(MagrGptq.quantize(W, H, 3, false, perChannel).matrix());
        MagrGptq.Options withoutRefinement = MagrGptq.Options.reference(3, Weights.PER_CHANNEL).withRefinementPasses(0);
        double magrGptqOnly = error(MagrGptq.quantize(W, H, 3, false, perChannel, withoutRefinement).matrix());
        System.out.printf("W3 per channel output error: RTN %.4f, GPTQ %.4f, MagR+GPTQ %.4f (without the coordinate "
                + "descent pass %.4f)%n", rtn, gptq, magrGptq, magrGptqOnly);
        assertTrue(magrGptq < 0.98 * gptq, "MagR+GPTQ " + magrGptq + " vs GPTQ " + gptq);
        assertTrue(magrGptqOnly < 0.9 * gptq, "MagR+GPTQ without refinement " + magrGptqOnly + " vs GPTQ " + gptq);
    }

    /** Groups of 32 (β = 1, α = 1e-4), and the refinement pass on its own, measured for the record. */
    @Test
    void groupedMagrHelpsGptqTooAndTheRefinementPassIsMeasured() {
        QuantizedMatrix gptq = Gptq.quantize(W, H, GptqGrid.asymmetric(3), GptqOptions.perChannel()).matrix();
        double refined = error(CoordinateDescent.refine(gptq, W, H.gram(), 1));
        double grouped = error(Gptq.quantize(W, H, GptqGrid.asymmetric(3), GptqOptions.of(32)).matrix());
        double magrGrouped = error(MagrGptq.quantize(W, H, 3, false, GptqOptions.of(32)).matrix());
        double magrGroupedOnly = error(MagrGptq.quantize(W, H, 3, false, GptqOptions.of(32),
                MagrGptq.Options.reference(3, 32).withRefinementPasses(0)).matrix());
        System.out.printf("W3 per channel: GPTQ %.4f, GPTQ + one coordinate descent pass %.4f%n", error(gptq), refined);
        System.out.printf("W3 g32: GPTQ %.4f, MagR+GPTQ %.4f (without the coordinate descent pass %.4f)%n", grouped,
                magrGrouped, magrGroupedOnly);
        assertTrue(magrGroupedOnly < grouped, "MagR+GPTQ g32 without refinement " + magrGroupedOnly + " vs " + grouped);
    }

    @Test
    void perChannelGridIsTheShrunkMinMaxOfThePreprocessedWeights() {
        MagrGptq.Options options = MagrGptq.Options.reference(3, Weights.PER_CHANNEL).withRefinementPasses(0);
        assertEquals(0.9f, options.beta());
        QuantizedMatrix q = MagrGptq.quantize(W, H, 3, false, GptqOptions.perChannel(), options).matrix();
        float[][] m = Magr.preprocess(W, H.matrix(), options.magr());
        for (int r = 0; r < ROWS; r++) {
            QuantGrid expected = new GptqGrid(3, false, 0.9f).fit(m[r], 0, COLS);
            assertEquals(expected, Weights.grid(q, r, 0));
        }
    }

    @Test
    void referenceDefaults() {
        assertEquals(1f, MagrGptq.beta(4, Weights.PER_CHANNEL));
        assertEquals(0.9f, MagrGptq.beta(3, Weights.PER_CHANNEL));
        assertEquals(0.8f, MagrGptq.beta(2, Weights.PER_CHANNEL));
        assertEquals(0.95f, MagrGptq.beta(4, 128));
        assertEquals(0.95f, MagrGptq.beta(2, 128));
        assertEquals(1f, MagrGptq.beta(3, 64));
        assertEquals(30, MagrGptq.refinementPasses(2));
        assertEquals(1, MagrGptq.refinementPasses(3));
        assertEquals(new MagrOptions(1e-3, 200, -1), MagrOptions.reference(Weights.PER_CHANNEL));
        assertEquals(new MagrOptions(1e-4, 200, 128), MagrOptions.reference(128));
    }

    @Test
    void rejectsMismatchedGroupsAndSilentInputs() {
        assertThrows(QtaleException.class, () -> MagrGptq.quantize(W, H, 3, false, GptqOptions.of(32),
                MagrGptq.Options.reference(3, 64)));
        assertThrows(QtaleException.class,
                () -> Magr.preprocess(W, new double[COLS * COLS], MagrOptions.reference(Weights.PER_CHANNEL)));
        assertArrayEquals(W[0], Magr.preprocess(W, H.matrix(), new MagrOptions(1e-3, 0, -1))[0]);
    }
}
