package org.qtale.train.nn;

import java.util.SplittableRandom;

/**
 * A low-rank update of a linear layer, {@code W x + scale · B (A x)} with {@code A} of shape {@code rank × cols} and
 * {@code B} of shape {@code rows × rank}. As in D-LLM's code: A starts normal with standard deviation {@code 1/rank},
 * B at zero (so training starts from the base model); {@link #mergeInto} folds the update into W for saving.
 */
public record LoraAdapter(Param a, Param b, float scale) {
    public int rank() {
        return a.rows();
    }

    public static LoraAdapter create(Param base, int rank, float scale, SplittableRandom random) {
        if (rank < 1 || rank > Math.min(base.rows(), base.cols())) {
            throw new IllegalArgumentException("LoRA rank " + rank + " does not fit " + base.name() + " of shape "
                    + base.rows() + "x" + base.cols());
        }
        String stem = base.name().endsWith(".weight") ? base.name().substring(0, base.name().length() - 7) : base.name();
        Param a = new Param(stem + ".lora_A.weight", rank, base.cols());
        float[] values = a.value();
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (LlamaParameters.gaussian(random) / rank);
        }
        return new LoraAdapter(a, new Param(stem + ".lora_B.weight", base.rows(), rank), scale);
    }

    /** {@code base += scale · B · A}. */
    public void mergeInto(Param base) {
        int rows = base.rows();
        int cols = base.cols();
        int rank = rank();
        float[] w = base.value();
        float[] av = a.value();
        float[] bv = b.value();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double sum = 0;
                for (int k = 0; k < rank; k++) {
                    sum += (double) bv[r * rank + k] * av[k * cols + c];
                }
                w[r * cols + c] += (float) (scale * sum);
            }
        }
    }
}
