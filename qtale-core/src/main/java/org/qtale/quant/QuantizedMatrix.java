package org.qtale.quant;

import org.qtale.QtaleException;

/**
 * A group-quantized matrix in canonical, unpacked form: the common currency of the quantization algorithms, the
 * packed runtime formats and the GPTQ / AWQ checkpoint layouts.
 *
 * <p>{@code W[r][c] ≈ scales[r·groups + g] · (codes[r·cols + c] − zeros[r·groups + g])} with {@code g = group(c)}:
 * {@code c / groupSize}, or {@code groupIndex[c]} when the columns were quantized out of order (GPTQ act-order,
 * whose {@code g_idx} this is). Rows are output channels, columns input channels, as in {@code nn.Linear}; groups run
 * along the columns. Codes and zero points are unsigned, {@code 0 ≤ code, zero ≤ 2^bits − 1} (a symmetric
 * quantizer's signed codes are stored shifted, with a zero point of {@code 2^(bits−1)}). Scales are kept in float;
 * checkpoints and the runtime formats store them as float16, as AutoGPTQ and AutoAWQ do.
 *
 * @param groupSize  columns per group; equal to {@code cols} for one group per row (per-channel)
 * @param groupIndex null for {@code c / groupSize}, else the group of each column
 */
public record QuantizedMatrix(int rows, int cols, int bits, int groupSize, byte[] codes, float[] scales, byte[] zeros,
        int[] groupIndex) {
    public QuantizedMatrix {
        if (bits < 2 || bits > 8) {
            throw new QtaleException("Quantized weights need 2 to 8 bits, got " + bits + ".");
        }
        if (groupSize < 1 || cols % groupSize != 0) {
            throw new QtaleException("The group size " + groupSize + " does not divide the " + cols + " columns.");
        }
        int groups = cols / groupSize;
        if (codes.length != rows * cols || scales.length != rows * groups || zeros.length != rows * groups) {
            throw new QtaleException("Quantized tensors do not fit a " + rows + "x" + cols + " matrix with " + groups
                    + " groups per row.");
        }
        if (groupIndex != null && groupIndex.length != cols) {
            throw new QtaleException("The group index has " + groupIndex.length + " entries for " + cols + " columns.");
        }
    }

    /** Groups per row. */
    public int groups() {
        return cols / groupSize;
    }

    /** The largest code, {@code 2^bits − 1}. */
    public int maxCode() {
        return (1 << bits) - 1;
    }

    public int group(int col) {
        return groupIndex == null ? col / groupSize : groupIndex[col];
    }

    public int code(int row, int col) {
        return codes[row * cols + col] & 0xFF;
    }

    public int zero(int row, int group) {
        return zeros[row * groups() + group] & 0xFF;
    }

    public float scale(int row, int group) {
        return scales[row * groups() + group];
    }

    /** The dequantized weight {@code scale · (code − zero)}. */
    public float dequantize(int row, int col) {
        int g = group(col);
        return scale(row, g) * (code(row, col) - zero(row, g));
    }
}
