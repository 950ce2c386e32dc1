package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.qtale.quant.GroupQuantizedWeights.Activations.FLOAT;
import static org.qtale.quant.GroupQuantizedWeights.Activations.INTEGER;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.qtale.QtaleException;
import org.qtale.tensor.DType;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.Linear;
import org.qtale.tensor.LinearInput;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.Parallel;

/**
 * The group-quantized kernels (decode and prefill, float activations) against the scalar reference and against a
 * dense float32 matrix of the dequantized weights, for every bit width, group size, odd row counts and act-order; and
 * the single-token kernels on 8-bit integer activations against a scalar reference of the same rounding.
 */
class GroupQuantizedWeightsTest {
    private static final int[] BITS = {2, 3, 4, 8};
    private static final int[] ROWS = {1, 3, 5, 13};
    private static final int[] TOKENS = {1, 3, 4, 7, 16};
    /** Group sizes, with 0 for one group per row. */
    private static final int[] GROUP_SIZES = {32, 64, 128, 0};
    /**
     * 320 leaves a partial chunk at 3 bits (128 columns per chunk); 96 too, and at 2 bits (64 per chunk). 1088 and 2048
     * give rows of 16 groups or more, which the kernels widen a vector at a time.
     */
    private static final int[] COLS = {96, 256, 320, 1088, 2048};

