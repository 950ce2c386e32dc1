package org.qtale.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qtale.tensor.Parallel;

/** The backward-pass products against their scalar reference, over sizes that leave every kind of remainder. */
class GemmTest {
    @ParameterizedTest
    @CsvSource({"1,1,1", "4,64,4", "5,67,3", "9,131,17", "16,256,40", "7,15,33", "8,96,5", "6,40,9", "12,16,130"})
    void bothProductsMatchTheReference(int n, int cols, int rows) {
        SplittableRandom random = new SplittableRandom(n * 1000L + cols * 10L + rows);
        float[] dy = Gradients.random(random, n * rows, 1);
        float[] w = Gradients.random(random, rows * cols, 1);
        float[] x = Gradients.random(random, n * cols, 1);
        float[] dx = Gradients.random(random, n * cols, 1);
        float[] dw = Gradients.random(random, rows * cols, 1);
        float[] dxExpected = dx.clone();
        float[] dwExpected = dw.clone();
        Gemm.accumulateReference(0, n, cols, rows, dy, rows, 1, w, cols, dxExpected, cols);
        Gemm.accumulateReference(0, rows, cols, n, dy, 1, rows, x, cols, dwExpected, cols);
        try (Parallel parallel = new Parallel(2)) {
            Gemm.inputGradient(parallel, dy, n, w, rows, cols, dx);
            Gemm.weightGradient(parallel, dy, x, n, rows, cols, dw);
        }
        for (int i = 0; i < dx.length; i++) {
            assertEquals(dxExpected[i], dx[i], 1e-4 * Math.sqrt(rows), "dx[" + i + "]");
        }
        for (int i = 0; i < dw.length; i++) {
            assertEquals(dwExpected[i], dw[i], 1e-4 * Math.sqrt(n), "dw[" + i + "]");
        }
    }

    @ParameterizedTest
    @CsvSource({"0,9", "3,9", "5,6", "8,8"})
    void aDepthRangeSumsOnlyThoseTerms(int kFrom, int kTo) {
        SplittableRandom random = new SplittableRandom(kFrom * 31L + kTo);
        int rows = 7;
        int width = 37;
        float[] a = Gradients.random(random, rows * 9, 1);
        float[] b = Gradients.random(random, 9 * width, 1);
        float[] c = new float[rows * width];
        float[] expected = new float[rows * width];
        Gemm.accumulate(0, rows, width, kFrom, kTo, a, 9, 1, b, width, c, width);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < width; j++) {
                double sum = 0;
                for (int k = kFrom; k < kTo; k++) {
                    sum += (double) a[i * 9 + k] * b[k * width + j];
                }
                expected[i * width + j] = (float) sum;
            }
        }
        for (int i = 0; i < c.length; i++) {
            assertEquals(expected[i], c[i], 1e-5, "c[" + i + "]");
        }
    }

    @Test
    void handComputedProduct() {
        // dx = dy · W for dy = [[1, 2]], W = [[1, 0, 2], [3, 1, 0]]: [1·1 + 2·3, 1·0 + 2·1, 1·2 + 2·0] = [7, 2, 2]
        float[] dx = new float[3];
        Gemm.accumulate(0, 1, 3, 2, new float[] {1, 2}, 2, 1, new float[] {1, 0, 2, 3, 1, 0}, 3, dx, 3);
        assertEquals(7f, dx[0]);
        assertEquals(2f, dx[1]);
        assertEquals(2f, dx[2]);
        float[] reference = new float[3];
        Gemm.accumulateReference(0, 1, 3, 2, new float[] {1, 2}, 2, 1, new float[] {1, 0, 2, 3, 1, 0}, 3, reference, 3);
        assertEquals(7f, reference[0]);
    }
}
