package org.qtale.train.nn;

import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/** Cross-entropy of next-token targets, summed over the positions that are not ignored (target {@code -1}). */
public final class CrossEntropyOp {
    public static final int IGNORE = -1;

    private CrossEntropyOp() {
    }

    /** Positions whose target counts. */
    public static int counted(int[] targets, int n) {
        int count = 0;
        for (int t = 0; t < n; t++) {
            if (targets[t] != IGNORE) {
                count++;
            }
        }
        return count;
    }

    /**
     * Returns the summed loss over counted positions and, if {@code dlogits} is not null, writes
     * {@code (softmax(logits) − onehot(target)) · scale} into it (zero rows for ignored positions). With a gradient the
     * probabilities come from the engine's vectorized softmax; without, the loss is summed in double precision.
     */
    public static double lossAndGradient(Parallel parallel, float[] logits, int[] targets, int n, int vocab,
            float[] dlogits, float scale) {
        double[] rowLoss = new double[n];
        parallel.forRange(n, (start, end) -> {
            float[] lanes = VectorOps.laneScratch();
            for (int t = start; t < end; t++) {
                rowLoss[t] = row(logits, targets[t], t * vocab, vocab, dlogits, scale, lanes);
            }
        });
        double total = 0;
        for (double loss : rowLoss) {
            total += loss; // in row order, whatever the thread count
        }
        return total;
    }

    private static double row(float[] logits, int target, int o, int vocab, float[] dlogits, float scale, float[] lanes) {
        if (target == IGNORE) {
            if (dlogits != null) {
                java.util.Arrays.fill(dlogits, o, o + vocab, 0f);
            }
            return 0;
        }
        if (dlogits == null) {
            return exactLoss(logits, o, vocab, target);
        }
        System.arraycopy(logits, o, dlogits, o, vocab);
        VectorOps.softmax(dlogits, o, vocab, lanes);
        float p = dlogits[o + target];
        double loss = p > 0 ? -Math.log(p) : exactLoss(logits, o, vocab, target);
        for (int v = o; v < o + vocab; v++) {
            dlogits[v] *= scale;
        }
        dlogits[o + target] -= scale;
        return loss;
    }

    /** {@code log Σ exp(logits) − logits[target]} (minus the log-probability of target) in double precision. */
    public static double exactLoss(float[] logits, int offset, int vocab, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits[offset + v]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            sum += Math.exp(logits[offset + v] - max);
        }
        return Math.log(sum) + max - logits[offset + target];
    }
}
