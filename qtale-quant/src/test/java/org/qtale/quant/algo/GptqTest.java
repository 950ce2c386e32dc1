package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.tensor.Parallel;

class GptqTest {
    private static final int ROWS = 32;
    private static final int COLS = 128;
    private static final int TOKENS = 1024;
    private static final int TOKENS_PER_SAMPLE = 128;

    private static float[][] correlatedInputs(long seed) {
        return SyntheticLayer.lowRankInputs(TOKENS, COLS, 24, 0.05, seed);
    }

    private static double error(float[][] x, float[][] w, QuantizedMatrix q) {
        return SyntheticLayer.relativeOutputError(x, w, Weights.dequantize(q));
    }

    /** A diagonal Hessian: no input correlations, so no error is propagated. */
    private static double[] diagonalHessian(long seed) {
        float[][] scales = SyntheticLayer.gaussian(1, COLS, 1, seed);
        double[] h = new double[COLS * COLS];
        for (int j = 0; j < COLS; j++) {
            h[j * COLS + j] = 0.5 + scales[0][j] * scales[0][j];
        }
        return h;
    }

    @Test
    void withUncorrelatedInputsGptqIsRoundToNearest() {
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 3);
        double[] h = diagonalHessian(4);
        for (int groupSize : new int[] {Weights.PER_CHANNEL, 32}) {
            for (boolean actOrder : new boolean[] {false, true}) {
                GptqGrid rule = GptqGrid.asymmetric(3);
                GptqOptions options = GptqOptions.of(groupSize).withActOrder(actOrder).withStaticGroups(true);
                QuantizedMatrix gptq = Gptq.quantize(w, h, rule, options).matrix();
                QuantizedMatrix rtn = Rtn.quantize(w, rule, groupSize);
                assertArrayEquals(rtn.codes(), gptq.codes(), "group " + groupSize + " act-order " + actOrder);
                assertArrayEquals(rtn.scales(), gptq.scales());
                assertArrayEquals(rtn.zeros(), gptq.zeros());
            }
        }
    }

    /**
     * Unblocked GPTQ written from the OBS equations, with explicit inverse downdates instead of the Cholesky factor:
     * {@code w −= (w_q − q)/[H⁻¹]_qq · H⁻¹_{:,q}}, {@code H⁻¹ ← H⁻¹ − H⁻¹_{:,q} H⁻¹_{q,:} / [H⁻¹]_qq}.
     */
    private static float[][] obsReference(float[][] w, double[] h, QuantizedMatrix grids) {
        double[] damped = h.clone();
        double mean = 0;
        for (int j = 0; j < COLS; j++) {
            mean += h[j * COLS + j] / COLS;
        }
        for (int j = 0; j < COLS; j++) {
            damped[j * COLS + j] += 0.01 * mean;
        }
        double[] inverse = DenseMatrices.inverse(damped, COLS);
        float[][] q = new float[w.length][COLS];
        for (int r = 0; r < w.length; r++) {
            QuantGrid grid = Weights.grid(grids, r, 0);
            double[] x = new double[COLS];
            for (int j = 0; j < COLS; j++) {
                x[j] = w[r][j];
            }
            double[] hinv = inverse.clone();
            for (int c = 0; c < COLS; c++) {
                q[r][c] = grid.roundTrip((float) x[c]);
                double d = hinv[c * COLS + c];
                double e = (x[c] - q[r][c]) / d;
                for (int j = c + 1; j < COLS; j++) {
                    x[j] -= e * hinv[j * COLS + c];
                }
                double[] column = new double[COLS];
                for (int i = 0; i < COLS; i++) {
                    column[i] = hinv[i * COLS + c];
                }
                for (int i = 0; i < COLS; i++) {
                    for (int j = 0; j < COLS; j++) {
                        hinv[i * COLS + j] -= column[i] * column[j] / d;
                    }
                }
            }
        }
        return q;
    }

    @Test
    void lazyBlocksWithTheCholeskyFactorMatchExplicitObsUpdates() {
        float[][] x = correlatedInputs(5);
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 6);
        double[] h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE).matrix();
        QuantizedMatrix gptq = Gptq.quantize(w, h, GptqGrid.asymmetric(4), GptqOptions.perChannel().withBlockSize(48))
                .matrix();
        float[][] reference = obsReference(w, h, gptq);
        float[][] ours = Weights.dequantize(gptq);
        int same = 0;
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) {
                same += ours[r][c] == reference[r][c] ? 1 : 0;
            }
        }
        double agreement = (double) same / (ROWS * COLS);
        double ourError = SyntheticLayer.relativeOutputError(x, w, ours);
        double referenceError = SyntheticLayer.relativeOutputError(x, w, reference);
        System.out.printf("GPTQ vs explicit OBS: %.4f of codes equal, output error %.5f vs %.5f%n", agreement,
                ourError, referenceError);
        assertTrue(agreement > 0.99, "code agreement " + agreement);
        assertEquals(referenceError, ourError, 0.01 * referenceError);
    }

    @Test
    void reportedLossIsTheDampedQuadraticObjective() {
        float[][] x = correlatedInputs(7);
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 8);
        double[] h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE).matrix();
        for (GptqOptions options : new GptqOptions[] {GptqOptions.perChannel(), GptqOptions.of(32).withActOrder(true),
                GptqOptions.of(16).withBlockSize(40)}) {
            GptqResult result = Gptq.quantize(w, h, GptqGrid.asymmetric(3), options);
            float[][] q = Weights.dequantize(result.matrix());
            double mean = 0;
            for (int j = 0; j < COLS; j++) {
                mean += h[j * COLS + j] / COLS;
            }
            double objective = 0;
            for (int r = 0; r < ROWS; r++) {
                for (int i = 0; i < COLS; i++) {
                    for (int j = 0; j < COLS; j++) {
                        double hij = h[i * COLS + j] + (i == j ? 0.01 * mean : 0);
                        objective += 0.5 * (w[r][i] - q[r][i]) * hij * (w[r][j] - q[r][j]);
                    }
                }
            }
            assertEquals(objective, result.loss(), 1e-4 * objective, options.toString());
        }
    }

    @Test
    void beatsRoundToNearestOnCorrelatedInputs() {
        float[][] x = correlatedInputs(9);
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 10);
        Hessian h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE);
        for (int bits : new int[] {4, 3}) {
            for (int groupSize : new int[] {Weights.PER_CHANNEL, 32}) {
                GptqGrid rule = GptqGrid.asymmetric(bits);
                double rtn = error(x, w, Rtn.quantize(w, rule, groupSize));
                double gptq = error(x, w, Gptq.quantize(w, h, rule, GptqOptions.of(groupSize)).matrix());
                System.out.printf("W%d g%d output error: RTN %.5f, GPTQ %.5f (ratio %.3f)%n", bits, groupSize, rtn,
                        gptq, gptq / rtn);
                assertTrue(gptq < 0.6 * rtn, "W" + bits + " g" + groupSize + ": GPTQ " + gptq + ", RTN " + rtn);
            }
        }
    }

    @Test
    void actOrderHelpsWhenAFewInputsDominate() {
        float[][] x = correlatedInputs(11);
        for (int c = 5; c < COLS; c += 31) {
            SyntheticLayer.scaleChannel(x, c, 10);
        }
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 12);
        Hessian h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE);
        for (int groupSize : new int[] {Weights.PER_CHANNEL, 32}) {
            GptqGrid rule = GptqGrid.asymmetric(3);
            GptqOptions plain = GptqOptions.of(groupSize);
            double natural = error(x, w, Gptq.quantize(w, h, rule, plain).matrix());
            QuantizedMatrix dynamic = Gptq.quantize(w, h, rule, plain.withActOrder(true)).matrix();
            QuantizedMatrix fixed = Gptq.quantize(w, h, rule, plain.withActOrder(true).withStaticGroups(true))
                    .matrix();
            double actOrder = error(x, w, dynamic);
            double staticGroups = error(x, w, fixed);
            System.out.printf("W3 g%d output error: natural order %.5f, act-order %.5f, act-order + static groups "
                    + "%.5f%n", groupSize, natural, actOrder, staticGroups);
            assertTrue(actOrder < 0.8 * natural, "act-order " + actOrder + " vs " + natural);
            assertTrue(staticGroups < 0.9 * natural, "static groups " + staticGroups + " vs " + natural);
        }
    }

    @Test
    void actOrderGroupsCarryTheirIndexStaticGroupsDoNot() {
        float[][] x = correlatedInputs(13);
        SyntheticLayer.scaleChannel(x, 100, 20);
        SyntheticLayer.scaleChannel(x, 3, 10);
        float[][] w = SyntheticLayer.gaussian(4, COLS, 1, 14);
        Hessian h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE);
        GptqOptions options = GptqOptions.of(32).withActOrder(true);
        QuantizedMatrix dynamic = Gptq.quantize(w, h, GptqGrid.symmetric(4), options).matrix();
        int[] groupIndex = dynamic.groupIndex();
        assertNotNull(groupIndex);
        assertEquals(0, groupIndex[100], "the highest-variance input is quantized first");
        assertEquals(0, groupIndex[3]);
        int[] sizes = new int[4];
        for (int g : groupIndex) {
            sizes[g]++;
        }
        assertArrayEquals(new int[] {32, 32, 32, 32}, sizes);
        QuantizedMatrix fixed = Gptq.quantize(w, h, GptqGrid.symmetric(4), options.withStaticGroups(true)).matrix();
        assertNull(fixed.groupIndex());
        // static groups are fitted on the unpermuted weights before any update: the RTN grids
        QuantizedMatrix rtn = Rtn.quantize(w, GptqGrid.symmetric(4), 32);
        assertArrayEquals(rtn.scales(), fixed.scales());
        assertArrayEquals(rtn.zeros(), fixed.zeros());
    }

    /**
     * The reference fits a dynamic group on {@code W[:, i:i+g]}, which earlier blocks have updated but earlier columns
     * of the same block have not: with one block of 128 columns every group of 16 gets the grid of the original
     * weights, with blocks of 16 only the first one does.
     */
    @Test
    void groupsInsideABlockAreFittedOnWeightsWithoutTheBlocksUpdates() {
        float[][] x = correlatedInputs(19);
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 20);
        Hessian h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE);
        QuantizedMatrix rtn = Rtn.quantize(w, GptqGrid.asymmetric(4), 16);
        QuantizedMatrix oneBlock = Gptq.quantize(w, h, GptqGrid.asymmetric(4), GptqOptions.of(16)).matrix();
        QuantizedMatrix smallBlocks = Gptq.quantize(w, h, GptqGrid.asymmetric(4), GptqOptions.of(16).withBlockSize(16))
                .matrix();
        assertArrayEquals(rtn.scales(), oneBlock.scales());
        int differentLaterGroups = 0;
        for (int r = 0; r < ROWS; r++) {
            assertEquals(rtn.scale(r, 0), smallBlocks.scale(r, 0));
            for (int g = 1; g < COLS / 16; g++) {
                differentLaterGroups += rtn.scale(r, g) != smallBlocks.scale(r, g) ? 1 : 0;
            }
        }
        assertEquals(ROWS * (COLS / 16 - 1), differentLaterGroups);
    }

    @Test
    void deadInputsGetZeroWeights() {
        float[][] x = correlatedInputs(15);
        for (float[] token : x) {
            token[7] = 0;
        }
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 16);
        Hessian h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE);
        QuantizedMatrix perChannel = Gptq.quantize(w, h, GptqGrid.asymmetric(4), GptqOptions.perChannel()).matrix();
        QuantizedMatrix grouped = Gptq.quantize(w, h, GptqGrid.asymmetric(4), GptqOptions.of(32)).matrix();
        QuantizedMatrix rtn = Rtn.quantize(w, GptqGrid.asymmetric(4), Weights.PER_CHANNEL);
        for (int r = 0; r < ROWS; r++) {
            assertEquals(0f, perChannel.dequantize(r, 7));
            assertEquals(0f, grouped.dequantize(r, 7));
        }
        // per channel the grid comes from the weights before the dead column is zeroed, as the reference
        assertArrayEquals(rtn.scales(), perChannel.scales());
    }

    @Test
    void rejectsMismatchedOrIndefiniteHessians() {
        float[][] w = SyntheticLayer.gaussian(2, 2, 1, 17);
        GptqOptions options = GptqOptions.perChannel().withDampPercent(0);
        assertThrows(QtaleException.class, () -> Gptq.quantize(w, new double[9], GptqGrid.asymmetric(4), options));
        QtaleException e = assertThrows(QtaleException.class,
                () -> Gptq.quantize(w, new double[] {1, 2, 2, 1}, GptqGrid.asymmetric(4), options));
        assertTrue(e.getMessage().startsWith("GPTQ cannot factor the damped Hessian"), e.getMessage());
        assertThrows(QtaleException.class, () -> GptqOptions.of(0));
        assertThrows(QtaleException.class, () -> GptqOptions.perChannel().withBlockSize(0));
    }

    @Test
    void rowsSplitAcrossThreadsGiveTheSameResult() {
        float[][] x = correlatedInputs(21);
        float[][] w = SyntheticLayer.gaussian(37, COLS, 1, 22);
        double[] h = SyntheticLayer.hessian(x, TOKENS_PER_SAMPLE).matrix();
        try (Parallel two = new Parallel(2)) {
            for (GptqOptions options : new GptqOptions[] {GptqOptions.of(32).withBlockSize(48),
                    GptqOptions.of(32).withActOrder(true).withBlockSize(40), GptqOptions.perChannel()}) {
                GptqResult one = Gptq.quantize(w, h, GptqGrid.asymmetric(3), options);
                GptqResult split = Gptq.quantize(w, h, GptqGrid.asymmetric(3), options, two);
                assertArrayEquals(one.matrix().codes(), split.matrix().codes(), options.toString());
                assertArrayEquals(one.matrix().scales(), split.matrix().scales(), options.toString());
                assertEquals(one.loss(), split.loss(), 0, options.toString());
            }
        }
    }
}
