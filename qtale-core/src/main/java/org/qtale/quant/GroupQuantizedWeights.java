package org.qtale.quant;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.QtaleException;
import org.qtale.tensor.DType;
import org.qtale.tensor.LinearInput;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.MatMulTiles;
import org.qtale.tensor.QuantizedLinearWeights;
import org.qtale.tensor.VectorOps;

/**
 * Group-wise asymmetric integer weights at 2, 3, 4 or 8 bits: {@code W[r][c] = scale · (code − zero)} with one float16
 * scale and one {@code bits}-bit zero point per row and group of {@code groupSize} consecutive columns, dequantized on
 * the fly against float activations (W4A16 and friends).
 *
 * <h2>Layout</h2>
 * Each row is stored on its own, its groups one after the other, so that a row streams from memory front to back. A
 * row is cut into <i>slots</i> of 16 consecutive columns and the slots into <i>chunks</i> of {@code codesPerLane}
 * slots (4 at 2 bits, 8 at 3 bits, 2 at 4 bits, 1 at 8 bits). Lane {@code j < 16} of a chunk is a word of {@code
 * codesPerLane · bits} bits (8, or 24 at 3 bits) holding the codes of columns {@code 16m + j} of the chunk at bits
 * {@code m·bits}, {@code m < codesPerLane}; byte {@code p} of the sixteen words is stored as a 16-byte plane, so a chunk
 * is 16 bytes (48 at 3 bits). At 4 bits this is the GGUF Q4_0 nibble order: byte {@code j} holds column {@code j} in
 * its low nibble and column {@code j + 16} in its high nibble. The last chunk of a row is padded with zero codes, and
 * the last slot too when {@code cols} is not a multiple of 16; there is no padding when {@code cols} is a multiple of
 * 128. Scales are a {@code short[rows·groups]} of float16 bits, zero points a little-endian bit stream of {@code
 * rows·groups} codes of {@code bits} bits.
 *
 * <p>Act-order matrices (a {@code groupIndex} that is not {@code c / groupSize}) are stored with their columns permuted
 * so that each group is contiguous; {@link #prepare} permutes the activations the same way.
 *
 * <h2>Kernels</h2>
 * Decode (one token) loads a chunk's planes, widens the bytes to 32-bit lanes (one vector of 16 lanes covers a chunk
 * on 512-bit hardware, narrower vectors take it in parts), and for each slot shifts and masks out the codes, converts
 * them to float and multiplies them with the activations of the slot's 16 columns, four rows at a time. The zero points
 * are folded out of the inner loop: per group {@code Σ scale·(q − z)·x = scale·(Σ q·x − z·Σ x)}, where the group sums
 * {@code Σ x} are computed once per call in {@link #prepare}. Prefill (several tokens) dequantizes four rows at a time
 * into floats and runs them against every token with {@link MatMulTiles}. Layouts the vector kernel does not cover (a
 * group size that is not a multiple of 16) take the same prefill path with scalar dequantization.
 */
public final class GroupQuantizedWeights implements QuantizedLinearWeights {
    /** Columns per slot, and lanes of a chunk. */
    private static final int SLOT = 16;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> PLANE = ByteVector.SPECIES_128;
    private static final int LANES = F.length();
    /** Vectors per slot: 1 on 512-bit hardware, 2 on 256-bit, 4 on 128-bit. */
    private static final int PARTS = SLOT / LANES;
    private static final boolean LANES_FIT = LANES <= SLOT && SLOT % LANES == 0 && I.length() == LANES;

    private final int rows;
    private final int cols;
    private final int bits;
    private final int groupSize;
    private final int groups;
    private final int codeMask;
    /** Codes per 8- or 24-bit lane word, i.e. slots per chunk. */
    private final int codesPerLane;
    /** 16-byte planes per chunk. */
    private final int planes;
    private final int chunkBytes;
    private final int slotsPerRow;
    private final int chunksPerRow;
    private final long rowBytes;
    /** Slots per group, when the vector kernel applies (else 0). */
    private final int slotsPerGroup;
    private final MemorySegment codes;
    private final short[] scales;
    private final byte[] zeros;
    /** Null, or the original column of each stored column. */
    private final int[] permutation;
    /** Null, or the stored position of each original column. */
    private final int[] position;