    static Stream<Arguments> layouts() {
        List<Arguments> cases = new ArrayList<>();
        for (int bits : BITS) {
            for (int groupSize : GROUP_SIZES) {
                for (boolean actOrder : new boolean[] {false, true}) {
                    cases.add(Arguments.of(bits, groupSize, actOrder));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} bits, group {1}, act-order {2}")
    @MethodSource("layouts")
    void kernelMatchesScalarReference(int bits, int groupSize, boolean actOrder) {
        Random random = new Random(31L * bits + groupSize + (actOrder ? 7 : 0));
        int checked = 0;
        for (int cols : COLS) {
            int g = groupSize == 0 ? cols : groupSize;
            if (cols % g != 0) {
                continue;
            }
            for (int rows : ROWS) {
                QuantizedMatrix m = randomMatrix(random, rows, cols, bits, g, actOrder);
                GroupQuantizedWeights w = GroupQuantizedWeights.of(m, FLOAT);
                assertEquals(actOrder && g < cols, w.permuted());
                for (int tokens : TOKENS) {
                    float[] x = gaussian(random, tokens * cols);
                    float[] expected = new float[tokens * rows];
                    w.multiplyReference(x, tokens, expected, 0, rows);
                    assertClose(w, m, x, tokens, expected, kernel(w, x, tokens), "reference");
                    checked++;
                }
            }
        }
        assertTrue(checked > 0);
    }

    /** The stored weights are the dequantized matrix with float16 scales, bit for bit, and multiply like it. */
    @ParameterizedTest(name = "{0} bits, group {1}, act-order {2}")
    @MethodSource("layouts")
    void weightsEqualTheDequantizedMatrixWithFloat16Scales(int bits, int groupSize, boolean actOrder) {
        Random random = new Random(1000L + 31L * bits + groupSize + (actOrder ? 7 : 0));
        int rows = 7;
        int cols = 1024;
        int g = groupSize == 0 ? cols : groupSize;
        QuantizedMatrix m = randomMatrix(random, rows, cols, bits, g, actOrder);
        GroupQuantizedWeights w = GroupQuantizedWeights.of(m, FLOAT);
        float[] dense = dense(withFloat16Scales(m));
        float[] row = new float[cols + 2];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                assertEquals(dense[r * cols + c], w.get(r, c), 0f, "get(" + r + ", " + c + ")");
            }
            w.copyRow(r, row, 1);
            for (int c = 0; c < cols; c++) {
                assertEquals(dense[r * cols + c], row[1 + c], 0f, "copyRow(" + r + ") at " + c);
            }
        }
        F32Weights f32 = F32Weights.of(dense, rows, cols);
        for (int tokens : TOKENS) {
            float[] x = gaussian(random, tokens * cols);
            float[] expected = new float[tokens * rows];
            f32.multiply(f32.prepare(x, tokens), expected, 0, rows);
            assertClose(w, m, x, tokens, expected, kernel(w, x, tokens), "dense F32");
        }
    }

    /** Group sizes that are not a multiple of 16 take the scalar dequantization path. */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void groupSizesOutsideTheVectorLayoutMatchTheReference(int bits) {
        Random random = new Random(bits);
        int[][] shapes = {{3, 40, 8}, {5, 72, 24}, {4, 33, 33}, {2, 7, 7}};
        for (int[] shape : shapes) {
            for (boolean actOrder : new boolean[] {false, true}) {
                QuantizedMatrix m = randomMatrix(random, shape[0], shape[1], bits, shape[2], actOrder);
                GroupQuantizedWeights w = GroupQuantizedWeights.of(m, FLOAT);
                float[] dense = dense(withFloat16Scales(m));
                for (int tokens : TOKENS) {
                    float[] x = gaussian(random, tokens * shape[1]);
                    float[] expected = new float[tokens * shape[0]];
                    w.multiplyReference(x, tokens, expected, 0, shape[0]);
                    assertClose(w, m, x, tokens, expected, kernel(w, x, tokens), "reference");
                }
                for (int r = 0; r < shape[0]; r++) {
                    for (int c = 0; c < shape[1]; c++) {
                        assertEquals(dense[r * shape[1] + c], w.get(r, c), 0f);
                    }
                }
            }
        }
    }

    @Test
    void kernelAndReferenceMatchAHandComputedProduct() {
        // one row, 32 columns, two groups of 16 at 4 bits: scale 0.5, zero 8 and scale 2, zero 3
        int cols = 32;
        byte[] codes = new byte[cols];
        float[] x = new float[cols];
        for (int c = 0; c < cols; c++) {
            codes[c] = (byte) (c % 16);
            x[c] = c < 16 ? 1f : (c == 16 ? 1f : 0f);
        }
        QuantizedMatrix m = new QuantizedMatrix(1, cols, 4, 16, codes, new float[] {0.5f, 2f}, new byte[] {8, 3}, null);
        GroupQuantizedWeights w = GroupQuantizedWeights.of(m, FLOAT);
        // group 0: 0.5 · Σ_{q<16} (q − 8) = 0.5 · (120 − 128) = −4; group 1: 2 · (0 − 3) · 1 = −6
        float[] out = new float[1];
        w.multiply(w.prepare(x, 1), out, 0, 1);
        assertEquals(-10f, out[0], 0f);
        w.multiplyReference(x, 1, out, 0, 1);
        assertEquals(-10f, out[0], 0f);
        assertEquals(-4f, w.get(0, 0), 0f);
        assertEquals(3.5f, w.get(0, 15), 0f);
        assertEquals(24f, w.get(0, 31), 0f);
    }

    static Stream<Arguments> integerLayouts() {
        List<Arguments> cases = new ArrayList<>();
        for (int bits : new int[] {2, 4}) {
            for (int groupSize : new int[] {64, 128, 256}) {
                for (boolean actOrder : new boolean[] {false, true}) {
                    cases.add(Arguments.of(bits, groupSize, actOrder));
                }
            }
        }
        return cases.stream();
    }

    /**
     * One token on integer activations equals, within float rounding, the product of the dequantized weights with the
     * activations rounded per group to {@code scale · rint(x / scale)}, {@code scale = max|x| / 127}. Layouts the
     * integer kernels do not cover on this machine's vectors run on float activations and equal the exact product.
     */
    @ParameterizedTest(name = "{0} bits, group {1}, act-order {2}")
    @MethodSource("integerLayouts")
    void integerDecodeMatchesRoundedActivations(int bits, int groupSize, boolean actOrder) {
        Random random = new Random(77L * bits + groupSize + (actOrder ? 5 : 0));
        for (int cols : new int[] {256, 1024, 2048}) {
            for (int rows : new int[] {1, 3, 5, 13, 64}) {
                QuantizedMatrix m = randomMatrix(random, rows, cols, bits, groupSize, actOrder);
                GroupQuantizedWeights w = GroupQuantizedWeights.of(m, INTEGER);
                float[] x = gaussian(random, cols);
                x[random.nextInt(cols)] *= 20; // an outlier sets its group's scale
                float[] expected = new float[rows];
                if (w.integerActivations()) {
                    float[] rounded = roundedPerGroup(m, x);
                    for (int r = 0; r < rows; r++) {
                        double sum = 0;
                        for (int c = 0; c < cols; c++) {
                            sum += (double) w.get(r, c) * rounded[c];
                        }
                        expected[r] = (float) sum;
                    }
                    assertClose(w, m, rounded, 1, expected, kernel(w, x, 1), "rounded activations");
                } else {
                    w.multiplyReference(x, 1, expected, 0, rows);
                    assertClose(w, m, x, 1, expected, kernel(w, x, 1), "reference");
                }
            }
        }
        if (groupSize == 128 && FloatVector.SPECIES_PREFERRED.length() >= 8
                && FloatVector.SPECIES_PREFERRED.length() <= 16) {
            // covered with 256- and 512-bit vectors; with 128-bit ones, two lanes of a 4-bit group of 128 could
            // overflow 16 bits, and the group stays in float
            assertTrue(GroupQuantizedWeights.of(randomMatrix(random, 1, 256, bits, 128, actOrder), INTEGER)
                    .integerActivations());
        }
    }

    /** Rounding the activations costs a small error against the exact product, and prefill keeps float activations. */
    @Test
    void integerActivationsStayCloseToTheExactProduct() {
        Random random = new Random(5);
        int rows = 256;
        int cols = 2048;
        QuantizedMatrix m = randomMatrix(random, rows, cols, 4, 128, false);
        GroupQuantizedWeights integer = GroupQuantizedWeights.of(m, INTEGER);
        GroupQuantizedWeights exact = GroupQuantizedWeights.of(m, FLOAT);
        Assumptions.assumeTrue(integer.integerActivations(), "no integer kernels for vectors wider than 512 bits");
        assertFalse(exact.integerActivations());
        assertFalse(integer.canShareInput(exact));
        float[] x = gaussian(random, cols);
        float[] approximate = kernel(integer, x, 1);
        float[] reference = kernel(exact, x, 1);
        double error = 0;
        double norm = 0;
        for (int r = 0; r < rows; r++) {
            error += Math.pow(approximate[r] - reference[r], 2);
            norm += Math.pow(reference[r], 2);
        }
        double relative = Math.sqrt(error / norm);
        assertTrue(relative > 1e-5 && relative < 0.02, "relative error " + relative);
        float[] two = gaussian(random, 2 * cols);
        float[] expected = new float[2 * rows];
        exact.multiplyReference(two, 2, expected, 0, rows);
        assertClose(integer, m, two, 2, expected, kernel(integer, two, 2), "reference, two tokens");
    }

    /** Activations that are integers within ±127, with one of magnitude 127 per group, are represented exactly. */
    @Test
    void integerActivationsAreExactOnSmallIntegers() {
        int cols = 256;
        byte[] codes = new byte[cols];
        float[] x = new float[cols];
        for (int c = 0; c < cols; c++) {
            codes[c] = (byte) (c * 7 % 16);
            x[c] = c % 128 == 5 ? -127 : (c * 13) % 31 - 15;
        }
        QuantizedMatrix m = new QuantizedMatrix(1, cols, 4, 128, codes, new float[] {0.25f, -2f}, new byte[] {8, 1},
                null);
        GroupQuantizedWeights w = GroupQuantizedWeights.of(m, INTEGER);
        Assumptions.assumeTrue(w.integerActivations(), "no integer kernels for vectors wider than 512 bits");
        double expected = 0;
        for (int c = 0; c < cols; c++) {
            expected += (c < 128 ? 0.25 * (codes[c] - 8) : -2.0 * (codes[c] - 1)) * x[c];
        }
        assertEquals(expected, kernel(w, x, 1)[0], 0.0);
    }

    /** Activations halfway between integers (group scale exactly 1) round to the even neighbour, as Math.rint does. */
    @Test
    void integerActivationsRoundHalvesToEven() {
        int cols = 256;
        byte[] codes = new byte[cols];
        float[] x = new float[cols];
        for (int c = 0; c < cols; c++) {
            codes[c] = (byte) (c * 5 % 16);
            x[c] = c % 128 == 7 ? 127 : (c * 11) % 41 - 20.5f; // ..., -20.5, -19.5, ..., 19.5
        }
        QuantizedMatrix m = new QuantizedMatrix(1, cols, 4, 128, codes, new float[] {0.5f, 1f}, new byte[] {3, 9}, null);
        GroupQuantizedWeights w = GroupQuantizedWeights.of(m, INTEGER);
        Assumptions.assumeTrue(w.integerActivations(), "no integer kernels for vectors wider than 512 bits");
        double expected = 0;
        double halfUp = 0;
        for (int c = 0; c < cols; c++) {
            double weight = c < 128 ? 0.5 * (codes[c] - 3) : codes[c] - 9;
            expected += weight * Math.rint(x[c]);
            halfUp += weight * Math.floor(x[c] + 0.5);
        }
        assertTrue(expected != halfUp, "the case tells the two roundings apart");
        assertEquals(expected, kernel(w, x, 1)[0], 0.0);
    }

    /**
     * The largest group the integer kernels accept holds the largest sums a 16-bit lane can: every code at its maximum
     * times every activation at 127, still exact; and some group size is refused.
     */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 4})
    void theLargestAcceptedGroupDoesNotOverflow(int bits) {
        int largest = 0;
        for (int g = 64; g <= 4096; g += 64) {
            if (GroupQuantizedWeights.of(constantMatrix(1, g, bits, g), INTEGER).integerActivations()) {
                largest = g;
            }
        }
        Assumptions.assumeTrue(largest > 0, "no integer kernels for vectors wider than 512 bits");
        assertTrue(largest < 4096, "some group is too large for 16-bit sums");
        int cols = 2 * largest;
        GroupQuantizedWeights w = GroupQuantizedWeights.of(constantMatrix(3, cols, bits, largest), INTEGER);
        for (float sign : new float[] {1, -1}) {
            float[] x = new float[cols];
            java.util.Arrays.fill(x, sign * 0.5f);
            // all codes at their maximum and a zero point of 0: each row is maxCode · Σ x
            float expected = sign * 0.5f * ((1 << bits) - 1) * cols;
            float[] out = kernel(w, x, 1);
            for (float value : out) {
                assertEquals(expected, value, Math.abs(expected) * 1e-5, bits + " bits, group " + largest);
            }
        }
    }

    /**
     * The integer kernels' lane order, for 128-, 256- and 512-bit vectors whatever this machine has: slot {@code at}
     * meets the code of its column, which the packed layout stores in byte {@code (c / (16·n))·16 + c % 16} at position
     * {@code (c % (16·n)) / 16} (n codes per byte); every column is met once.
     */
    @Test
    void integerLaneOrderFollowsThePackedLayout() {
        for (int perByte : new int[] {2, 4}) {
            for (int lanes : new int[] {8, 16, 32}) {
                int cols = 4 * perByte * Math.max(lanes, 16);
                boolean[] met = new boolean[cols];
                for (int at = 0; at < cols; at++) {
                    int c = GroupQuantizedWeights.integerLaneColumn(at, perByte, lanes);
                    int step = at / (perByte * lanes);
                    int position = at / lanes % perByte;
                    int lane = at % lanes;
                    assertEquals(step * lanes + lane, c / (16 * perByte) * 16 + c % 16, "byte of slot " + at);
                    assertEquals(position, c % (16 * perByte) / 16, "code position of slot " + at);
                    assertFalse(met[c]);
                    met[c] = true;
                }
            }
        }
    }

    /** Memory in use is within 3% of bits·rows·cols/8 codes plus a float16 scale and a bits-wide zero per group. */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void byteSizeIsCloseToTheTheory(int bits) {
        int[][] shapes = {{2048, 8192, 128}, {8192, 2048, 128}, {4096, 11008, 128}, {2048, 8192, 32}, {512, 4096, 4096},
            {1024, 5632, 64}};
        Random random = new Random(bits);
        for (int[] shape : shapes) {
            for (boolean actOrder : new boolean[] {false, true}) {
                int rows = shape[0];
                int cols = shape[1];
                QuantizedMatrix m = zeroCodes(random, rows, cols, bits, shape[2], actOrder);
                long groups = (long) rows * (cols / shape[2]);
                double theory = (double) bits * rows * cols / 8 + groups * (2 + bits / 8.0);
                long actual = GroupQuantizedWeights.of(m, FLOAT).byteSize();
                assertTrue(actual >= theory && actual <= 1.03 * theory, bits + " bits " + rows + "x" + cols + " g" + shape[2]
                        + " act-order " + actOrder + ": " + actual + " bytes against " + theory);
            }
        }
    }

    @Test
    void groupIndexInOrderNeedsNoPermutation() {
        Random random = new Random(3);
        QuantizedMatrix plain = randomMatrix(random, 3, 128, 4, 32, false);
        int[] inOrder = new int[128];
        for (int c = 0; c < 128; c++) {
            inOrder[c] = c / 32;
        }
        QuantizedMatrix indexed = new QuantizedMatrix(3, 128, 4, 32, plain.codes(), plain.scales(), plain.zeros(), inOrder);
        GroupQuantizedWeights w = GroupQuantizedWeights.of(indexed, FLOAT);
        assertFalse(w.permuted());
        assertEquals(GroupQuantizedWeights.of(plain, FLOAT).byteSize(), w.byteSize());
    }

    /** q, k and v share one prepared input only when their column permutations agree. */
    @Test
    void productsWithDifferentPermutationsDoNotShareAnInput() {
        Random random = new Random(11);
        int cols = 128;
        QuantizedMatrix a = randomMatrix(random, 5, cols, 4, 32, true);
        QuantizedMatrix b = randomMatrix(random, 6, cols, 4, 32, true);
        QuantizedMatrix c = randomMatrix(random, 4, cols, 4, 32, false);
        QuantizedMatrix d = new QuantizedMatrix(3, cols, 4, 32, new byte[3 * cols], new float[12], new byte[12],
                a.groupIndex());
        LinearWeights[] weights = {GroupQuantizedWeights.of(a, FLOAT), GroupQuantizedWeights.of(b, FLOAT), GroupQuantizedWeights.of(c, FLOAT),
            GroupQuantizedWeights.of(d, FLOAT)};
        assertFalse(weights[1].canShareInput(weights[0]));
        assertFalse(weights[2].canShareInput(weights[1]));
        assertTrue(weights[3].canShareInput(weights[0]));
        for (int tokens : new int[] {1, 3}) {
            float[] x = gaussian(random, tokens * cols);
            float[][] outs = new float[weights.length][];
            for (int i = 0; i < weights.length; i++) {
                outs[i] = new float[tokens * weights[i].rows()];
            }
            try (Parallel parallel = new Parallel(2)) {
                Linear.applyAll(parallel, x, tokens, weights, outs);
            }
            for (int i = 0; i < weights.length; i++) {
                float[] expected = new float[outs[i].length];
                weights[i].multiplyReference(x, tokens, expected, 0, weights[i].rows());
                QuantizedMatrix m = new QuantizedMatrix[] {a, b, c, d}[i];
                assertClose((GroupQuantizedWeights) weights[i], m, x, tokens, expected, outs[i], "applyAll " + i);
            }
        }
    }

    @Test
    void dtypeAndStorageNameTellBitsAndGroupSize() {
        Random random = new Random(5);
        GroupQuantizedWeights g128 = GroupQuantizedWeights.of(randomMatrix(random, 2, 256, 3, 128, false));
        assertEquals(DType.Q3, g128.dtype());
        assertEquals("Q3_G128", g128.storageName());
        GroupQuantizedWeights perChannel = GroupQuantizedWeights.of(randomMatrix(random, 2, 256, 8, 256, false));
        assertEquals(DType.Q8, perChannel.dtype());
        assertEquals("Q8_PER_CHANNEL", perChannel.storageName());
        assertEquals("BF16", org.qtale.tensor.BF16Weights.of(new float[2], 1, 2).storageName());
    }

    @Test
    void refusesWhatItCannotStore() {
        Random random = new Random(9);
        QuantizedMatrix five = randomMatrix(random, 2, 64, 5, 32, false);
        assertThrows(QtaleException.class, () -> GroupQuantizedWeights.of(five, FLOAT));
        QuantizedMatrix m = randomMatrix(random, 2, 64, 4, 32, false);
        byte[] codes = m.codes().clone();
        codes[17] = 16;
        assertThrows(QtaleException.class, () -> GroupQuantizedWeights.of(
                new QuantizedMatrix(2, 64, 4, 32, codes, m.scales(), m.zeros(), null)));
        byte[] zeros = m.zeros().clone();
        zeros[3] = (byte) 200;
        assertThrows(QtaleException.class, () -> GroupQuantizedWeights.of(
                new QuantizedMatrix(2, 64, 4, 32, m.codes(), m.scales(), zeros, null)));
        int[] uneven = new int[64];
        uneven[0] = 1;
        assertThrows(QtaleException.class, () -> GroupQuantizedWeights.of(
                new QuantizedMatrix(2, 64, 4, 32, m.codes(), m.scales(), m.zeros(), uneven)));
        float[] huge = m.scales().clone();
        huge[0] = 1e6f;
        assertThrows(QtaleException.class, () -> GroupQuantizedWeights.of(
                new QuantizedMatrix(2, 64, 4, 32, m.codes(), huge, m.zeros(), null)));
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** The kernel's product, with the rows split at an odd point as a thread pool would. */
    private static float[] kernel(LinearWeights w, float[] x, int tokens) {
        float[] out = new float[tokens * w.rows()];
        LinearInput input = w.prepare(x, tokens);
        int split = w.rows() / 3;
        w.multiply(input, out, 0, split);
        w.multiply(input, out, split, w.rows());
        return out;
    }

    /**
     * Within float rounding of the terms the kernels add: {@code |scale|·(code + zero)·|x|} per weight, since the zero
     * points are applied per group.
     */
    private static void assertClose(GroupQuantizedWeights w, QuantizedMatrix m, float[] x, int tokens, float[] expected,
            float[] actual, String against) {
        int rows = m.rows();
        int cols = m.cols();
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double magnitude = 0;
                for (int c = 0; c < cols; c++) {
                    int g = m.group(c);
                    magnitude += Math.abs(m.scale(r, g)) * (m.code(r, c) + m.zero(r, g)) * Math.abs(x[t * cols + c]);
                }
                float e = expected[t * rows + r];
                float a = actual[t * rows + r];
                assertTrue(Math.abs(e - a) <= 2e-6 * magnitude + 1e-6, w.storageName() + " " + rows + "x" + cols
                        + " tokens=" + tokens + " at (" + t + "," + r + ") against " + against + ": expected " + e
                        + " got " + a);
            }
        }
    }

    /** {@code x} rounded per group of {@code m} to {@code scale · rint(x / scale)} with {@code scale = max|x| / 127}. */
    private static float[] roundedPerGroup(QuantizedMatrix m, float[] x) {
        float[] max = new float[m.groups()];
        for (int c = 0; c < x.length; c++) {
            max[m.group(c)] = Math.max(max[m.group(c)], Math.abs(x[c]));
        }
        float[] rounded = new float[x.length];
        for (int c = 0; c < x.length; c++) {
            float groupMax = max[m.group(c)];
            rounded[c] = groupMax == 0 ? 0 : (float) (groupMax / 127 * Math.rint(x[c] * (127 / groupMax)));
        }
        return rounded;
    }

    /** Every code at its maximum, scale 1 and zero point 0. */
    private static QuantizedMatrix constantMatrix(int rows, int cols, int bits, int groupSize) {
        byte[] codes = new byte[rows * cols];
        java.util.Arrays.fill(codes, (byte) ((1 << bits) - 1));
        float[] scales = new float[rows * (cols / groupSize)];
        java.util.Arrays.fill(scales, 1f);
        return new QuantizedMatrix(rows, cols, bits, groupSize, codes, scales, new byte[scales.length], null);
    }

    /** Random codes, zero points and scales (of both signs, some below float16's normal range). */
    static QuantizedMatrix randomMatrix(Random random, int rows, int cols, int bits, int groupSize, boolean actOrder) {
        int groups = cols / groupSize;
        int levels = 1 << bits;
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) random.nextInt(levels);
        }
        float[] scales = new float[rows * groups];
        byte[] zeros = new byte[rows * groups];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) ((random.nextBoolean() ? 1 : -1) * Math.exp(-3 - 8 * random.nextDouble()));
            zeros[i] = (byte) random.nextInt(levels);
        }
        int[] groupIndex = null;
        if (actOrder) {
            int[] order = new int[cols];
            for (int c = 0; c < cols; c++) {
                order[c] = c;
            }
            for (int c = cols - 1; c > 0; c--) {
                int j = random.nextInt(c + 1);
                int tmp = order[c];
                order[c] = order[j];
                order[j] = tmp;
            }
            groupIndex = new int[cols];
            for (int i = 0; i < cols; i++) {
                groupIndex[order[i]] = i / groupSize;
            }
            if (groups == 1) {
                // one group per row is in order whatever the permutation; the index still says so explicitly
                assertEquals(0, groupIndex[cols - 1]);
            }
        }
        return new QuantizedMatrix(rows, cols, bits, groupSize, codes, scales, zeros, groupIndex);
    }

    /** A matrix of zero codes, for its size: only its shape, group size and group index matter. */
    private static QuantizedMatrix zeroCodes(Random random, int rows, int cols, int bits, int groupSize, boolean actOrder) {
        QuantizedMatrix small = randomMatrix(random, 1, cols, bits, groupSize, actOrder);
        int groups = rows * (cols / groupSize);
        return new QuantizedMatrix(rows, cols, bits, groupSize, new byte[rows * cols], new float[groups],
                new byte[groups], small.groupIndex());
    }

    static QuantizedMatrix withFloat16Scales(QuantizedMatrix m) {
        float[] rounded = m.scales().clone();
        for (int i = 0; i < rounded.length; i++) {
            rounded[i] = Float.float16ToFloat(Float.floatToFloat16(rounded[i]));
        }
        return new QuantizedMatrix(m.rows(), m.cols(), m.bits(), m.groupSize(), m.codes(), rounded, m.zeros(),
                m.groupIndex());
    }

    static float[] dense(QuantizedMatrix m) {
        float[] values = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                values[r * m.cols() + c] = m.dequantize(r, c);
            }
        }
        return values;
    }

    static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
