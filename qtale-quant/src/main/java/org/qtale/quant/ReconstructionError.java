package org.qtale.quant;

import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.Parallel;

/** How well quantized weights reproduce a projection's output on calibration inputs. */
public final class ReconstructionError {
    /** At most this many input rows are used (evenly spaced). */
    static final int MAX_ROWS = 512;

    private ReconstructionError() {
    }

    /**
     * {@code Σ (x·wᵀ − x·ŵᵀ)² / Σ (x·wᵀ)²} over up to 512 evenly spaced rows of {@code x} ({@code n} rows of
     * {@code q.cols()}), where {@code ŵ} is {@code q} in the packed format the engine runs.
     */
    public static double relative(LinearWeights w, QuantizedMatrix q, float[] x, int n, Parallel parallel) {
        int cols = q.cols();
        int step = Math.max(1, n / MAX_ROWS);
        int sampled = (n + step - 1) / step;
        float[] rows = new float[sampled * cols];
        for (int s = 0; s < sampled; s++) {
            System.arraycopy(x, s * step * cols, rows, s * cols, cols);
        }
        float[] exact = new float[sampled * q.rows()];
        float[] approx = new float[sampled * q.rows()];
        w.apply(parallel, rows, sampled, exact);
        GroupQuantizedWeights.of(q).apply(parallel, rows, sampled, approx);
        double error = 0;
        double signal = 0;
        for (int i = 0; i < exact.length; i++) {
            double d = (double) exact[i] - approx[i];
            error += d * d;
            signal += (double) exact[i] * exact[i];
        }
        return signal == 0 ? 0 : error / signal;
    }
}
