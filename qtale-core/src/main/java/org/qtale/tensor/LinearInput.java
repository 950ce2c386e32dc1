package org.qtale.tensor;

/**
 * Activations prepared for a {@link LinearWeights} kernel: {@code nTokens} vectors of length {@code cols}, row-major in
 * {@code x}. For 16-bit formats the even and odd columns are also split apart ({@code even[t * cols/2 + j] = x[t *
 * cols + 2j]}), because those kernels read two packed weights per 32-bit lane.
 */
public record LinearInput(float[] x, int nTokens, int cols, float[] even, float[] odd) {

    public static LinearInput plain(float[] x, int nTokens, int cols) {
        return new LinearInput(x, nTokens, cols, null, null);
    }

    public static LinearInput deinterleaved(float[] x, int nTokens, int cols) {
        int half = cols / 2;
        float[] even = new float[nTokens * half];
        float[] odd = new float[nTokens * half];
        for (int t = 0; t < nTokens; t++) {
            int src = t * cols;
            int dst = t * half;
            for (int j = 0; j < half; j++) {
                even[dst + j] = x[src + 2 * j];
                odd[dst + j] = x[src + 2 * j + 1];
            }
        }
        return new LinearInput(x, nTokens, cols, even, odd);
    }
}
