package org.qtale.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every weight format's vectorized kernel against its scalar reference, over odd sizes and token counts. */
class LinearWeightsTest {
    private static final int[] ROWS = {1, 3, 4, 5, 17, 33};
    private static final int[] COLS = {1, 2, 3, 7, 16, 31, 33, 64, 65, 130, 257};
    private static final int[] TOKENS = {1, 2, 3, 4, 5, 9};

    record Format(String name, Function<float[], Function<int[], LinearWeights>> build) {
        LinearWeights of(float[] values, int rows, int cols) {
            return build.apply(values).apply(new int[] {rows, cols});
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Format> formats() {
        return Stream.of(
                new Format("F32", v -> s -> F32Weights.of(v, s[0], s[1])),
                new Format("F16", v -> s -> F16Weights.of(v, s[0], s[1])),
                new Format("BF16", v -> s -> BF16Weights.of(v, s[0], s[1])));
    }

    static Stream<Arguments> cases() {
        return formats().flatMap(f -> Stream.of(1, 2).map(seed -> Arguments.of(f, seed)));
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void kernelMatchesScalarReference(Format format, int seed) {
        Random random = new Random(seed);
        for (int rows : ROWS) {
            for (int cols : COLS) {
                float[] values = gaussian(random, rows * cols);
                LinearWeights w = format.of(values, rows, cols);
                for (int tokens : TOKENS) {
                    float[] x = gaussian(random, tokens * cols);
                    float[] expected = new float[tokens * rows];
                    float[] actual = new float[tokens * rows];
                    w.multiplyReference(x, tokens, expected, 0, rows);
                    // split the rows at an odd point, as a thread pool would
                    int split = rows / 3;
                    LinearInput input = w.prepare(x, tokens);
                    w.multiply(input, actual, 0, split);
                    w.multiply(input, actual, split, rows);
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            double magnitude = 0;
                            for (int c = 0; c < cols; c++) {
                                magnitude += Math.abs(w.get(r, c) * x[t * cols + c]);
                            }
                            float e = expected[t * rows + r];
                            float a = actual[t * rows + r];
                            assertTrue(Math.abs(e - a) <= 1e-5 * magnitude + 1e-6,
                                    format + " rows=" + rows + " cols=" + cols + " tokens=" + tokens + " at (" + t + ","
                                            + r + "): expected " + e + " got " + a);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("formats")
    void kernelAndReferenceMatchAHandComputedProduct(Format format) {
        // [[1, 2, 3], [-1, 0.5, 4]] · [2, -1, 0.25] = [0.75, -1.5], exact in every format
        LinearWeights w = format.of(new float[] {1, 2, 3, -1, 0.5f, 4}, 2, 3);
        float[] x = {2, -1, 0.25f};
        float[] out = new float[2];
        w.multiply(w.prepare(x, 1), out, 0, 2);
        assertEquals(0.75f, out[0], 0f);
        assertEquals(-1.5f, out[1], 0f);
        float[] reference = new float[2];
        w.multiplyReference(x, 1, reference, 0, 2);
        assertEquals(0.75f, reference[0], 0f);
        assertEquals(-1.5f, reference[1], 0f);
    }

    /** Subnormal, signed-zero, infinite and NaN halves go through the vector widening like Float.float16ToFloat. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("formats")
    void specialValuesWidenExactly(Format format) {
        float[] specials = {0f, -0f, 6e-8f, -3e-5f, 65504f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NaN, 1e-40f, 3.4e38f, 1.5f, -2.75f};
        int cols = 96;
        float[] values = new float[specials.length * cols];
        for (int r = 0; r < specials.length; r++) {
            values[r * cols + (r * 7) % cols] = specials[r];
        }
        LinearWeights w = format.of(values, specials.length, cols);
        float[] ones = new float[cols];
        java.util.Arrays.fill(ones, 1f);
        float[] out = new float[specials.length];
        w.multiply(w.prepare(ones, 1), out, 0, specials.length);
        for (int r = 0; r < specials.length; r++) {
            float stored = w.get(r, (r * 7) % cols);
            assertEquals(Float.floatToIntBits(stored + 0f), Float.floatToIntBits(out[r] + 0f), format + " row " + r);
        }
    }

    static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
