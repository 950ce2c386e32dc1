package org.qtale.train.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/** Central finite differences on a double-precision loss, compared with an analytic float gradient. */
final class Gradients {
    private Gradients() {
    }

    /** ∂loss/∂values[i] by central differences; the steps actually taken in float are used as the denominator. */
    static double numeric(float[] values, int i, DoubleSupplier loss) {
        float original = values[i];
        float eps = 1e-3f * Math.max(1f, Math.abs(original));
        values[i] = original + eps;
        double up = (double) values[i] - original;
        double lossUp = loss.getAsDouble();
        values[i] = original - eps;
        double down = original - (double) values[i];
        double lossDown = loss.getAsDouble();
        values[i] = original;
        return (lossUp - lossDown) / (up + down);
    }

    /**
     * Checks {@code analytic} against finite differences at every index (or {@code samples} random ones): the error
     * must stay under 1e-3 of the larger of the entry and a hundredth of the largest entry, far below what a wrong
     * sign, a swapped index or a missing term produces.
     */
    static void check(String what, float[] analytic, float[] values, DoubleSupplier loss, int samples, long seed) {
        int n = values.length;
        int count = samples <= 0 || samples >= n ? n : samples;
        SplittableRandom random = new SplittableRandom(seed);
        double[] numeric = new double[count];
        int[] index = new int[count];
        double largest = 0;
        for (int s = 0; s < count; s++) {
            index[s] = count == n ? s : random.nextInt(n);
            numeric[s] = numeric(values, index[s], loss);
            largest = Math.max(largest, Math.abs(numeric[s]));
        }
        assertTrue(largest > 1e-6, what + ": every sampled gradient is zero, the check would prove nothing");
        for (int s = 0; s < count; s++) {
            double a = analytic[index[s]];
            double tolerance = 1e-3 * Math.max(Math.abs(numeric[s]), 0.01 * largest) + 1e-7;
            assertTrue(Math.abs(a - numeric[s]) <= tolerance, what + "[" + index[s] + "]: analytic " + a
                    + " vs numeric " + numeric[s]);
        }
    }

    static float[] random(SplittableRandom random, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return x;
    }
}