    private GroupQuantizedWeights(QuantizedMatrix m, int[] permutation) {
        this.rows = m.rows();
        this.cols = m.cols();
        this.bits = m.bits();
        this.groupSize = m.groupSize();
        this.groups = m.groups();
        this.codeMask = m.maxCode();
        this.codesPerLane = switch (bits) {
            case 2 -> 4;
            case 3 -> 8;
            case 4 -> 2;
            case 8 -> 1;
            default -> throw new QtaleException("qtale packs 2, 3, 4 and 8-bit weights, not " + bits + "-bit ones.");
        };
        this.planes = codesPerLane * bits / 8;
        this.chunkBytes = SLOT * planes;
        this.slotsPerRow = (cols + SLOT - 1) / SLOT;
        this.chunksPerRow = (slotsPerRow + codesPerLane - 1) / codesPerLane;
        this.rowBytes = (long) chunksPerRow * chunkBytes;
        this.slotsPerGroup = LANES_FIT && groupSize % SLOT == 0 ? groupSize / SLOT : 0;
        this.permutation = permutation;
        this.position = permutation == null ? null : inverse(permutation);
        this.codes = packCodes(m);
        this.scales = packScales(m);
        this.zeros = packZeros(m);
    }

    /** Packs a quantized matrix; act-order columns are permuted so that each group is contiguous. */
    public static GroupQuantizedWeights of(QuantizedMatrix m) {
        return new GroupQuantizedWeights(m, groupOrder(m));
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
    public int bits() {
        return bits;
    }

    @Override
    public int groupSize() {
        return groupSize;
    }

    /** Whether the columns are stored permuted (act-order). */
    public boolean permuted() {
        return permutation != null;
    }

    @Override
    public DType dtype() {
        return DType.quantized(bits);
    }

    /** Codes, float16 scales, packed zero points, and for act-order the permutation and its inverse. */
    @Override
    public long byteSize() {
        long bytes = codes.byteSize() + 2L * scales.length + zeros.length;
        return permutation == null ? bytes : bytes + 8L * cols;
    }

    @Override
    public float get(int row, int col) {
        int stored = position == null ? col : position[col];
        int group = stored / groupSize;
        return scale(row, group) * (code(row, stored) - zero(row, group));
    }

    @Override
    public void copyRow(int row, float[] dst, int offset) {
        if (permutation == null) {
            dequantizeRow(row, dst, offset);
            return;
        }
        float[] stored = new float[cols];
        dequantizeRow(row, stored, 0);
        for (int s = 0; s < cols; s++) {
            dst[offset + permutation[s]] = stored[s];
        }
    }

    @Override
    public boolean canShareInput(LinearWeights other) {
        return other instanceof GroupQuantizedWeights o && o.cols == cols && o.groupSize == groupSize
                && (o.permutation == permutation || Arrays.equals(o.permutation, permutation));
    }

    @Override
    public LinearInput prepare(float[] x, int nTokens) {
        float[] reordered = x;
        if (permutation != null) {
            reordered = new float[nTokens * cols];
            for (int t = 0; t < nTokens; t++) {
                int base = t * cols;
                for (int s = 0; s < cols; s++) {
                    reordered[base + s] = x[base + permutation[s]];
                }
            }
        }
        float[] sums = null;
        if (nTokens == 1 && slotsPerGroup > 0) {
            sums = new float[groups];
            for (int g = 0; g < groups; g++) {
                double sum = 0;
                for (int c = g * groupSize, end = c + groupSize; c < end; c++) {
                    sum += reordered[c];
                }
                sums[g] = (float) sum;
            }
        }
        return LinearInput.grouped(x, nTokens, cols, reordered, sums);
    }

    @Override
    public void multiply(LinearInput input, float[] out, int rowStart, int rowEnd) {
        if (input.nTokens() == 1 && slotsPerGroup > 0) {
            float[] lanes = VectorOps.laneScratch();
            int r = rowStart;
            for (; r < rowEnd; r += 4) {
                dot4(r, Math.min(4, rowEnd - r), input.split(), input.groupSums(), out, lanes);
            }
            return;
        }
        float[] block = new float[4 * cols];
        int r = rowStart;
        for (; r + 4 <= rowEnd; r += 4) {
            for (int i = 0; i < 4; i++) {
                dequantizeRow(r + i, block, i * cols);
            }
            MatMulTiles.fourRows(block, cols, input.split(), input.nTokens(), out, rows, r);
        }
        for (; r < rowEnd; r++) {
            dequantizeRow(r, block, 0);
            MatMulTiles.oneRow(block, cols, input.split(), input.nTokens(), out, rows, r);
        }
    }

    // ---- decode kernel ------------------------------------------------------------------------------------------

    /**
     * {@code out[row + i]} for {@code i < count ≤ 4}: four rows in flight, each activation vector loaded once for all
     * four (a short block repeats its last row and stores only {@code count} results).
     */
    private void dot4(int row, int count, float[] x, float[] sums, float[] out, float[] lanes) {
        final int last = row + count - 1;
        final int row1 = Math.min(row + 1, last);
        final int row2 = Math.min(row + 2, last);
        final int row3 = Math.min(row + 3, last);
        final long base0 = row * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int shiftStep = bits;
        final int mask = codeMask;
        FloatVector total0 = FloatVector.zero(F), total1 = FloatVector.zero(F);
        FloatVector total2 = FloatVector.zero(F), total3 = FloatVector.zero(F);
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        int slot = 0;
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final long offset = (long) chunk * chunkBytes;
            final int slotsHere = Math.min(codesPerLane, slotsPerRow - slot);
            final int firstGroup = slot / slotsPerGroup;
            final int firstInGroup = slot - firstGroup * slotsPerGroup;
            for (int part = 0; part < PARTS; part++) {
                IntVector w0 = laneWords(base0 + offset, part);
                IntVector w1 = laneWords(base1 + offset, part);
                IntVector w2 = laneWords(base2 + offset, part);
                IntVector w3 = laneWords(base3 + offset, part);
                int column = slot * SLOT + part * LANES;
                int group = firstGroup;
                int inGroup = firstInGroup;
                for (int m = 0; m < slotsHere; m++, column += SLOT) {
                    int shift = m * shiftStep;
                    FloatVector xv = FloatVector.fromArray(F, x, column);
                    acc0 = ((FloatVector) w0.lanewise(VectorOperators.LSHR, shift).and(mask)
                            .convert(VectorOperators.I2F, 0)).fma(xv, acc0);
                    acc1 = ((FloatVector) w1.lanewise(VectorOperators.LSHR, shift).and(mask)
                            .convert(VectorOperators.I2F, 0)).fma(xv, acc1);
                    acc2 = ((FloatVector) w2.lanewise(VectorOperators.LSHR, shift).and(mask)
                            .convert(VectorOperators.I2F, 0)).fma(xv, acc2);
                    acc3 = ((FloatVector) w3.lanewise(VectorOperators.LSHR, shift).and(mask)
                            .convert(VectorOperators.I2F, 0)).fma(xv, acc3);
                    boolean groupEnds = ++inGroup == slotsPerGroup;
                    // with several parts a slot's columns are visited part by part: flush before the next part
                    if (groupEnds || (PARTS > 1 && m == slotsHere - 1)) {
                        total0 = acc0.fma(FloatVector.broadcast(F, scale(row, group)), total0);
                        total1 = acc1.fma(FloatVector.broadcast(F, scale(row1, group)), total1);
                        total2 = acc2.fma(FloatVector.broadcast(F, scale(row2, group)), total2);
                        total3 = acc3.fma(FloatVector.broadcast(F, scale(row3, group)), total3);
                        acc0 = FloatVector.zero(F);
                        acc1 = FloatVector.zero(F);
                        acc2 = FloatVector.zero(F);
                        acc3 = FloatVector.zero(F);
                    }
                    if (groupEnds) {
                        group++;
                        inGroup = 0;
                    }
                }
            }
            slot += slotsHere;
        }
        total0.intoArray(lanes, 0);
        out[row] = VectorOps.sumLanes(lanes) - zeroTerm(row, sums);
        if (count > 1) {
            total1.intoArray(lanes, 0);
            out[row1] = VectorOps.sumLanes(lanes) - zeroTerm(row1, sums);
        }
        if (count > 2) {
            total2.intoArray(lanes, 0);
            out[row2] = VectorOps.sumLanes(lanes) - zeroTerm(row2, sums);
        }
        if (count > 3) {
            total3.intoArray(lanes, 0);
            out[row3] = VectorOps.sumLanes(lanes) - zeroTerm(row3, sums);
        }
    }

