package org.qtale.quant.algo;

import org.qtale.QtaleException;
import org.qtale.quant.QuantizedMatrix;

/** Shapes and conversions shared by the algorithms: weight arrays, group sizes, grids in and out of a matrix. */
public final class Weights {
    /** The reference scripts' {@code --groupsize -1}: one group per row. */
    public static final int PER_CHANNEL = -1;

    private Weights() {
    }

    /** The number of columns of a non-empty rectangular {@code float[rows][cols]}. */
    public static int columns(float[][] weights) {
        if (weights.length == 0 || weights[0].length == 0) {
            throw new QtaleException("The weight matrix is empty.");
        }
        int cols = weights[0].length;
        for (float[] row : weights) {
            if (row.length != cols) {
                throw new QtaleException("The weight matrix is not rectangular: rows of " + cols + " and "
                        + row.length + " columns.");
            }
        }
        return cols;
    }

    /** {@code groupSize} in columns: {@link #PER_CHANNEL} becomes {@code cols}; anything else must divide it. */
    public static int groupSize(int groupSize, int cols) {
        if (groupSize == PER_CHANNEL) {
            return cols;
        }
        if (groupSize < 1 || cols % groupSize != 0) {
            throw new QtaleException("The group size " + groupSize + " does not divide the " + cols + " columns.");
        }
        return groupSize;
    }

    /** Row-major copy. */
    public static float[] flatten(float[][] weights) {
        int cols = columns(weights);
        float[] flat = new float[weights.length * cols];
        for (int r = 0; r < weights.length; r++) {
            System.arraycopy(weights[r], 0, flat, r * cols, cols);
        }
        return flat;
    }

    /** Every weight as {@code scale · (code − zero)}. */
    public static float[][] dequantize(QuantizedMatrix m) {
        float[][] out = new float[m.rows()][m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                out[r][c] = m.dequantize(r, c);
            }
        }
        return out;
    }

    /** The grid of group {@code g} of row {@code r}. */
    public static QuantGrid grid(QuantizedMatrix m, int r, int g) {
        return new QuantGrid(m.scale(r, g), m.zero(r, g), m.maxCode());
    }

    /** A matrix from row-major codes and one grid per row and group ({@code grids[r][g]}). */
    static QuantizedMatrix assemble(int bits, int groupSize, byte[] codes, QuantGrid[][] grids, int[] groupIndex) {
        int rows = grids.length;
        int groups = grids[0].length;
        float[] scales = new float[rows * groups];
        byte[] zeros = new byte[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = grids[r][g].scale();
                zeros[r * groups + g] = (byte) grids[r][g].zero();
            }
        }
        return new QuantizedMatrix(rows, groups * groupSize, bits, groupSize, codes, scales, zeros, groupIndex);
    }
}
