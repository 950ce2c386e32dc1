package org.qtale.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each vectorized element-wise kernel against its plain-loop reference, over odd sizes. */
class VectorOpsTest {
    private final Random random = new Random(42);

    private float[] gaussian(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 15, 16, 17, 33, 64, 100, 257})
    void dotAxpyAdd(int n) {
        float[] a = gaussian(n + 3, 1);
        float[] b = gaussian(n + 5, 1);
        assertEquals(ScalarOps.dot(a, 3, b, 5, n), VectorOps.dot(a, 3, b, 5, n), 1e-5f * n);

        float[] y1 = gaussian(n + 2, 1);
        float[] y2 = y1.clone();
        VectorOps.axpy(0.37f, a, 1, y1, 2, n);
        ScalarOps.axpy(0.37f, a, 1, y2, 2, n);
        assertArrayEquals(y2, y1, 1e-6f);

        VectorOps.add(b, 4, y1, 1, n);
        ScalarOps.add(b, 4, y2, 1, n);
        assertArrayEquals(y2, y1, 1e-6f);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 17, 33, 64, 100, 257})
    void rmsNorm(int n) {
        float[] x = gaussian(n + 4, 3);
        float[] w = gaussian(n, 1);
        float[] expected = new float[n + 1];
        float[] actual = new float[n + 1];
        ScalarOps.rmsNorm(expected, 1, x, 4, w, 1e-5f, n);
        VectorOps.rmsNorm(actual, 1, x, 4, w, 1e-5f, n);
        assertArrayEquals(expected, actual, 1e-5f);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 17, 33, 100, 513})
    void softmax(int n) {
        float[] x = gaussian(n + 2, 5);
        float[] y = x.clone();
        VectorOps.softmax(x, 2, n);
        ScalarOps.softmax(y, 2, n);
        assertArrayEquals(y, x, 1e-6f);
        double sum = 0;
        for (int i = 2; i < n + 2; i++) {
            sum += x[i];
        }
        assertEquals(1.0, sum, 1e-5);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 33, 100, 172, 257})
    void swiGlu(int n) {
        float[] gate = gaussian(n, 4);
        float[] up = gaussian(n, 1);
        float[] expected = gate.clone();
        ScalarOps.swiGlu(expected, up, n);
        VectorOps.swiGlu(gate, up, n);
        assertArrayEquals(expected, gate, 1e-5f);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 6, 8, 16, 34, 64, 128})
    void rope(int headDim) {
        double[] theta = new double[headDim / 2];
        float[] cos = new float[headDim + 4];
        float[] sin = new float[headDim + 4];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = 17 * Math.pow(10000, -2.0 * i / headDim);
            cos[4 + 2 * i] = (float) Math.cos(theta[i]);
            cos[4 + 2 * i + 1] = (float) Math.cos(theta[i]);
            sin[4 + 2 * i] = (float) -Math.sin(theta[i]);
            sin[4 + 2 * i + 1] = (float) Math.sin(theta[i]);
        }
        float[] v = gaussian(headDim + 3, 1);
        float[] expected = v.clone();
        ScalarOps.rope(expected, 3, theta, headDim);
        VectorOps.rope(v, 3, cos, sin, 4, headDim);
        assertArrayEquals(expected, v, 1e-5f);
    }

    /** The vector exp and its scalar twin agree bit for bit, and both stay within 2 ulp of Math.exp. */
    @Test
    void argmaxOfARowInsideALargerArrayIsTheFirstLargest() {
        float[] rows = {9, 0, 0, /* row 1: */ 1, 5, 5, 2, /* next row: */ 7};
        assertEquals(1, VectorOps.argmax(rows, 3, 4), "ties go to the first; values outside the row do not count");
        assertEquals(0, VectorOps.argmax(rows, 7));
    }

    @Test
    void unrolledLaneSumsAddInTheHalvingOrder() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(9);
        for (int lanes : new int[] {4, 8, 16}) {
            for (int trial = 0; trial < 1000; trial++) {
                float[] values = new float[lanes];
                for (int i = 0; i < lanes; i++) {
                    values[i] = (float) ((random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-3, 6)));
                }
                float expected = VectorOps.sumByHalving(values.clone());
                org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(expected),
                        Float.floatToRawIntBits(VectorOps.sumLanes(values.clone())), lanes + " lanes, trial " + trial);
            }
        }
    }

    @Test
    void expIsAccurateAndTheSameInVectorAndScalarForm() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        float[] in = new float[lanes * 4096];
        for (int i = 0; i < in.length; i++) {
            in[i] = -87f + 175f * i / in.length;
        }
        in[0] = 0f;
        in[1] = -0.3465f;
        in[2] = 0.3466f;
        float[] out = new float[lanes];
        for (int i = 0; i < in.length; i += lanes) {
            VectorOps.exp(jdk.incubator.vector.FloatVector.fromArray(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, in, i))
                    .intoArray(out, 0);
            for (int j = 0; j < lanes; j++) {
                float x = in[i + j];
                assertEquals(Float.floatToIntBits(VectorOps.exp(x)), Float.floatToIntBits(out[j]), "x=" + x);
                double exact = Math.exp(x);
                assertEquals(exact, out[j], 2 * Math.ulp((float) exact), "x=" + x);
            }
        }
        assertEquals(1f, VectorOps.exp(0f), 0f);
        assertEquals(0f, VectorOps.exp(-1000f), 1e-37f);
    }

    @Test
    void ropeRotatesAHandComputedPair() {
        // (1, 0) rotated by 90 degrees is (0, 1); (0, 2) by 90 degrees is (-2, 0)
        float[] v = {1, 0, 0, 2};
        float[] cos = {0, 0, 1, 1};
        float[] sin = {-1, 1, 0, 0};
        VectorOps.rope(v, 0, cos, sin, 0, 2);
        assertArrayEquals(new float[] {0, 1, 0, 2}, v, 1e-7f);
        float[] cos2 = {0, 0};
        float[] sin2 = {-1, 1};
        VectorOps.rope(v, 2, cos2, sin2, 0, 2);
        assertArrayEquals(new float[] {0, 1, -2, 0}, v, 1e-7f);
    }
}
