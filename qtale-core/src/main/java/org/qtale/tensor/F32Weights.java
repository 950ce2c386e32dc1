package org.qtale.tensor;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.QtaleException;

/** Float32 weights, row-major and little-endian in a (usually memory-mapped) segment. */
public final class F32Weights implements LinearWeights {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LITTLE_ENDIAN);

    private final MemorySegment data;
    private final int rows;
    private final int cols;

    public F32Weights(MemorySegment data, int rows, int cols) {
        if (data.byteSize() != (long) rows * cols * Float.BYTES) {
            throw new QtaleException("An F32 tensor of shape [" + rows + ", " + cols + "] needs "
                    + (long) rows * cols * Float.BYTES + " bytes but has " + data.byteSize() + ".");
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** Heap-backed weights, for tests and small tensors built in memory. */
    public static F32Weights of(float[] values, int rows, int cols) {
        MemorySegment segment = Arena.ofAuto().allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, segment, FLOAT, 0, values.length);
        return new F32Weights(segment, rows, cols);
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
    public DType dtype() {
        return DType.F32;
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    @Override
    public float get(int row, int col) {
        return data.get(FLOAT, ((long) row * cols + col) * Float.BYTES);
    }

    @Override
    public void copyRow(int row, float[] dst, int offset) {
        MemorySegment.copy(data, FLOAT, (long) row * cols * Float.BYTES, dst, offset, cols);
    }

    @Override
    public LinearInput prepare(float[] x, int nTokens) {
        return LinearInput.plain(x, nTokens, cols);
    }

    @Override
    public void multiply(LinearInput input, float[] out, int rowStart, int rowEnd) {
        float[] x = input.x();
        int nTokens = input.nTokens();
        if (nTokens == 1) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dot(r, x, 0);
            }
            return;
        }
        int r = rowStart;
        for (; r + 4 <= rowEnd; r += 4) {
            int t = 0;
            for (; t + 4 <= nTokens; t += 4) {
                tile4x4(r, t, x, out);
            }
            for (; t < nTokens; t++) {
                for (int i = 0; i < 4; i++) {
                    out[t * rows + r + i] = dot(r + i, x, t * cols);
                }
            }
        }
        for (; r < rowEnd; r++) {
            for (int t = 0; t < nTokens; t++) {
                out[t * rows + r] = dot(r, x, t * cols);
            }
        }
    }

    private FloatVector w(long byteOffset) {
        return FloatVector.fromMemorySegment(F, data, byteOffset, LITTLE_ENDIAN);
    }

    /** One row times one vector, four independent accumulators. */
    private float dot(int row, float[] x, int xOffset) {
        final int lanes = F.length();
        final long base = (long) row * cols * Float.BYTES;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int c = 0;
        for (int bound = cols - 4 * lanes; c <= bound; c += 4 * lanes) {
            long o = base + (long) c * Float.BYTES;
            a0 = w(o).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
            a1 = w(o + lanes * 4L).fma(FloatVector.fromArray(F, x, xOffset + c + lanes), a1);
            a2 = w(o + lanes * 8L).fma(FloatVector.fromArray(F, x, xOffset + c + 2 * lanes), a2);
            a3 = w(o + lanes * 12L).fma(FloatVector.fromArray(F, x, xOffset + c + 3 * lanes), a3);
        }
        for (int bound = cols - lanes; c <= bound; c += lanes) {
            a0 = w(base + (long) c * Float.BYTES).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            sum += data.get(FLOAT, base + (long) c * Float.BYTES) * x[xOffset + c];
        }
        return sum;
    }

    /**
     * Four rows times four tokens: each loaded weight vector is used for four tokens and each activation vector
     * for four rows, sixteen accumulators held in registers.
     */
    private void tile4x4(int r, int t, float[] x, float[] out) {
        final int lanes = F.length();
        final long rowBytes = (long) cols * Float.BYTES;
        final long b0 = r * rowBytes;
        final long b1 = b0 + rowBytes;
        final long b2 = b1 + rowBytes;
        final long b3 = b2 + rowBytes;
        final int x0 = t * cols;
        final int x1 = x0 + cols;
        final int x2 = x1 + cols;
        final int x3 = x2 + cols;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        int c = 0;
        for (int bound = cols - lanes; c <= bound; c += lanes) {
            long o = (long) c * Float.BYTES;
            FloatVector w0 = w(b0 + o);
            FloatVector w1 = w(b1 + o);
            FloatVector w2 = w(b2 + o);
            FloatVector w3 = w(b3 + o);
            FloatVector v = FloatVector.fromArray(F, x, x0 + c);
            c00 = w0.fma(v, c00);
            c10 = w1.fma(v, c10);
            c20 = w2.fma(v, c20);
            c30 = w3.fma(v, c30);
            v = FloatVector.fromArray(F, x, x1 + c);
            c01 = w0.fma(v, c01);
            c11 = w1.fma(v, c11);
            c21 = w2.fma(v, c21);
            c31 = w3.fma(v, c31);
            v = FloatVector.fromArray(F, x, x2 + c);
            c02 = w0.fma(v, c02);
            c12 = w1.fma(v, c12);
            c22 = w2.fma(v, c22);
            c32 = w3.fma(v, c32);
            v = FloatVector.fromArray(F, x, x3 + c);
            c03 = w0.fma(v, c03);
            c13 = w1.fma(v, c13);
            c23 = w2.fma(v, c23);
            c33 = w3.fma(v, c33);
        }
        float[] acc = {
            c00.reduceLanes(VectorOperators.ADD), c01.reduceLanes(VectorOperators.ADD),
            c02.reduceLanes(VectorOperators.ADD), c03.reduceLanes(VectorOperators.ADD),
            c10.reduceLanes(VectorOperators.ADD), c11.reduceLanes(VectorOperators.ADD),
            c12.reduceLanes(VectorOperators.ADD), c13.reduceLanes(VectorOperators.ADD),
            c20.reduceLanes(VectorOperators.ADD), c21.reduceLanes(VectorOperators.ADD),
            c22.reduceLanes(VectorOperators.ADD), c23.reduceLanes(VectorOperators.ADD),
            c30.reduceLanes(VectorOperators.ADD), c31.reduceLanes(VectorOperators.ADD),
            c32.reduceLanes(VectorOperators.ADD), c33.reduceLanes(VectorOperators.ADD),
        };
        for (int i = 0; i < 4; i++) {
            long rowBase = (r + i) * rowBytes;
            for (int j = 0; j < 4; j++) {
                float sum = acc[i * 4 + j];
                int xo = (t + j) * cols;
                for (int cc = c; cc < cols; cc++) {
                    sum += data.get(FLOAT, rowBase + (long) cc * Float.BYTES) * x[xo + cc];
                }
                out[(t + j) * rows + r + i] = sum;
            }
        }
    }
}
