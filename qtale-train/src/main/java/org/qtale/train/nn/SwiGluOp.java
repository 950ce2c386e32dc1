package org.qtale.train.nn;

/** SwiGLU: {@code a = silu(g) ⊙ u} with {@code silu(g) = g · σ(g)}. */
public final class SwiGluOp {
    private SwiGluOp() {
    }

    public static void forward(float[] a, float[] g, float[] u, int n) {
        for (int i = 0; i < n; i++) {
            float s = sigmoid(g[i]);
            a[i] = g[i] * s * u[i];
        }
    }

    /** {@code dg += da · u · σ(g)(1 + g(1 − σ(g)))} and {@code du += da · silu(g)}. */
    public static void backward(float[] dg, float[] du, float[] da, float[] g, float[] u, int n) {
        for (int i = 0; i < n; i++) {
            float s = sigmoid(g[i]);
            dg[i] += da[i] * u[i] * s * (1 + g[i] * (1 - s));
            du[i] += da[i] * g[i] * s;
        }
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }
}
