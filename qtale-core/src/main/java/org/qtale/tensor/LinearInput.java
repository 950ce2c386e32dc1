package org.qtale.tensor;

/**
 * Activations prepared for a {@link LinearWeights} kernel: {@code nTokens} vectors of length {@code cols}, row-major in
 * {@code x}, plus what the format's kernel reads instead.
 *
 * <ul>
 *   <li>16-bit formats store each token split, its even columns first and then its odd ones, in {@code split}
 *       ({@code split[t·2p + j] = x[t·cols + 2j]}, {@code split[t·2p + p + j] = x[t·cols + 2j + 1]} with {@code p =
 *       cols/2}), because those kernels widen two packed weights per 32-bit lane into an even and an odd vector.</li>
 *   <li>Group-quantized formats store the activations in the weights' column order in {@code split} (a permutation of
 *       {@code x} for act-order weights, else {@code x} itself), and for one token the sum of the activations over
 *       each group in {@code groupSums}, to apply the zero points once per group. When their single-token kernel
 *       runs on integer activations, {@code codes} holds the token rounded to 8-bit integers (widened to shorts, in
 *       the kernel's lane order), {@code groupScales} one scale per group, and {@code groupSums} the sums of the
 *       integer codes.</li>
 * </ul>
 */
public record LinearInput(float[] x, int nTokens, int cols, float[] split, float[] groupSums, short[] codes,
        float[] groupScales) {

    public static LinearInput plain(float[] x, int nTokens, int cols) {
        return new LinearInput(x, nTokens, cols, null, null, null, null);
    }

    public static LinearInput evenOddSplit(float[] x, int nTokens, int cols) {
        int pairs = cols / 2;
        float[] split = new float[nTokens * 2 * pairs];
        for (int t = 0; t < nTokens; t++) {
            int src = t * cols;
            int dst = t * 2 * pairs;
            for (int j = 0; j < pairs; j++) {
                split[dst + j] = x[src + 2 * j];
                split[dst + pairs + j] = x[src + 2 * j + 1];
            }
        }
        return new LinearInput(x, nTokens, cols, split, null, null, null);
    }

    /** Activations in a group-quantized format's column order, with their sums per group ({@code null} if unused). */
    public static LinearInput grouped(float[] x, int nTokens, int cols, float[] reordered, float[] groupSums) {
        return new LinearInput(x, nTokens, cols, reordered, groupSums, null, null);
    }

    /**
     * One token in a group-quantized format's column order, also rounded to 8-bit integer {@code codes} (in the
     * kernel's lane order) with a scale and the sum of the codes per group.
     */
    public static LinearInput groupedIntegers(float[] x, int cols, float[] reordered, short[] codes, float[] groupScales,
            float[] codeSums) {
        return new LinearInput(x, 1, cols, reordered, codeSums, codes, groupScales);
    }
}
