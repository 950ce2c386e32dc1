package org.qtale.train.nn;

/** Mean cross-entropy of next-token targets over the positions that are not ignored (target {@code -1}). */
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
     * {@code (softmax(logits) − onehot(target)) · scale} into it (zero rows for ignored positions).
     */
    public static double lossAndGradient(float[] logits, int[] targets, int n, int vocab, float[] dlogits, float scale) {
        double total = 0;
        for (int t = 0; t < n; t++) {
            int o = t * vocab;
            if (targets[t] == IGNORE) {
                if (dlogits != null) {
                    java.util.Arrays.fill(dlogits, o, o + vocab, 0f);
                }
                continue;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[o + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(logits[o + v] - max);
            }
            double logSum = Math.log(sum) + max;
            total += logSum - logits[o + targets[t]];
            if (dlogits != null) {
                for (int v = 0; v < vocab; v++) {
                    dlogits[o + v] = (float) Math.exp(logits[o + v] - logSum) * scale;
                }
                dlogits[o + targets[t]] -= scale;
            }
        }
        return total;
    }
}
