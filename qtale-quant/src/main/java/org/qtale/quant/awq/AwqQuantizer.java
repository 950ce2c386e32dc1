package org.qtale.quant.awq;

import org.qtale.quant.QuantizedMatrix;

/**
 * AWQ's round-to-nearest quantizer ({@code pseudo_quantize_tensor}, asymmetric, quant.md §1.1): per group
 * {@code scale = max(max − min, 1e-5) / (2^b − 1)}, {@code zero = clamp(−rint(min / scale), 0, 2^b − 1)},
 * {@code q = clamp(rint(x / scale) + zero, 0, 2^b − 1)}; the range is not forced through zero.
 */
final class AwqQuantizer {
    private final int bits;
    private final int groupSize;

    AwqQuantizer(int bits, int groupSize) {
        this.bits = bits;
        this.groupSize = groupSize;
    }

    /** The group size for rows of {@code cols} (a non-positive setting means one group per row). */
    int groupSize(int cols) {
        return groupSize <= 0 ? cols : groupSize;
    }

    /** Quantizes and dequantizes every group in place. */
    void pseudoQuantize(float[] w, int rows, int cols) {
        int g = groupSize(cols);
        for (int start = 0; start < rows * cols; start += g) {
            pseudoQuantizeGroup(w, start, g);
        }
    }

    void pseudoQuantizeGroup(float[] w, int start, int g) {
        int maxInt = (1 << bits) - 1;
        float[] range = range(w, start, g);
        float scale = scale(range, maxInt);
        float zero = zero(range, scale, maxInt);
        for (int i = start; i < start + g; i++) {
            float q = Math.max(0, Math.min(maxInt, (float) Math.rint(w[i] / scale) + zero));
            w[i] = (q - zero) * scale;
        }
    }

    QuantizedMatrix quantize(float[] w, int rows, int cols) {
        int g = groupSize(cols);
        int groups = cols / g;
        int maxInt = (1 << bits) - 1;
        byte[] codes = new byte[rows * cols];
        float[] scales = new float[rows * groups];
        byte[] zeros = new byte[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int gi = 0; gi < groups; gi++) {
                int start = r * cols + gi * g;
                float[] range = range(w, start, g);
                float scale = scale(range, maxInt);
                float zero = zero(range, scale, maxInt);
                scales[r * groups + gi] = scale;
                zeros[r * groups + gi] = (byte) zero;
                for (int i = start; i < start + g; i++) {
                    codes[i] = (byte) Math.max(0, Math.min(maxInt, (float) Math.rint(w[i] / scale) + zero));
                }
            }
        }
        return new QuantizedMatrix(rows, cols, bits, g, codes, scales, zeros, null);
    }

    private static float[] range(float[] w, int start, int g) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = start; i < start + g; i++) {
            min = Math.min(min, w[i]);
            max = Math.max(max, w[i]);
        }
        return new float[] {min, max};
    }

    private static float scale(float[] range, int maxInt) {
        return Math.max(range[1] - range[0], 1e-5f) / maxInt;
    }

    private static float zero(float[] range, float scale, int maxInt) {
        return Math.max(0, Math.min(maxInt, -(float) Math.rint(range[0] / scale)));
    }
}
