package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.tensor.Parallel;

class CholeskyTest {
    private static final int N = 7;

    /** {@code Bᵀ B + 0.1 I} for a random B: symmetric positive definite, moderately conditioned. */
    private static double[] randomSpd(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] b = new double[N * N];
        for (int i = 0; i < b.length; i++) {
            b[i] = SyntheticLayer.normal(random);
        }
        double[] a = DenseMatrices.multiply(MatrixKernels.transpose(b, N, N, 1, MatrixKernels.SEQUENTIAL), b, N);
        for (int i = 0; i < N; i++) {
            a[i * N + i] += 0.1;
        }
        return a;
    }

    private static void assertClose(double[] expected, double[] actual, double tolerance) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance, "entry " + i);
        }
    }

    @Test
    void lowerFactorReproducesTheMatrix() {
        double[] a = randomSpd(1);
        double[] l = Cholesky.lower(a, N);
        for (int i = 0; i < N; i++) {
            for (int j = i + 1; j < N; j++) {
                assertEquals(0, l[i * N + j]);
            }
        }
        assertClose(a, DenseMatrices.multiply(l, MatrixKernels.transpose(l, N, N, 1, MatrixKernels.SEQUENTIAL), N), 1e-10);
    }

    @Test
    void inverseMatchesADirectSolve() {
        for (long seed = 2; seed < 6; seed++) {
            double[] a = randomSpd(seed);
            double[] expected = DenseMatrices.inverse(a, N);
            assertClose(expected, Cholesky.inverseFromLower(Cholesky.lower(a, N), N), 1e-9);
        }
    }

    @Test
    void upperFactorOfTheInverseIsGptqsHinv() {
        double[] a = randomSpd(11);
        double[] u = Cholesky.upperFactorOfInverse(a, N);
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < i; j++) {
                assertEquals(0, u[i * N + j]);
            }
            assertTrue(u[i * N + i] > 0);
        }
        double[] inverse = DenseMatrices.inverse(a, N);
        assertClose(inverse, DenseMatrices.multiply(MatrixKernels.transpose(u, N, N, 1, MatrixKernels.SEQUENTIAL), u, N), 1e-9);
        // row 0 of U is the first row of A⁻¹ over √(A⁻¹)_00 (the OBS update direction of column 0)
        for (int j = 0; j < N; j++) {
            assertEquals(inverse[j] / Math.sqrt(inverse[0]), u[j], 1e-9);
        }
    }

    @Test
    void rejectsMatricesThatAreNotPositiveDefinite() {
        assertThrows(QtaleException.class, () -> Cholesky.lower(new double[] {1, 2, 2, 1}, 2));
        assertThrows(QtaleException.class, () -> Cholesky.lower(new double[] {0, 0, 0, 1}, 2));
        assertThrows(QtaleException.class, () -> Cholesky.lower(new double[3], 2));
    }

    /** {@code XᵀX / rows + 0.05 I} for a random {@code 2n × n} X. */
    private static double[] randomSpd(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int rows = 2 * n;
        double[] x = new double[rows * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = SyntheticLayer.normal(random);
        }
        double[] a = new double[n * n];
        for (int t = 0; t < rows; t++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    a[i * n + j] += x[t * n + i] * x[t * n + j] / rows;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            a[i * n + i] += 0.05;
        }
        return a;
    }

    private static void assertRelativelyClose(double[] expected, double[] actual, double tolerance) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance * scale, "entry " + i);
        }
    }

    @Test
    void blockedFactorsMatchTheUnblockedReferenceOnAnyThreadCount() {
        try (Parallel two = new Parallel(2)) {
            for (int n : new int[] {1, 7, 33, 130, 257}) {
                double[] a = randomSpd(n, n);
                double[] l = Cholesky.lowerReference(a, n);
                double[] inverse = Cholesky.inverseFromLowerReference(l, n);
                double[] u = Cholesky.upperFactorOfInverseReference(a, n);
                assertRelativelyClose(l, Cholesky.lower(a, n), 1e-12);
                assertRelativelyClose(inverse, Cholesky.inverseFromLower(l, n), 1e-10);
                double[] sequential = Cholesky.upperFactorOfInverse(a, n);
                assertRelativelyClose(u, sequential, 1e-9);
                assertArrayEquals(Cholesky.lower(a, n), Cholesky.lower(a, n, two), "n = " + n);
                assertArrayEquals(Cholesky.inverseFromLower(l, n), Cholesky.inverseFromLower(l, n, two), "n = " + n);
                assertArrayEquals(sequential, Cholesky.upperFactorOfInverse(a, n, two), "n = " + n);
            }
        }
    }

    @Test
    void aLatePivotThatIsNotPositiveFails() {
        int n = 257;
        double[] a = randomSpd(n, 3);
        a[200 * n + 200] = -1;
        try (Parallel two = new Parallel(2)) {
            QtaleException e = assertThrows(QtaleException.class, () -> Cholesky.lower(a, n, two));
            assertTrue(e.getMessage().contains("pivot 200 "), e.getMessage());
        }
    }
}
