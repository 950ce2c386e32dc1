package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.tensor.Parallel;

class HessianTest {
    /** {@code Σ_t x_t x_tᵀ} directly. */
    private static double[] gram(float[][]... samples) {
        int k = samples[0][0].length;
        double[] g = new double[k * k];
        for (float[][] sample : samples) {
            for (float[] x : sample) {
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < k; j++) {
                        g[i * k + j] += (double) x[i] * x[j];
                    }
                }
            }
        }
        return g;
    }

    @Test
    void runningAverageIsTwoOverNTimesTheGram() {
        float[][] a = SyntheticLayer.gaussian(5, 6, 1, 1);
        float[][] b = SyntheticLayer.gaussian(3, 6, 2, 2);
        float[][] c = SyntheticLayer.gaussian(8, 6, 0.5, 3);
        Hessian h = new Hessian(6);
        h.add(a);
        h.add(b);
        h.add(c);
        assertEquals(3, h.samples());
        double[] expected = gram(a, b, c);
        double[] matrix = h.matrix();
        double[] unnormalized = h.gram();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(2.0 / 3 * expected[i], matrix[i], 1e-12 * (1 + Math.abs(expected[i])));
            assertEquals(expected[i], unnormalized[i], 1e-12 * (1 + Math.abs(expected[i])));
        }
    }

    @Test
    void aBatchCountsItsSamplesNotItsTokens() {
        float[][] a = SyntheticLayer.gaussian(4, 3, 1, 4);
        float[][] b = SyntheticLayer.gaussian(4, 3, 1, 5);
        Hessian one = new Hessian(3);
        one.add(a);
        one.add(b);
        Hessian batched = new Hessian(3);
        float[] both = new float[8 * 3];
        System.arraycopy(Weights.flatten(a), 0, both, 0, 12);
        System.arraycopy(Weights.flatten(b), 0, both, 12, 12);
        batched.add(both, 8, 2);
        assertEquals(2, batched.samples());
        double[] expected = one.matrix();
        double[] actual = batched.matrix();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-12);
        }
    }

    @Test
    void rejectsInputsOfTheWrongWidth() {
        Hessian h = new Hessian(4);
        assertThrows(QtaleException.class, () -> h.add(new float[10], 3));
        assertThrows(QtaleException.class, () -> h.add(new float[8], 2, 0));
    }

    @Test
    void blockedProductsMatchTheOuterProductReference() {
        try (Parallel two = new Parallel(2)) {
            for (int columns : new int[] {1, 7, 33, 130, 257}) {
                Hessian blocked = new Hessian(columns);
                Hessian reference = new Hessian(columns);
                for (int tokens : new int[] {5, 300}) {
                    float[] x = Weights.flatten(SyntheticLayer.gaussian(tokens, columns, 1, columns + tokens));
                    blocked.add(x, tokens, 2, two);
                    reference.addReference(x, tokens, 2);
                }
                double[] expected = reference.matrix();
                double[] actual = blocked.matrix();
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], actual[i], 1e-12 * (1 + Math.abs(expected[i])), "columns " + columns);
                }
            }
        }
    }
}
