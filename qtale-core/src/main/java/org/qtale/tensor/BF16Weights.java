package org.qtale.tensor;

import java.lang.foreign.MemorySegment;

/** bfloat16 weights: the upper half of a float32, widened by a 16-bit shift. */
public final class BF16Weights extends Packed16Weights {
    public BF16Weights(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, true);
    }

    /** Rounds float weights to bfloat16 (nearest even) in a new heap segment. */
    public static BF16Weights of(float[] values, int rows, int cols) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Half.floatToBf16(values[i]);
        }
        return new BF16Weights(offHeap(bits), rows, cols);
    }

    @Override
    public DType dtype() {
        return DType.BF16;
    }

    @Override
    float widen(short bits) {
        return Half.bf16ToFloat(bits);
    }
}
