package org.qtale.tensor;

import java.lang.foreign.MemorySegment;

/** IEEE half-precision weights. */
public final class F16Weights extends Packed16Weights {
    public F16Weights(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, false);
    }

    /** Rounds float weights to half precision in a new heap segment. */
    public static F16Weights of(float[] values, int rows, int cols) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Half.floatToF16(values[i]);
        }
        return new F16Weights(offHeap(bits), rows, cols);
    }

    @Override
    public DType dtype() {
        return DType.F16;
    }

    @Override
    float widen(short bits) {
        return Half.f16ToFloat(bits);
    }
}
