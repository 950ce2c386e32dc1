package org.qtale.tensor;

/** Products that share one input, computed in a single parallel region (e.g. q, k and v; gate and up). */
public final class Linear {
    private Linear() {
    }

    /** {@code outs[i] = weights[i] · x} for {@code nTokens} tokens; the rows of all matrices are split among threads. */
    public static void applyAll(Parallel parallel, float[] x, int nTokens, LinearWeights[] weights, float[][] outs) {
        LinearInput[] inputs = new LinearInput[weights.length];
        int[] firstRow = new int[weights.length + 1];
        for (int i = 0; i < weights.length; i++) {
            inputs[i] = i > 0 && weights[i].canShareInput(weights[i - 1]) ? inputs[i - 1] : weights[i].prepare(x, nTokens);
            firstRow[i + 1] = firstRow[i] + weights[i].rows();
        }
        parallel.forRange(firstRow[weights.length], 4, (start, end) -> {
            for (int i = 0; i < weights.length; i++) {
                int from = Math.max(start, firstRow[i]);
                int to = Math.min(end, firstRow[i + 1]);
                if (from < to) {
                    weights[i].multiply(inputs[i], outs[i], from - firstRow[i], to - firstRow[i]);
                }
            }
        });
    }
}
