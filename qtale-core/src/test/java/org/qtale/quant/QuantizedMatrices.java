package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.function.IntBinaryOperator;

/** Quantized matrices for the layout tests: given by formulas, or random. */
final class QuantizedMatrices {
    private QuantizedMatrices() {
    }

    /** Codes {@code code(row, col)}, zeros {@code zero(row, group)}, scales {@code row + 10·group}. */
    static QuantizedMatrix of(int rows, int cols, int bits, int groupSize, IntBinaryOperator code, IntBinaryOperator zero) {
        int groups = cols / groupSize;
        byte[] codes = new byte[rows * cols];
        byte[] zeros = new byte[rows * groups];
        float[] scales = new float[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                codes[r * cols + c] = (byte) code.applyAsInt(r, c);
            }
            for (int g = 0; g < groups; g++) {
                zeros[r * groups + g] = (byte) zero.applyAsInt(r, g);
                scales[r * groups + g] = r + 10 * g;
            }
        }
        return new QuantizedMatrix(rows, cols, bits, groupSize, codes, scales, zeros, null);
    }

    /**
     * Random codes, zero points in {@code [minZero, 2^bits − 1]} and scales; with {@code actOrder} the columns are
     * grouped as GPTQ's act-order groups them, by their position in a random permutation.
     */
    static QuantizedMatrix random(int rows, int cols, int bits, int groupSize, int minZero, boolean actOrder, long seed) {
        Random random = new Random(seed);
        int groups = cols / groupSize;
        int max = (1 << bits) - 1;
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) random.nextInt(max + 1);
        }
        byte[] zeros = new byte[rows * groups];
        float[] scales = new float[rows * groups];
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = (byte) (minZero + random.nextInt(max + 1 - minZero));
            scales[i] = (float) (random.nextDouble() * 0.1 + 1e-3);
        }
        int[] groupIndex = null;
        if (actOrder) {
            int[] position = permutation(cols, random);
            groupIndex = new int[cols];
            for (int c = 0; c < cols; c++) {
                groupIndex[c] = position[c] / groupSize;
            }
        }
        return new QuantizedMatrix(rows, cols, bits, groupSize, codes, scales, zeros, groupIndex);
    }

    private static int[] permutation(int n, Random random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Field by field, arrays by content (records compare arrays by reference). */
    static void assertSameMatrix(QuantizedMatrix expected, QuantizedMatrix actual) {
        assertEquals(expected.rows(), actual.rows(), "rows");
        assertEquals(expected.cols(), actual.cols(), "cols");
        assertEquals(expected.bits(), actual.bits(), "bits");
        assertEquals(expected.groupSize(), actual.groupSize(), "group size");
        assertArrayEquals(expected.codes(), actual.codes(), "codes");
        assertArrayEquals(expected.zeros(), actual.zeros(), "zeros");
        assertArrayEquals(expected.scales(), actual.scales(), "scales");
        assertArrayEquals(expected.groupIndex(), actual.groupIndex(), "group index");
    }
}
