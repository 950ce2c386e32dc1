package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;

class CholeskyTest {
    private static final int N = 7;

    /** {@code Bᵀ B + 0.1 I} for a random B: symmetric positive definite, moderately conditioned. */
    private static double[] randomSpd(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] b = new double[N * N];
        for (int i = 0; i < b.length; i++) {
            b[i] = SyntheticLayer.normal(random);
        }
        double[] a = DenseMatrices.multiply(Cholesky.transpose(b, N), b, N);
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
        assertClose(a, DenseMatrices.multiply(l, Cholesky.transpose(l, N), N), 1e-10);
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
        assertClose(inverse, DenseMatrices.multiply(Cholesky.transpose(u, N), u, N), 1e-9);
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
}
