package org.qtale.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** IEEE half-precision weights. */
public final class F16Weights extends Packed16Weights {
    public F16Weights(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    /** Rounds float weights to half precision in a new off-heap segment. */
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

    /**
     * IEEE half to float for values in the low 16 bits of each lane: shifting the magnitude into a float's position
     * and scaling by 2^112 re-biases the exponent and turns half subnormals into normal floats; infinities and NaNs
     * get the all-ones exponent back.
     */
    private static FloatVector halfToFloat(IntVector h) {
        FloatVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        IntVector bits = magnitude.reinterpretAsInts().or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16));
        VectorMask<Integer> special = h.and(0x7C00).eq(0x7C00);
        return bits.lanewise(VectorOperators.OR, 0x7F800000, special).reinterpretAsFloats();
    }

    @Override
    float dotPairs(int row, float[] split, int xo, float[] lanes) {
        final int width = I.length();
        final long base = (long) row * cols * 2;
        final int xOdd = xo + pairs;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        int j = 0;
        for (int bound = pairs - width; j <= bound; j += width) {
            IntVector v = load(base + 4L * j);
            a0 = halfToFloat(v.and(0xFFFF)).fma(FloatVector.fromArray(F, split, xo + j), a0);
            a1 = halfToFloat(v.lanewise(VectorOperators.LSHR, 16)).fma(FloatVector.fromArray(F, split, xOdd + j), a1);
        }
        a0.add(a1).intoArray(lanes, 0);
        return VectorOps.sumLanes(lanes) + dotPairsTail(row, j, split, xo);
    }

    @Override
    void widenRow(int row, float[] dst, int off) {
        final int lanes = I.length();
        final long base = (long) row * cols * 2;
        int j = 0;
        for (int bound = pairs - lanes; j <= bound; j += lanes) {
            IntVector v = load(base + 4L * j);
            halfToFloat(v.and(0xFFFF)).intoArray(dst, off + j);
            halfToFloat(v.lanewise(VectorOperators.LSHR, 16)).intoArray(dst, off + pairs + j);
        }
        widenRowTail(row, j, dst, off);
    }
}
