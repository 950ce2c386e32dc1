package org.qtale.tensor;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.QtaleException;

/**
 * 16-bit float weights (F16 or BF16), row-major and little-endian, kept compressed in memory and widened inside the
 * kernel. The kernels load 32-bit lanes, each holding the weights of columns {@code 2j} (low half) and {@code 2j+1}
 * (high half), widen both halves with lane-wise bit operations and multiply them with the even and odd columns of
 * the activations ({@link LinearInput#deinterleaved}).
 */
public abstract sealed class Packed16Weights implements LinearWeights permits BF16Weights, F16Weights {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LITTLE_ENDIAN);

    private final MemorySegment data;
    private final int rows;
    private final int cols;
    private final int pairs;
    private final boolean brainFloat;

    Packed16Weights(MemorySegment data, int rows, int cols, boolean brainFloat) {
        if (data.byteSize() != (long) rows * cols * 2) {
            throw new QtaleException("A 16-bit tensor of shape [" + rows + ", " + cols + "] needs "
                    + (long) rows * cols * 2 + " bytes but has " + data.byteSize() + ".");
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.pairs = cols / 2;
        this.brainFloat = brainFloat;
    }

    static MemorySegment offHeap(short[] bits) {
        MemorySegment segment = Arena.ofAuto().allocate((long) bits.length * 2, 64);
        MemorySegment.copy(bits, 0, segment, SHORT, 0, bits.length);
        return segment;
    }

    public MemorySegment segment() {
        return data;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    /** Widens one stored 16-bit value. */
    abstract float widen(short bits);

    @Override
    public float get(int row, int col) {
        return widen(data.get(SHORT, ((long) row * cols + col) * 2));
    }

    @Override
    public LinearInput prepare(float[] x, int nTokens) {
        return LinearInput.deinterleaved(x, nTokens, cols);
    }

    // The two widenings branch on a final field; C2 unswitches the loop on it.
    private FloatVector low(IntVector v) {
        return brainFloat ? v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats() : halfToFloat(v.and(0xFFFF));
    }

    private FloatVector high(IntVector v) {
        return brainFloat ? v.and(0xFFFF0000).reinterpretAsFloats() : halfToFloat(v.lanewise(VectorOperators.LSHR, 16));
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
        return bits.blend(bits.or(0x7F800000), special).reinterpretAsFloats();
    }

    private IntVector load(long byteOffset) {
        return IntVector.fromMemorySegment(I, data, byteOffset, LITTLE_ENDIAN);
    }

    @Override
    public void multiply(LinearInput input, float[] out, int rowStart, int rowEnd) {
        int nTokens = input.nTokens();
        if (nTokens == 1) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dot(r, input, 0);
            }
            return;
        }
        int r = rowStart;
        for (; r + 4 <= rowEnd; r += 4) {
            int t = 0;
            for (; t + 4 <= nTokens; t += 4) {
                tile4x4(r, t, input, out);
            }
            for (; t < nTokens; t++) {
                for (int i = 0; i < 4; i++) {
                    out[t * rows + r + i] = dot(r + i, input, t);
                }
            }
        }
        for (; r < rowEnd; r++) {
            for (int t = 0; t < nTokens; t++) {
                out[t * rows + r] = dot(r, input, t);
            }
        }
    }

    /** The columns a vector loop cannot cover: the last incomplete pairs, and the last column when cols is odd. */
    private float tail(int row, int fromPair, LinearInput input, int token) {
        long base = (long) row * cols * 2;
        float[] even = input.even();
        float[] odd = input.odd();
        int xo = token * pairs;
        float sum = 0;
        for (int j = fromPair; j < pairs; j++) {
            int packed = data.get(INT, base + 4L * j);
            sum += widen((short) packed) * even[xo + j] + widen((short) (packed >>> 16)) * odd[xo + j];
        }
        if ((cols & 1) != 0) {
            sum += widen(data.get(SHORT, base + 2L * (cols - 1))) * input.x()[token * cols + cols - 1];
        }
        return sum;
    }

    private float dot(int row, LinearInput input, int token) {
        final int lanes = I.length();
        final long base = (long) row * cols * 2;
        final float[] even = input.even();
        final float[] odd = input.odd();
        final int xo = token * pairs;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int j = 0;
        for (int bound = pairs - 2 * lanes; j <= bound; j += 2 * lanes) {
            IntVector v = load(base + 4L * j);
            IntVector u = load(base + 4L * (j + lanes));
            a0 = low(v).fma(FloatVector.fromArray(F, even, xo + j), a0);
            a1 = high(v).fma(FloatVector.fromArray(F, odd, xo + j), a1);
            a2 = low(u).fma(FloatVector.fromArray(F, even, xo + j + lanes), a2);
            a3 = high(u).fma(FloatVector.fromArray(F, odd, xo + j + lanes), a3);
        }
        for (int bound = pairs - lanes; j <= bound; j += lanes) {
            IntVector v = load(base + 4L * j);
            a0 = low(v).fma(FloatVector.fromArray(F, even, xo + j), a0);
            a1 = high(v).fma(FloatVector.fromArray(F, odd, xo + j), a1);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + tail(row, j, input, token);
    }

    /** Four rows times four tokens; see {@link F32Weights} for the idea. */
    private void tile4x4(int r, int t, LinearInput input, float[] out) {
        final int lanes = I.length();
        final long rowBytes = (long) cols * 2;
        final long b0 = r * rowBytes;
        final long b1 = b0 + rowBytes;
        final long b2 = b1 + rowBytes;
        final long b3 = b2 + rowBytes;
        final float[] even = input.even();
        final float[] odd = input.odd();
        final int x0 = t * pairs;
        final int x1 = x0 + pairs;
        final int x2 = x1 + pairs;
        final int x3 = x2 + pairs;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        int j = 0;
        for (int bound = pairs - lanes; j <= bound; j += lanes) {
            long o = 4L * j;
            IntVector p0 = load(b0 + o);
            IntVector p1 = load(b1 + o);
            IntVector p2 = load(b2 + o);
            IntVector p3 = load(b3 + o);
            FloatVector l0 = low(p0), h0 = high(p0);
            FloatVector l1 = low(p1), h1 = high(p1);
            FloatVector l2 = low(p2), h2 = high(p2);
            FloatVector l3 = low(p3), h3 = high(p3);
            FloatVector e = FloatVector.fromArray(F, even, x0 + j);
            FloatVector d = FloatVector.fromArray(F, odd, x0 + j);
            c00 = h0.fma(d, l0.fma(e, c00));
            c10 = h1.fma(d, l1.fma(e, c10));
            c20 = h2.fma(d, l2.fma(e, c20));
            c30 = h3.fma(d, l3.fma(e, c30));
            e = FloatVector.fromArray(F, even, x1 + j);
            d = FloatVector.fromArray(F, odd, x1 + j);
            c01 = h0.fma(d, l0.fma(e, c01));
            c11 = h1.fma(d, l1.fma(e, c11));
            c21 = h2.fma(d, l2.fma(e, c21));
            c31 = h3.fma(d, l3.fma(e, c31));
            e = FloatVector.fromArray(F, even, x2 + j);
            d = FloatVector.fromArray(F, odd, x2 + j);
            c02 = h0.fma(d, l0.fma(e, c02));
            c12 = h1.fma(d, l1.fma(e, c12));
            c22 = h2.fma(d, l2.fma(e, c22));
            c32 = h3.fma(d, l3.fma(e, c32));
            e = FloatVector.fromArray(F, even, x3 + j);
            d = FloatVector.fromArray(F, odd, x3 + j);
            c03 = h0.fma(d, l0.fma(e, c03));
            c13 = h1.fma(d, l1.fma(e, c13));
            c23 = h2.fma(d, l2.fma(e, c23));
            c33 = h3.fma(d, l3.fma(e, c33));
        }
        FloatVector[] acc = {c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33};
        for (int i = 0; i < 4; i++) {
            for (int k = 0; k < 4; k++) {
                out[(t + k) * rows + r + i] = acc[i * 4 + k].reduceLanes(VectorOperators.ADD) + tail(r + i, j, input, t + k);
            }
        }
    }
}
