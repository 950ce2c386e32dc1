package org.qtale.adaptive;

import org.qtale.QtaleException;
import org.qtale.tensor.VectorOps;

/**
 * D-LLM's decision module in front of one layer: {@code z = W₂ · silu(rmsnorm(W₁ · x + b₁)) + b₂} over the residual
 * stream x entering the layer, with {@code z = (z_skip, z_exec)} and {@code p_exec = softmax(z)[1] = σ(z_exec − z_skip)}.
 *
 * @param w1   {@code width × dim}, row-major
 * @param b1   {@code width}
 * @param norm RMSNorm weight, {@code width}
 * @param w2   {@code 2 × width}: row 0 scores skipping, row 1 executing
 * @param b2   {@code 2}
 * @param eps  the RMSNorm epsilon (the model's)
 */
public record Router(float[] w1, float[] b1, float[] norm, float[] w2, float[] b2, int dim, float eps) {
    public Router {
        int width = b1.length;
        if (w1.length != width * dim || norm.length != width || w2.length != 2 * width || b2.length != 2) {
            throw new QtaleException("Router tensors do not fit width " + width + " and dimension " + dim + ".");
        }
    }

    public int width() {
        return b1.length;
    }

    /** D-LLM's initial router for tests and new fine-tuning: zero weights, unit norm, output bias (0.1, 2.0). */
    public static Router initial(int dim, int width, float eps) {
        float[] norm = new float[width];
        java.util.Arrays.fill(norm, 1f);
        return new Router(new float[width * dim], new float[width], norm, new float[2 * width], new float[] {0.1f, 2.0f},
                dim, eps);
    }

    /** The execute-minus-skip logit gap {@code Δ = z_exec − z_skip} for the vector at {@code x[offset]}. */
    public float logitGap(float[] x, int offset, float[] hidden, float[] lanes) {
        int width = width();
        for (int i = 0; i < width; i++) {
            hidden[i] = VectorOps.dot(w1, i * dim, x, offset, dim, lanes) + b1[i];
        }
        VectorOps.rmsNorm(hidden, 0, hidden, 0, norm, eps, width);
        for (int i = 0; i < width; i++) {
            float h = hidden[i];
            hidden[i] = h / (1f + VectorOps.exp(-h));
        }
        float skip = VectorOps.dot(w2, 0, hidden, 0, width, lanes) + b2[0];
        float execute = VectorOps.dot(w2, width, hidden, 0, width, lanes) + b2[1];
        return execute - skip;
    }

    /** {@code p_exec = σ(Δ)}. */
    public static float probability(float logitGap) {
        return 1f / (1f + (float) Math.exp(-logitGap));
    }
}
