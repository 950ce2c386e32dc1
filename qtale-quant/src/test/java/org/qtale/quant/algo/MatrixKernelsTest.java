package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.tensor.Parallel;

/** The vectorized kernels against their plain-loop references, over sizes that leave tails everywhere. */
class MatrixKernelsTest {
    private static final int[] SIZES = {1, 3, 7, 33, 130, 257};

    private static double[] random(int length, SplittableRandom random) {
        double[] a = new double[length];
        for (int i = 0; i < a.length; i++) {
            a[i] = SyntheticLayer.normal(random);
        }
        return a;
    }

    @Test
    void productsMatchTheReferenceInsideLargerMatrices() {
        SplittableRandom random = new SplittableRandom(1);
        for (int m : SIZES) {
            for (int p : SIZES) {
                int q = SIZES[(m + p) % SIZES.length];
                // operands embedded at an offset in wider matrices, as the callers use them
                int aStride = p + 3;
                int bStride = q + 5;
                int cStride = q + 2;
                double[] a = random(2 + m * aStride, random);
                double[] b = random(1 + p * bStride, random);
                double[] c = random(4 + m * cStride, random);
                double[] expected = c.clone();
                MatrixKernels.multiplySubtractReference(a, 2, aStride, b, 1, bStride, expected, 4, cStride, m, p, q);
                MatrixKernels.multiplySubtract(a, 2, aStride, b, 1, bStride, c, 4, cStride, m, p, q);
                for (int i = 0; i < c.length; i++) {
                    assertEquals(expected[i], c[i], 1e-12 * (Math.abs(expected[i]) + p), m + "x" + p + "x" + q);
                }
            }
        }
    }

    @Test
    void floatUpdatesMatchTheReference() {
        SplittableRandom random = new SplittableRandom(2);
        for (int m : SIZES) {
            for (int q : SIZES) {
                int p = SIZES[(m + q) % SIZES.length];
                double[] a = random(m * p, random);
                double[] b = random(p * (q + 1), random);
                float[] c = new float[m * q];
                for (int i = 0; i < c.length; i++) {
                    c[i] = (float) (4 * SyntheticLayer.normal(random));
                }
                float[] expected = c.clone();
                MatrixKernels.multiplySubtractFromFloatsReference(a, 0, p, b, 1, q + 1, expected, 0, q, m, p, q);
                MatrixKernels.multiplySubtractFromFloats(a, 0, p, b, 1, q + 1, c, 0, q, m, p, q);
                for (int i = 0; i < c.length; i++) {
                    // the double sums differ by reassociation; the float results by at most a rounding of each step
                    assertEquals(expected[i], c[i], 2 * Math.ulp(Math.abs(expected[i]) + 4 * Math.sqrt(p)));
                }
            }
        }
    }

    @Test
    void scaledFloatUpdatesAreExactlyTheReference() {
        SplittableRandom random = new SplittableRandom(3);
        for (int n : SIZES) {
            double[] u = random(n + 2, random);
            float[] y = new float[n];
            for (int i = 0; i < n; i++) {
                y[i] = (float) SyntheticLayer.normal(random);
            }
            float[] expected = y.clone();
            for (int from = 0; from <= n; from += Math.max(1, n / 4)) {
                MatrixKernels.subtractScaledFromFloatsReference(expected, 0.37, u, 2, from, n);
                MatrixKernels.subtractScaledFromFloats(y, 0.37, u, 2, from, n);
                assertArrayEquals(expected, y);
            }
        }
    }

    @Test
    void dotMatchesTheReference() {
        SplittableRandom random = new SplittableRandom(4);
        for (int n : SIZES) {
            double[] a = random(n + 1, random);
            double[] b = random(n + 3, random);
            assertEquals(MatrixKernels.dotReference(a, 1, b, 3, n), MatrixKernels.dot(a, 1, b, 3, n), 1e-12 * n);
        }
        assertEquals(0, MatrixKernels.dot(new double[0], 0, new double[0], 0, 0));
    }

    @Test
    void transposesAndMirrors() {
        SplittableRandom random = new SplittableRandom(5);
        try (Parallel parallel = new Parallel(2)) {
            for (int n : SIZES) {
                int cols = n + 6;
                double[] a = random(n * cols, random);
                double[] t = MatrixKernels.transpose(a, n, cols, -2, parallel);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < cols; j++) {
                        assertEquals(-2 * a[i * cols + j], t[j * n + i]);
                    }
                }
                double[] square = random(n * n, random);
                double[] upper = square.clone();
                MatrixKernels.mirrorUpperToLower(upper, n, parallel);
                double[] lower = square.clone();
                MatrixKernels.mirrorLowerToUpper(lower, n, parallel);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        assertEquals(square[Math.min(i, j) * n + Math.max(i, j)], upper[i * n + j]);
                        assertEquals(square[Math.max(i, j) * n + Math.min(i, j)], lower[i * n + j]);
                    }
                }
            }
        }
    }
}
