package org.qtale.tensor;

/** Plain-loop references of {@link VectorOps}, computed in double where that is free. */
public final class ScalarOps {
    private ScalarOps() {
    }

    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) a[aOffset + i] * b[bOffset + i];
        }
        return (float) sum;
    }

    public static void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
        for (int i = 0; i < n; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    public static void add(float[] x, int xOffset, float[] y, int yOffset, int n) {
        for (int i = 0; i < n; i++) {
            y[yOffset + i] += x[xOffset + i];
        }
    }

    public static void rmsNorm(float[] out, int outOffset, float[] x, int xOffset, float[] weight, float eps, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[xOffset + i] * x[xOffset + i];
        }
        double scale = 1.0 / Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = (float) (weight[i] * scale * x[xOffset + i]);
        }
    }

    public static void softmax(float[] x, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[offset + i] - max);
        }
        for (int i = 0; i < n; i++) {
            x[offset + i] = (float) (Math.exp(x[offset + i] - max) / sum);
        }
    }

    public static void swiGlu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            double g = gate[i];
            gate[i] = (float) (g / (1 + Math.exp(-g)) * up[i]);
        }
    }

    /** Rotates pair {@code (v[2i], v[2i+1])} by angle {@code theta[i]}. */
    public static void rope(float[] v, int offset, double[] theta, int headDim) {
        for (int i = 0; i < headDim / 2; i++) {
            double c = Math.cos(theta[i]);
            double s = Math.sin(theta[i]);
            double v0 = v[offset + 2 * i];
            double v1 = v[offset + 2 * i + 1];
            v[offset + 2 * i] = (float) (v0 * c - v1 * s);
            v[offset + 2 * i + 1] = (float) (v0 * s + v1 * c);
        }
    }
}
