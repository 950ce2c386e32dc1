package org.qtale.train.nn;

import org.qtale.tensor.VectorOps;

/** RMSNorm over rows: {@code y = w ⊙ x · r} with {@code r = (mean(x²) + ε)^(-1/2)}. */
public final class RmsNormOp {
    private RmsNormOp() {
    }

    /** Normalizes {@code n} rows of width {@code dim}, keeping each row's {@code r} for the backward pass. */
    public static void forward(float[] y, float[] rstd, float[] x, float[] w, int n, int dim, float eps) {
        for (int t = 0; t < n; t++) {
            VectorOps.rmsNorm(y, t * dim, x, t * dim, w, eps, dim);
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += (double) x[t * dim + i] * x[t * dim + i];
            }
            rstd[t] = (float) (1.0 / Math.sqrt(ss / dim + eps));
        }
    }

    /**
     * {@code dx += r · (w ⊙ dy − x · r² · Σ(dy ⊙ w ⊙ x) / dim)} and {@code dw += Σ_rows dy ⊙ x · r}; {@code dw} may be
     * null for a frozen weight.
     */
    public static void backward(float[] dx, float[] dw, float[] dy, float[] x, float[] rstd, float[] w, int n, int dim) {
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            float r = rstd[t];
            double dot = 0;
            for (int i = 0; i < dim; i++) {
                dot += (double) dy[o + i] * w[i] * x[o + i];
            }
            float c = (float) (dot / dim) * r * r;
            for (int i = 0; i < dim; i++) {
                dx[o + i] += r * (w[i] * dy[o + i] - x[o + i] * c);
                if (dw != null) {
                    dw[i] += dy[o + i] * x[o + i] * r;
                }
            }
        }
    }
}