    /** {@code Σ_g scale·zero·Σx} over a row's groups: what the zero points subtract from the product. */
    private float zeroTerm(int row, float[] sums) {
        float sum = 0;
        for (int g = 0; g < groups; g++) {
            sum += scale(row, g) * zero(row, g) * sums[g];
        }
        return sum;
    }

    /** The lane words of one chunk (part {@code part} of its 16 lanes), each byte plane widened into place. */
    private IntVector laneWords(long chunkOffset, int part) {
        IntVector words = widen(chunkOffset, part);
        if (planes == 3) {
            words = words.or(widen(chunkOffset + SLOT, part).lanewise(VectorOperators.LSHL, 8))
                    .or(widen(chunkOffset + 2 * SLOT, part).lanewise(VectorOperators.LSHL, 16));
        }
        return words;
    }

    private IntVector widen(long planeOffset, int part) {
        return (IntVector) ByteVector.fromMemorySegment(PLANE, codes, planeOffset, LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
    }

    // ---- dequantization (prefill, copyRow) -----------------------------------------------------------------------

    /** One row, dequantized in stored column order into {@code dst[offset, offset + cols)}. */
    private void dequantizeRow(int row, float[] dst, int offset) {
        if (slotsPerGroup == 0) {
            for (int c = 0; c < cols; c++) {
                int group = c / groupSize;
                dst[offset + c] = scale(row, group) * (code(row, c) - zero(row, group));
            }
            return;
        }
        final long base = row * rowBytes;
        final int shiftStep = bits;
        final int mask = codeMask;
        int slot = 0;
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final long offsetInRow = (long) chunk * chunkBytes;
            final int slotsHere = Math.min(codesPerLane, slotsPerRow - slot);
            for (int part = 0; part < PARTS; part++) {
                IntVector words = laneWords(base + offsetInRow, part);
                int column = slot * SLOT + part * LANES;
                for (int m = 0; m < slotsHere; m++, column += SLOT) {
                    int group = (slot + m) / slotsPerGroup;
                    float scale = scale(row, group);
                    float zero = zero(row, group);
                    ((FloatVector) words.lanewise(VectorOperators.LSHR, m * shiftStep).and(mask)
                            .convert(VectorOperators.I2F, 0)).sub(zero).mul(scale).intoArray(dst, offset + column);
                }
            }
            slot += slotsHere;
        }
    }

