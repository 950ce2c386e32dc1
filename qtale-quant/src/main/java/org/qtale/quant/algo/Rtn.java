package org.qtale.quant.algo;

import org.qtale.quant.QuantizedMatrix;

/**
 * Round-to-nearest: every group of {@code groupSize} consecutive columns of every row gets the grid its
 * {@link GridRule} fits to the group's minimum and maximum, and every weight the nearest code,
 * {@code code = clamp(rint(w / scale) + zero, 0, 2^bits − 1)}.
 *
 * <p>{@code Rtn.quantize(w, GptqGrid.asymmetric(b), Weights.PER_CHANNEL)} is the {@code --nearest} baseline of
 * IST-DASLab/gptq {@code llama.py}; {@code new AwqGrid(b, true)} with groups of 128 is AWQ's
 * {@code pseudo_quantize_tensor} without the scale and clip search.
 */
public final class Rtn {
    private Rtn() {
    }

    /** @param groupSize columns per group, or {@link Weights#PER_CHANNEL} */
    public static QuantizedMatrix quantize(float[][] weights, GridRule rule, int groupSize) {
        int cols = Weights.columns(weights);
        int rows = weights.length;
        int g = Weights.groupSize(groupSize, cols);
        byte[] codes = new byte[rows * cols];
        QuantGrid[][] grids = new QuantGrid[rows][cols / g];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols / g; k++) {
                QuantGrid grid = rule.fit(weights[r], k * g, (k + 1) * g);
                grids[r][k] = grid;
                for (int c = k * g; c < (k + 1) * g; c++) {
                    codes[r * cols + c] = (byte) grid.code(weights[r][c]);
                }
            }
        }
        return Weights.assemble(rule.bits(), g, codes, grids, null);
    }
}
