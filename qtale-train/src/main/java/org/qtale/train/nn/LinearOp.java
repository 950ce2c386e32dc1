package org.qtale.train.nn;

import org.qtale.tensor.Parallel;

/**
 * A linear layer {@code y = W x}, optionally with a LoRA branch {@code + scale · B (A x)}. All three products run on
 * {@link Gemm}: the forward one against a transposed copy of W, made per call (it costs one pass over W, against
 * {@code n} passes for the product), because the engine's row-dot kernel spends most of its time in lane sums when
 * rows are as short as a small model's. A frozen W gets no weight gradient, but the gradient still flows through it
 * to the input.
 */
public final class LinearOp {
    private LinearOp() {
    }

    /**
     * {@code y = W x (+ scale · keep ⊙ B A x)} for {@code n} rows; with an adapter, {@code hidden}
     * ({@code n × rank}) keeps {@code A x} for the backward pass, and {@code keep} (null for none) holds the branch's
     * dropout multipliers, 0 or {@code 1/(1 − p)} per output.
     */
    public static void forward(Parallel parallel, Param w, LoraAdapter lora, float[] x, int n, float[] y, float[] hidden,
            float[] keep) {
        multiply(parallel, w, x, n, y);
        if (lora != null) {
            multiply(parallel, lora.a(), x, n, hidden);
            float[] update = new float[n * w.rows()];
            multiply(parallel, lora.b(), hidden, n, update);
            float scale = lora.scale();
            for (int i = 0; i < update.length; i++) {
                y[i] += scale * (keep == null ? update[i] : keep[i] * update[i]);
            }
        }
    }

    /** {@code y[t][r] = Σ_c W[r][c] · x[t][c]}: with {@code Wᵀ}, the product is {@code y += x · Wᵀ} on {@link Gemm}. */
    public static void multiply(Parallel parallel, Param w, float[] x, int n, float[] y) {
        int rows = w.rows();
        int cols = w.cols();
        float[] transposed = w.transposedScratch();
        float[] v = w.value();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                transposed[c * rows + r] = v[r * cols + c];
            }
        }
        parallel.forRange(n, 4, (start, end) -> {
            java.util.Arrays.fill(y, start * rows, end * rows, 0f);
            Gemm.accumulate(start, end, rows, cols, x, cols, 1, transposed, rows, y, rows);
        });
    }

    /** Adds {@code ∂L/∂x} into {@code dx} and the gradients of W (when trainable) and of the adapter. */
    public static void backward(Parallel parallel, Param w, LoraAdapter lora, float[] dy, float[] x, int n, float[] dx,
            float[] hidden, float[] keep) {
        int rows = w.rows();
        int cols = w.cols();
        Gemm.inputGradient(parallel, dy, n, w.value(), rows, cols, dx);
        if (w.trainable()) {
            Gemm.weightGradient(parallel, dy, x, n, rows, cols, w.grad());
        }
        if (lora != null) {
            int rank = lora.rank();
            float[] scaled = new float[n * rows];
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] = lora.scale() * (keep == null ? dy[i] : keep[i] * dy[i]);
            }
            float[] dHidden = new float[n * rank];
            Gemm.weightGradient(parallel, scaled, hidden, n, rows, rank, lora.b().grad());
            Gemm.inputGradient(parallel, scaled, n, lora.b().value(), rows, rank, dHidden);
            Gemm.weightGradient(parallel, dHidden, x, n, rank, cols, lora.a().grad());
            Gemm.inputGradient(parallel, dHidden, n, lora.a().value(), rank, cols, dx);
        }
    }
}