    // ---- scalar access ------------------------------------------------------------------------------------------

    /** The code of a stored column. */
    private int code(int row, int stored) {
        int slot = stored / SLOT;
        int lane = stored % SLOT;
        int chunk = slot / codesPerLane;
        int m = slot % codesPerLane;
        long at = row * rowBytes + (long) chunk * chunkBytes + lane;
        int word = 0;
        for (int p = 0; p < planes; p++) {
            word |= (codes.get(ValueLayout.JAVA_BYTE, at + (long) p * SLOT) & 0xFF) << (8 * p);
        }
        return (word >>> (m * bits)) & codeMask;
    }

    private float scale(int row, int group) {
        return Float.float16ToFloat(scales[row * groups + group]);
    }

    private int zero(int row, int group) {
        long bit = ((long) row * groups + group) * bits;
        int at = (int) (bit >>> 3);
        int twoBytes = (zeros[at] & 0xFF) | (zeros[at + 1] & 0xFF) << 8;
        return (twoBytes >>> (int) (bit & 7)) & codeMask;
    }

    // ---- packing ------------------------------------------------------------------------------------------------

    /** The stored order of the columns for act-order matrices (stable by group), or null when already in order. */
    private static int[] groupOrder(QuantizedMatrix m) {
        int[] groupIndex = m.groupIndex();
        if (groupIndex == null) {
            return null;
        }
        int[] count = new int[m.groups()];
        boolean inOrder = true;
        for (int c = 0; c < m.cols(); c++) {
            int g = groupIndex[c];
            if (g < 0 || g >= m.groups()) {
                throw new QtaleException("The group index of column " + c + " is " + g + ", outside [0, " + m.groups()
                        + ").");
            }
            count[g]++;
            inOrder &= g == c / m.groupSize();
        }
        if (inOrder) {
            return null;
        }
        int[] next = new int[m.groups()];
        for (int g = 0; g < m.groups(); g++) {
            if (count[g] != m.groupSize()) {
                throw new QtaleException("Group " + g + " of the group index has " + count[g] + " columns, but every group"
                        + " must have " + m.groupSize() + ".");
            }
            next[g] = g * m.groupSize();
        }
        int[] permutation = new int[m.cols()];
        for (int c = 0; c < m.cols(); c++) {
            permutation[next[groupIndex[c]]++] = c;
        }
        return permutation;
    }

