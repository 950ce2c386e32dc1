package org.qtale.tensor;

/**
 * Products with weights held in a plain row-major float array (trainable weights), computed by the same register-tiled
 * kernel the engine's prefill uses.
 */
public final class MatMul {
    private MatMul() {
    }

    /**
     * {@code out[t·rows + r] = Σ_c w[r·cols + c] · x[t·cols + c]} for {@code nTokens} tokens, the rows split among the
     * pool's threads.
     */
    public static void multiply(Parallel parallel, float[] w, int rows, int cols, float[] x, int nTokens, float[] out) {
        parallel.forRange(rows, 4, (start, end) -> multiplyRows(w, rows, cols, x, nTokens, out, start, end));
    }

    static void multiplyRows(float[] w, int rows, int cols, float[] x, int nTokens, float[] out, int start, int end) {
        int r = start;
        for (; r + 4 <= end; r += 4) {
            MatMulTiles.fourRows(w, r * cols, cols, x, nTokens, out, rows, r);
        }
        for (; r < end; r++) {
            MatMulTiles.oneRow(w, r * cols, cols, x, nTokens, out, rows, r);
        }
    }
}
