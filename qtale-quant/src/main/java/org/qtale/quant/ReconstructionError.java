package org.qtale.quant;

/** How well quantized weights reproduce a projection's output on calibration inputs. */
public final class ReconstructionError {
    /** At most this many input rows are used (evenly spaced). */
    static final int MAX_ROWS = 512;

    private ReconstructionError() {
    }

    /**
     * {@code Σ (x·wᵀ − x·ŵᵀ)² / Σ (x·wᵀ)²} over up to 512 evenly spaced rows of {@code x} ({@code n} rows of
     * {@code q.cols()}), where {@code ŵ} is {@code q} dequantized with float16 scales.
     */
    public static double relative(float[] w, QuantizedMatrix q, float[] x, int n) {
        int rows = q.rows();
        int cols = q.cols();
        float[] dequantized = QuantizedLayer.dequantize(q);
        int step = Math.max(1, n / MAX_ROWS);
        double error = 0;
        double signal = 0;
        for (int t = 0; t < n; t += step) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double approx = 0;
                for (int c = 0; c < cols; c++) {
                    double xv = x[t * cols + c];
                    exact += w[r * cols + c] * xv;
                    approx += dequantized[r * cols + c] * xv;
                }
                error += (exact - approx) * (exact - approx);
                signal += exact * exact;
            }
        }
        return signal == 0 ? 0 : error / signal;
    }
}
