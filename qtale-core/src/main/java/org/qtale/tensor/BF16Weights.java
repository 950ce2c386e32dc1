package org.qtale.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/** bfloat16 weights: the upper half of a float32, widened by a 16-bit shift. */
public final class BF16Weights extends Packed16Weights {
    public BF16Weights(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    /** Rounds float weights to bfloat16 (nearest even) in a new off-heap segment. */
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

    private static FloatVector low(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector high(IntVector v) {
        return v.and(0xFFFF0000).reinterpretAsFloats();
    }

    @Override
    float dotPairs(int row, float[] split, int xo, float[] lanes) {
        final int width = I.length();
        final long base = (long) row * cols * 2;
        final int xOdd = xo + pairs;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int j = 0;
        for (int bound = pairs - 2 * width; j <= bound; j += 2 * width) {
            IntVector v = load(base + 4L * j);
            IntVector u = load(base + 4L * (j + width));
            a0 = low(v).fma(FloatVector.fromArray(F, split, xo + j), a0);
            a1 = high(v).fma(FloatVector.fromArray(F, split, xOdd + j), a1);
            a2 = low(u).fma(FloatVector.fromArray(F, split, xo + j + width), a2);
            a3 = high(u).fma(FloatVector.fromArray(F, split, xOdd + j + width), a3);
        }
        for (int bound = pairs - width; j <= bound; j += width) {
            IntVector v = load(base + 4L * j);
            a0 = low(v).fma(FloatVector.fromArray(F, split, xo + j), a0);
            a1 = high(v).fma(FloatVector.fromArray(F, split, xOdd + j), a1);
        }
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        return VectorOps.sumLanes(lanes) + dotPairsTail(row, j, split, xo);
    }

    @Override
    void widenRow(int row, float[] dst, int off) {
        final int lanes = I.length();
        final long base = (long) row * cols * 2;
        int j = 0;
        for (int bound = pairs - lanes; j <= bound; j += lanes) {
            IntVector v = load(base + 4L * j);
            low(v).intoArray(dst, off + j);
            high(v).intoArray(dst, off + pairs + j);
        }
        widenRowTail(row, j, dst, off);
    }
}
