package org.qtale.train.nn;

import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/** RMSNorm over rows: {@code y = w ⊙ x · r} with {@code r = (mean(x²) + ε)^(-1/2)}. */
public final class RmsNormOp {
    private RmsNormOp() {
    }

    /** Normalizes {@code n} rows of width {@code dim}, keeping each row's {@code r} for the backward pass. */
    public static void forward(Parallel parallel, float[] y, float[] rstd, float[] x, float[] w, int n, int dim, float eps) {
        parallel.forRange(n, (start, end) -> forwardRows(y, rstd, x, w, dim, eps, start, end));
    }

    private static void forwardRows(float[] y, float[] rstd, float[] x, float[] w, int dim, float eps, int start, int end) {
        for (int t = start; t < end; t++) {
            rstd[t] = VectorOps.rmsNorm(y, t * dim, x, t * dim, w, eps, dim);
        }
    }

    /**
     * {@code dx += r · (w ⊙ dy − x · r² · Σ(dy ⊙ w ⊙ x) / dim)} and {@code dw += Σ_rows dy ⊙ x · r}; {@code dw} may be
     * null for a frozen weight.
     */
    public static void backward(Parallel parallel, float[] dx, float[] dw, float[] dy, float[] x, float[] rstd, float[] w,
            int n, int dim) {
        parallel.forRange(n, (start, end) -> {
            for (int t = start; t < end; t++) {
                int o = t * dim;
                float r = rstd[t];
                double dot = 0;
                for (int i = 0; i < dim; i++) {
                    dot += (double) dy[o + i] * w[i] * x[o + i];
                }
                float c = (float) (dot / dim) * r * r;
                for (int i = 0; i < dim; i++) {
                    dx[o + i] += r * (w[i] * dy[o + i] - x[o + i] * c);
                }
            }
        });
        if (dw != null) {
            // each column's sum runs over the rows in order, whatever the thread count
            parallel.forRange(dim, (start, end) -> {
                for (int t = 0; t < n; t++) {
                    int o = t * dim;
                    float r = rstd[t];
                    for (int i = start; i < end; i++) {
                        dw[i] += dy[o + i] * x[o + i] * r;
                    }
                }
            });
        }
    }
}
