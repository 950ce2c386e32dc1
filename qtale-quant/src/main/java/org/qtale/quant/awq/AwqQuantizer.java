package org.qtale.quant.awq;

import org.qtale.quant.QuantizedMatrix;
import org.qtale.quant.algo.AwqGrid;
import org.qtale.quant.algo.QuantGrid;
import org.qtale.quant.algo.Rtn;

/**
 * AWQ's round-to-nearest quantizer on flat row-major matrices: {@link AwqGrid} (asymmetric, the range not forced
 * through zero) per group of {@code groupSize} columns, as AWQ's searches and its final quantization use it.
 */
final class AwqQuantizer {
    private final AwqGrid rule;
    private final int groupSize;

    AwqQuantizer(int bits, int groupSize) {
        this.rule = new AwqGrid(bits, true);
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
        QuantGrid grid = rule.fit(w, start, start + g);
        for (int i = start; i < start + g; i++) {
            w[i] = grid.roundTrip(w[i]);
        }
    }

    QuantizedMatrix quantize(float[] w, int rows, int cols) {
        float[][] matrix = new float[rows][];
        for (int r = 0; r < rows; r++) {
            matrix[r] = java.util.Arrays.copyOfRange(w, r * cols, (r + 1) * cols);
        }
        return Rtn.quantize(matrix, rule, groupSize(cols));
    }
}
