package org.qtale.train.nn;

import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/**
 * A router's forward and backward pass over {@code n} rows of the residual stream:
 * {@code a = W₁ x + b₁}, {@code y = rmsnorm(a)}, {@code s = silu(y)}, {@code Δ = (W₂[1] − W₂[0]) · s + b₂[1] − b₂[0]}.
 * The engine's {@link org.qtale.adaptive.Router} computes the same function one row at a time (a test compares them).
 */
public final class RouterOp {
    private RouterOp() {
    }

    /** What the forward pass keeps for the backward pass, for {@code n} rows of a router of width {@code width}. */
    public static final class Saved {
        final float[] pre;
        final float[] rstd;
        final float[] normed;
        final float[] activated;

        public Saved(int n, int width) {
            pre = new float[n * width];
            rstd = new float[n];
            normed = new float[n * width];
            activated = new float[n * width];
        }
    }

    /** Writes the logit gap {@code Δ = z_exec − z_skip} of every row into {@code gap}. */
    public static void forward(Parallel parallel, RouterParameters.Layer p, float[] x, int n, float eps, Saved s,
            float[] gap) {
        int width = p.width();
        LinearOp.multiply(parallel, p.w1(), x, n, s.pre);
        float[] b1 = p.b1().value();
        float[] w2 = p.w2().value();
        float[] b2 = p.b2().value();
        parallel.forRange(n, (start, end) -> {
            for (int t = start; t < end; t++) {
                int o = t * width;
                for (int i = 0; i < width; i++) {
                    s.pre[o + i] += b1[i];
                }
                s.rstd[t] = VectorOps.rmsNorm(s.normed, o, s.pre, o, p.norm().value(), eps, width);
                float skip = b2[0];
                float execute = b2[1];
                for (int i = 0; i < width; i++) {
                    float y = s.normed[o + i];
                    float silu = y / (1f + VectorOps.exp(-y));
                    s.activated[o + i] = silu;
                    skip += w2[i] * silu;
                    execute += w2[width + i] * silu;
                }
                gap[t] = execute - skip;
            }
        });
    }

    /**
     * From {@code dGap} (∂L/∂Δ per row) adds the gradients of the router's trainable parameters and, into
     * {@code dx}, of its input.
     */
    public static void backward(Parallel parallel, RouterParameters.Layer p, float[] dGap, float[] x, int n, Saved s,
            float[] dx) {
        int width = p.width();
        float[] w2 = p.w2().value();
        float[] dNormed = new float[n * width];
        parallel.forRange(n, (start, end) -> {
            for (int t = start; t < end; t++) {
                int o = t * width;
                for (int i = 0; i < width; i++) {
                    float y = s.normed[o + i];
                    float sigmoid = 1f / (1f + VectorOps.exp(-y));
                    float dActivated = dGap[t] * (w2[width + i] - w2[i]);
                    dNormed[o + i] = dActivated * sigmoid * (1 + y * (1 - sigmoid));
                }
            }
        });
        if (p.w2().trainable()) {
            float[] dw2 = p.w2().grad();
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < width; i++) {
                    float term = dGap[t] * s.activated[t * width + i];
                    dw2[i] -= term;
                    dw2[width + i] += term;
                }
            }
        }
        if (p.b2().trainable()) {
            double sum = 0;
            for (int t = 0; t < n; t++) {
                sum += dGap[t];
            }
            p.b2().grad()[0] -= (float) sum;
            p.b2().grad()[1] += (float) sum;
        }
        float[] dPre = new float[n * width];
        RmsNormOp.backward(parallel, dPre, p.norm().trainable() ? p.norm().grad() : null, dNormed, s.pre, s.rstd,
                p.norm().value(), n, width);
        if (p.b1().trainable()) {
            float[] db1 = p.b1().grad();
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < width; i++) {
                    db1[i] += dPre[t * width + i];
                }
            }
        }
        if (p.w1().trainable()) {
            Gemm.weightGradient(parallel, dPre, x, n, width, p.w1().cols(), p.w1().grad());
        }
        Gemm.inputGradient(parallel, dPre, n, p.w1().value(), width, p.w1().cols(), dx);
    }
}
