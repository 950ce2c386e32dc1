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
            float[] lanes = VectorOps.laneScratch();
            int r = rowStart;
            for (; r + 4 <= rowEnd; r += 4) {
                dot4(r, x, out, lanes);
            }
            for (; r < rowEnd; r++) {
                out[r] = dot(r, x, 0, lanes);
            }
            return;
        }
        // prefill: copy four rows at a time into an array and run them against every token
        float[] block = new float[4 * cols];
        int r = rowStart;
        for (; r + 4 <= rowEnd; r += 4) {
            MemorySegment.copy(data, FLOAT, (long) r * cols * Float.BYTES, block, 0, 4 * cols);
            MatMulTiles.fourRows(block, cols, x, nTokens, out, rows, r);
        }
        for (; r < rowEnd; r++) {
            MemorySegment.copy(data, FLOAT, (long) r * cols * Float.BYTES, block, 0, cols);
            MatMulTiles.oneRow(block, cols, x, nTokens, out, rows, r);
        }
    }

    private FloatVector w(long byteOffset) {
        return FloatVector.fromMemorySegment(F, data, byteOffset, LITTLE_ENDIAN);
    }

    /**
     * Four rows times one vector: four weight streams in flight and each activation vector loaded once for all four,
     * which streams faster than one row at a time.
     */
    private void dot4(int row, float[] x, float[] out, float[] lanes) {
        final int width = F.length();
        final long rowBytes = (long) cols * Float.BYTES;
        final long b0 = row * rowBytes;
        final long b1 = b0 + rowBytes;
        final long b2 = b1 + rowBytes;
        final long b3 = b2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int c = 0;
        for (int bound = cols - width; c <= bound; c += width) {
            long o = (long) c * Float.BYTES;
            FloatVector v = FloatVector.fromArray(F, x, c);
            a0 = w(b0 + o).fma(v, a0);
            a1 = w(b1 + o).fma(v, a1);
            a2 = w(b2 + o).fma(v, a2);
            a3 = w(b3 + o).fma(v, a3);
        }
        a0.intoArray(lanes, 0);
        out[row] = VectorOps.sumLanes(lanes) + tail(b0, c, x);
        a1.intoArray(lanes, 0);
        out[row + 1] = VectorOps.sumLanes(lanes) + tail(b1, c, x);
        a2.intoArray(lanes, 0);
        out[row + 2] = VectorOps.sumLanes(lanes) + tail(b2, c, x);
        a3.intoArray(lanes, 0);
        out[row + 3] = VectorOps.sumLanes(lanes) + tail(b3, c, x);
    }

    private float tail(long rowBase, int from, float[] x) {
        float sum = 0;
        for (int c = from; c < cols; c++) {
            sum += data.get(FLOAT, rowBase + (long) c * Float.BYTES) * x[c];
        }
        return sum;
    }

    /** One row times one vector, four independent accumulators. */
    private float dot(int row, float[] x, int xOffset, float[] lanes) {
        final int width = F.length();
        final long base = (long) row * cols * Float.BYTES;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int c = 0;
        for (int bound = cols - 4 * width; c <= bound; c += 4 * width) {
            long o = base + (long) c * Float.BYTES;
            a0 = w(o).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
            a1 = w(o + width * 4L).fma(FloatVector.fromArray(F, x, xOffset + c + width), a1);
            a2 = w(o + width * 8L).fma(FloatVector.fromArray(F, x, xOffset + c + 2 * width), a2);
            a3 = w(o + width * 12L).fma(FloatVector.fromArray(F, x, xOffset + c + 3 * width), a3);
        }
        for (int bound = cols - width; c <= bound; c += width) {
            a0 = w(base + (long) c * Float.BYTES).fma(FloatVector.fromArray(F, x, xOffset + c), a0);
        }
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float sum = VectorOps.sumLanes(lanes);
        for (; c < cols; c++) {
            sum += data.get(FLOAT, base + (long) c * Float.BYTES) * x[xOffset + c];
        }
        return sum;
    }
}
