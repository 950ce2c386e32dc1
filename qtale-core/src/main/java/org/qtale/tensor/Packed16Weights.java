package org.qtale.tensor;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.QtaleException;

/**
 * 16-bit float weights (F16 or BF16), row-major and little-endian, kept compressed in memory and widened inside the
 * kernel. The kernels load 32-bit lanes, each holding the weights of columns {@code 2j} (low half) and {@code 2j+1}
 * (high half), and widen both halves with lane-wise bit operations into an even and an odd vector, which meet the
 * activations in {@link LinearInput#evenOddSplit} layout. Each subclass writes its own widening into its kernels, so
 * that the JIT compiles each format's loop on its own.
 */
public abstract sealed class Packed16Weights implements LinearWeights permits BF16Weights, F16Weights {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LITTLE_ENDIAN);

    final MemorySegment data;
    final int rows;
    final int cols;
    final int pairs;

    Packed16Weights(MemorySegment data, int rows, int cols) {
        if (data.byteSize() != (long) rows * cols * 2) {
            throw new QtaleException("A 16-bit tensor of shape [" + rows + ", " + cols + "] needs "
                    + (long) rows * cols * 2 + " bytes but has " + data.byteSize() + ".");
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.pairs = cols / 2;
    }

    static MemorySegment offHeap(short[] bits) {
        MemorySegment segment = Arena.ofAuto().allocate((long) bits.length * 2, 64);
        MemorySegment.copy(bits, 0, segment, SHORT, 0, bits.length);
        return segment;
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

    /** {@code Σ_j W[row][2j]·even_j + W[row][2j+1]·odd_j} over all pairs, with the activations at {@code split[xo]};
     * {@code lanes} is scratch for the lane sum. */
    abstract float dotPairs(int row, float[] split, int xo, float[] lanes);

    /** {@link #dotPairs} of four rows against the first token, into {@code out}. */
    void dotPairs4(int row0, int row1, int row2, int row3, float[] split, float[] out, float[] lanes) {
        out[row0] = dotPairs(row0, split, 0, lanes);
        out[row1] = dotPairs(row1, split, 0, lanes);
        out[row2] = dotPairs(row2, split, 0, lanes);
        out[row3] = dotPairs(row3, split, 0, lanes);
    }

    /** Widens one row into {@code dst[off, off + 2·pairs)}: its even columns, then its odd ones. */
    abstract void widenRow(int row, float[] dst, int off);

    @Override
    public float get(int row, int col) {
        return widen(data.get(SHORT, ((long) row * cols + col) * 2));
    }

    @Override
    public LinearInput prepare(float[] x, int nTokens) {
        return LinearInput.evenOddSplit(x, nTokens, cols);
    }

    @Override
    public void multiply(LinearInput input, float[] out, int rowStart, int rowEnd) {
        int nTokens = input.nTokens();
        float[] split = input.split();
        if (nTokens == 1) {
            float[] lanes = VectorOps.laneScratch();
            // four rows a quarter of the range apart: four long sequential streams from memory
            int quarter = (rowEnd - rowStart) / 4;
            for (int r = rowStart; r < rowStart + quarter; r++) {
                dotPairs4(r, r + quarter, r + 2 * quarter, r + 3 * quarter, split, out, lanes);
            }
            for (int r = rowStart + 4 * quarter; r < rowEnd; r++) {
                out[r] = dotPairs(r, split, 0, lanes);
            }
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] += lastColumn(r, input.x(), 0);
            }
            return;
        }
        int n = 2 * pairs;
        float[] block = new float[4 * n];
        int r = rowStart;
        for (; r + 4 <= rowEnd; r += 4) {
            for (int i = 0; i < 4; i++) {
                widenRow(r + i, block, i * n);
            }
            MatMulTiles.fourRows(block, n, split, nTokens, out, rows, r);
        }
        for (; r < rowEnd; r++) {
            widenRow(r, block, 0);
            MatMulTiles.oneRow(block, n, split, nTokens, out, rows, r);
        }
        if ((cols & 1) != 0) {
            for (int t = 0; t < nTokens; t++) {
                for (int row = rowStart; row < rowEnd; row++) {
                    out[t * rows + row] += lastColumn(row, input.x(), t);
                }
            }
        }
    }

    /** The product of the unpaired last column when {@code cols} is odd, else 0. */
    private float lastColumn(int row, float[] x, int token) {
        if ((cols & 1) == 0) {
            return 0f;
        }
        return get(row, cols - 1) * x[token * cols + cols - 1];
    }

    /** The pairs a vector loop leaves over, in scalar code. */
    final float dotPairsTail(int row, int fromPair, float[] split, int xo) {
        long base = (long) row * cols * 2;
        float sum = 0;
        for (int j = fromPair; j < pairs; j++) {
            int packed = data.get(INT, base + 4L * j);
            sum += widen((short) packed) * split[xo + j] + widen((short) (packed >>> 16)) * split[xo + pairs + j];
        }
        return sum;
    }

    final void widenRowTail(int row, int fromPair, float[] dst, int off) {
        long base = (long) row * cols * 2;
        for (int j = fromPair; j < pairs; j++) {
            int packed = data.get(INT, base + 4L * j);
            dst[off + j] = widen((short) packed);
            dst[off + pairs + j] = widen((short) (packed >>> 16));
        }
    }

    final IntVector load(long byteOffset) {
        return IntVector.fromMemorySegment(I, data, byteOffset, LITTLE_ENDIAN);
    }
}
