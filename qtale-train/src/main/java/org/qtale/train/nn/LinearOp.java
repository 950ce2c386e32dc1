package org.qtale.train.nn;

import org.qtale.tensor.MatMul;
import org.qtale.tensor.Parallel;

/**
 * A linear layer {@code y = W x}, optionally with a LoRA branch {@code + scale · B (A x)}. The forward product runs
 * on the engine's prefill kernel; the backward products on {@link Gemm}. A frozen W gets no weight gradient, but the
 * gradient still flows through it to the input.
 */
public final class LinearOp {
    private LinearOp() {
    }

    /**
     * {@code y = W x (+ scale · B A x)} for {@code n} rows; with an adapter, {@code hidden} ({@code n × rank}) keeps
     * {@code A x} for the backward pass.
     */
    public static void forward(Parallel parallel, Param w, LoraAdapter lora, float[] x, int n, float[] y, float[] hidden) {
        MatMul.multiply(parallel, w.value(), w.rows(), w.cols(), x, n, y);
        if (lora != null) {
            int rank = lora.rank();
            MatMul.multiply(parallel, lora.a().value(), rank, w.cols(), x, n, hidden);
            float[] update = new float[n * w.rows()];
            MatMul.multiply(parallel, lora.b().value(), w.rows(), rank, hidden, n, update);
            float scale = lora.scale();
            for (int i = 0; i < update.length; i++) {
                y[i] += scale * update[i];
            }
        }
    }

    /** Adds {@code ∂L/∂x} into {@code dx} and the gradients of W (when trainable) and of the adapter. */
    public static void backward(Parallel parallel, Param w, LoraAdapter lora, float[] dy, float[] x, int n, float[] dx,
            float[] hidden) {
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
                scaled[i] = lora.scale() * dy[i];
            }
            float[] dHidden = new float[n * rank];
            Gemm.weightGradient(parallel, scaled, hidden, n, rows, rank, lora.b().grad());
            Gemm.inputGradient(parallel, scaled, n, lora.b().value(), rows, rank, dHidden);
            Gemm.weightGradient(parallel, dHidden, x, n, rank, cols, lora.a().grad());
            Gemm.inputGradient(parallel, dHidden, n, lora.a().value(), rank, cols, dx);
        }
    }
}
