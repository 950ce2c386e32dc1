package org.qtale.quant.algo;

/** Plain dense-matrix helpers for tests (row-major {@code n × n} doubles), independent of {@link Cholesky}. */
final class DenseMatrices {
    private DenseMatrices() {
    }

    static double[] multiply(double[] a, double[] b, int n) {
        double[] c = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += a[i * n + k] * b[k * n + j];
                }
            }
        }
        return c;
    }

    /** A⁻¹ by Gauss–Jordan elimination with partial pivoting: solve A X = I. */
    static double[] inverse(double[] matrix, int n) {
        double[] a = matrix.clone();
        double[] x = new double[n * n];
        for (int i = 0; i < n; i++) {
            x[i * n + i] = 1;
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r * n + col]) > Math.abs(a[pivot * n + col])) {
                    pivot = r;
                }
            }
            swapRows(a, col, pivot, n);
            swapRows(x, col, pivot, n);
            double p = a[col * n + col];
            for (int j = 0; j < n; j++) {
                a[col * n + j] /= p;
                x[col * n + j] /= p;
            }
            for (int r = 0; r < n; r++) {
                double f = a[r * n + col];
                if (r == col || f == 0) {
                    continue;
                }
                for (int j = 0; j < n; j++) {
                    a[r * n + j] -= f * a[col * n + j];
                    x[r * n + j] -= f * x[col * n + j];
                }
            }
        }
        return x;
    }

    private static void swapRows(double[] a, int i, int j, int n) {
        for (int k = 0; k < n; k++) {
            double t = a[i * n + k];
            a[i * n + k] = a[j * n + k];
            a[j * n + k] = t;
        }
    }
}
