package org.qtale.quant.algo;

/**
 * How a group's grid follows from its values. Both reference rules only look at the group's minimum and maximum.
 */
public sealed interface GridRule permits GptqGrid, AwqGrid {
    int bits();

    /** The grid for a group whose smallest value is {@code min} and largest {@code max}. */
    QuantGrid fit(float min, float max);

    /** The grid for {@code values[from, to)}. */
    default QuantGrid fit(float[] values, int from, int to) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            min = Math.min(min, values[i]);
            max = Math.max(max, values[i]);
        }
        return fit(min, max);
    }

    /** The largest code, {@code 2^bits − 1}. */
    default int maxCode() {
        return (1 << bits()) - 1;
    }
}