    private static int[] inverse(int[] permutation) {
        int[] inverse = new int[permutation.length];
        for (int s = 0; s < permutation.length; s++) {
            inverse[permutation[s]] = s;
        }
        return inverse;
    }

    private MemorySegment packCodes(QuantizedMatrix m) {
        MemorySegment segment = Arena.ofAuto().allocate(Math.max(1, rows * rowBytes), 64);
        byte[] row = new byte[(int) rowBytes];
        for (int r = 0; r < rows; r++) {
            Arrays.fill(row, (byte) 0);
            for (int chunk = 0; chunk < chunksPerRow; chunk++) {
                for (int lane = 0; lane < SLOT; lane++) {
                    int word = 0;
                    for (int k = 0; k < codesPerLane; k++) {
                        int stored = (chunk * codesPerLane + k) * SLOT + lane;
                        if (stored < cols) {
                            int code = m.code(r, permutation == null ? stored : permutation[stored]);
                            if (code > codeMask) {
                                throw new QtaleException("Code " + code + " at row " + r + " does not fit in " + bits
                                        + " bits.");
                            }
                            word |= code << (k * bits);
                        }
                    }
                    for (int p = 0; p < planes; p++) {
                        row[chunk * chunkBytes + p * SLOT + lane] = (byte) (word >>> (8 * p));
                    }
                }
            }
            MemorySegment.copy(row, 0, segment, ValueLayout.JAVA_BYTE, r * rowBytes, row.length);
        }
        return segment;
    }

    private static short[] packScales(QuantizedMatrix m) {
        short[] packed = new short[m.scales().length];
        for (int i = 0; i < packed.length; i++) {
            float scale = m.scales()[i];
            packed[i] = Float.floatToFloat16(scale);
            if (Float.isFinite(scale) && !Float.isFinite(Float.float16ToFloat(packed[i]))) {
                throw new QtaleException("The scale " + scale + " does not fit in float16.");
            }
        }
        return packed;
    }

    private byte[] packZeros(QuantizedMatrix m) {
        byte[] packed = new byte[(int) (((long) rows * groups * bits + 7) / 8) + 1];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int zero = m.zero(r, g);
                if (zero > codeMask) {
                    throw new QtaleException("Zero point " + zero + " at row " + r + " does not fit in " + bits + " bits.");
                }
                long bit = ((long) r * groups + g) * bits;
                int at = (int) (bit >>> 3);
                int shifted = zero << (int) (bit & 7);
                packed[at] |= (byte) shifted;
                packed[at + 1] |= (byte) (shifted >>> 8);
            }
        }
        return packed;
    }
}
