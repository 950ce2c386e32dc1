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

    /** Four rows at once: four weight streams in flight, each activation vector loaded once for all four. */
    @Override
    void dotPairs4(int row0, int row1, int row2, int row3, float[] split, float[] out, float[] lanes) {
        final int width = I.length();
        final long rowBytes = (long) cols * 2;
        final long b0 = row0 * rowBytes;
        final long b1 = row1 * rowBytes;
        final long b2 = row2 * rowBytes;
        final long b3 = row3 * rowBytes;
        FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F);
        FloatVector e1 = FloatVector.zero(F), o1 = FloatVector.zero(F);
        FloatVector e2 = FloatVector.zero(F), o2 = FloatVector.zero(F);
        FloatVector e3 = FloatVector.zero(F), o3 = FloatVector.zero(F);
        int j = 0;
        for (int bound = pairs - width; j <= bound; j += width) {
            FloatVector even = FloatVector.fromArray(F, split, j);
            FloatVector odd = FloatVector.fromArray(F, split, pairs + j);
            long o = 4L * j;
            IntVector v0 = load(b0 + o);
            IntVector v1 = load(b1 + o);
            IntVector v2 = load(b2 + o);
            IntVector v3 = load(b3 + o);
            e0 = low(v0).fma(even, e0);
            o0 = high(v0).fma(odd, o0);
            e1 = low(v1).fma(even, e1);
            o1 = high(v1).fma(odd, o1);
            e2 = low(v2).fma(even, e2);
            o2 = high(v2).fma(odd, o2);
            e3 = low(v3).fma(even, e3);
            o3 = high(v3).fma(odd, o3);
        }
        e0.add(o0).intoArray(lanes, 0);
        out[row0] = VectorOps.sumLanes(lanes) + dotPairsTail(row0, j, split, 0);
        e1.add(o1).intoArray(lanes, 0);
        out[row1] = VectorOps.sumLanes(lanes) + dotPairsTail(row1, j, split, 0);
        e2.add(o2).intoArray(lanes, 0);
        out[row2] = VectorOps.sumLanes(lanes) + dotPairsTail(row2, j, split, 0);
        e3.add(o3).intoArray(lanes, 0);
        out[row3] = VectorOps.sumLanes(lanes) + dotPairsTail(row3, j, split, 0);
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
