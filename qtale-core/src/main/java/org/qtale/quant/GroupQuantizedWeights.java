package org.qtale.quant;

import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.F2I;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2I;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_S2I;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
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
 * scale and one {@code bits}-bit zero point per row and group of {@code groupSize} consecutive columns. Several tokens
 * at once are multiplied against float activations, dequantizing on the fly (W4A16 and friends); a single token at 2
 * and 4 bits is rounded to 8-bit integer activations first (W4A8, see {@link Activations}).
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
 * 128. Scales are a {@code short[rows·groups]} of float16 bits; zero points a little-endian bit stream of {@code
 * bits}-bit codes, each row starting on a byte.
 *
 * <p>Act-order matrices (a {@code groupIndex} that is not {@code c / groupSize}) are stored with their columns permuted
 * so that each group is contiguous; {@link #prepare} permutes the activations the same way.
 *
 * <h2>Kernels</h2>
 * Decode (one token) works on four rows at a time. It first widens the four rows' scales to float and computes their
 * zero-point terms, both vectorized over groups: per group {@code Σ scale·(q − z)·x = scale·(Σ q·x − z·Σ x)}, where the
 * group sums {@code Σ x} come from {@link #prepare}, so that the zero points never enter the inner loop. The inner loop
 * then loads a chunk of each row, widens its bytes to 32-bit lanes (one vector of 16 lanes per chunk on 512-bit
 * hardware; narrower vectors take it in parts), shifts and masks out each slot's codes, converts them to float and
 * multiplies them with the slot's 16 activations, each activation vector serving the four rows; at the end of each
 * group the accumulators are scaled into the row totals (groups of whole chunks), or after each group inside a chunk (2
 * bits in groups of 32, 3 bits in groups of 32 or 64). The four rows are a quarter of the row range apart, so that the
 * loop reads four long sequential streams. Prefill (several tokens) dequantizes four rows into floats and runs them
 * against every token with {@link MatMulTiles}. The integer decode kernels keep the four-row scheme: the token's
 * activations are rounded once per product to 8-bit codes with a scale per group, and each step widens code bytes to
 * 16-bit lanes and multiplies them, shifted by each code position, with differences of the activation codes (so that no
 * mask is needed), summing in 16 bits within a group; they cover groups of whole steps whose sums of two lanes fit in
 * 16 bits (at 4 bits, groups of 64 to 256 columns on 512-bit vectors, 32 to 128 on 256-bit ones, 16 to 64 on
 * 128-bit ones). Layouts the decode kernels do not
 * cover (other group sizes, rows that end in a partial chunk, vectors wider than 16 lanes) take the prefill path, which
 * dequantizes with scalar code when the group size is not a multiple of 16.
 */
public final class GroupQuantizedWeights implements QuantizedLinearWeights {
    /** Columns per slot, and lanes of a chunk. */
    private static final int SLOT = 16;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> PLANE = ByteVector.SPECIES_128;
    private static final int LANES = F.length();
    /** Float16 values filling one int vector when widened. */
    private static final VectorSpecies<Short> HALVES = LANES <= SLOT
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(LANES * Short.SIZE)) : null;
    /** Vectors per slot: 1 on 512-bit hardware, 2 on 256-bit, 4 on 128-bit. */
    private static final int PARTS = SLOT / LANES;
    private static final boolean LANES_FIT = LANES >= 4 && LANES <= SLOT && SLOT % LANES == 0 && I.length() == LANES;
    /** Shorts of the integer decode kernels: as many lanes as two float vectors. */
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final int SHORT_LANES = S.length();
    /** The code bytes one step of the integer kernels widens into a short vector. */
    private static final VectorSpecies<Byte> STEP_BYTES = SHORT_LANES >= 8
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(SHORT_LANES * Byte.SIZE)) : null;
    /** Largest 8-bit activation code: activations are rounded to {@code [-127, 127]} times their group's scale. */
    private static final int ACTIVATION_LEVELS = 127;
    private static final float ROUNDING_BIAS = 0x1.8p23f;

    /** How a single token's activations meet the codes in the decode kernels. */
    public enum Activations {
        /**
         * Rounded to 8-bit integers with one scale per group, so that the inner loop multiplies integers (W4A8, as
         * llama.cpp and Jlama do); at 2 and 4 bits in groups the integer kernels cover, float elsewhere.
         */
        INTEGER,
        /** Kept in float: the exact W4A16 product, for validation. */
        FLOAT;

        /** {@code INTEGER} unless the system property {@code qtale.quant.activations} says {@code float}. */
        public static Activations fromSystemProperty() {
            return "float".equalsIgnoreCase(System.getProperty("qtale.quant.activations", "")) ? FLOAT : INTEGER;
        }
    }

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
    /** Slots per group when the vector dequantization applies, else 0. */
    private final int slotsPerGroup;
    /** Chunks per group when the decode kernels apply (groups of whole chunks), else 0. */
    private final int chunksPerGroup;
    /**
     * Groups per chunk when groups are smaller than a chunk and a kernel exists for them (2 bits in groups of 32, 3
     * bits in groups of 32 or 64, rows of whole chunks), else 0.
     */
    private final int groupsPerChunk;
    private final MemorySegment codes;
    private final short[] scales;
    private final byte[] zeros;
    private final int zeroRowBytes;
    /**
     * For widening {@code LANES} zero points at once from the {@code LANES} bytes that hold them: the byte where each
     * lane's code starts, the next byte, and the shift within the pair.
     */
    private final VectorShuffle<Integer> zeroLowByte;
    private final VectorShuffle<Integer> zeroHighByte;
    private final int[] zeroShifts;
    /** Null, or the original column of each stored column. */
    private final int[] permutation;
    /** Null, or the stored position of each original column. */
    private final int[] position;
    /**
     * Codes per byte (2 at 4 bits, 4 at 2 bits) when single tokens run on integer activations, else 0. A step of the
     * integer kernels widens {@code SHORT_LANES} consecutive bytes of a row, i.e. {@code integerCodesPerByte ·
     * SHORT_LANES} columns.
     */
    private final int integerCodesPerByte;
    /** Steps of the integer kernels per group. */
    private final int integerStepsPerGroup;
    /** Null, or {@link #integerLaneColumn} of every activation slot of the integer kernels. */
    private final int[] integerColumns;
    /** A 1 per group: the activation scales of float activations. */
    private final float[] unitScales;

    private GroupQuantizedWeights(QuantizedMatrix m, int[] permutation, Activations activations) {
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
        int chunkColumns = SLOT * codesPerLane;
        this.chunksPerGroup = LANES_FIT && groupSize % chunkColumns == 0 ? groupSize / chunkColumns : 0;
        boolean split = LANES_FIT && cols % chunkColumns == 0
                && (bits == 2 && groupSize == 32 || bits == 3 && (groupSize == 32 || groupSize == 64));
        this.groupsPerChunk = split ? chunkColumns / groupSize : 0;
        this.zeroRowBytes = (groups * bits + 7) / 8;
        int perByte = bits == 4 ? 2 : bits == 2 ? 4 : 0;
        // a lane pair adds 2 · groupSize / SHORT_LANES products of at most codeMask · 127 in 16 bits
        boolean integers = activations == Activations.INTEGER && perByte > 0 && STEP_BYTES != null
                && 2 * LANES == SHORT_LANES && chunksPerGroup > 0 && groupSize % (perByte * SHORT_LANES) == 0
                && 2L * groupSize / SHORT_LANES * codeMask * ACTIVATION_LEVELS <= Short.MAX_VALUE;
        this.integerCodesPerByte = integers ? perByte : 0;
        this.integerStepsPerGroup = integers ? groupSize / (perByte * SHORT_LANES) : 0;
        this.integerColumns = integers ? new int[cols] : null;
        this.unitScales = new float[groups];
        Arrays.fill(unitScales, 1f);
        for (int at = 0; integers && at < cols; at++) {
            integerColumns[at] = integerLaneColumn(at, perByte, SHORT_LANES);
        }
        if ((long) rows * zeroRowBytes + SLOT > Integer.MAX_VALUE || (long) rows * groups > Integer.MAX_VALUE) {
            throw new QtaleException("A " + rows + "x" + cols + " matrix has too many groups to pack.");
        }
        int[] low = new int[LANES];
        int[] high = new int[LANES];
        this.zeroShifts = new int[LANES];
        for (int k = 0; k < LANES; k++) {
            low[k] = k * bits / 8;
            high[k] = Math.min(low[k] + 1, LANES - 1);
            zeroShifts[k] = k * bits % 8;
        }
        this.zeroLowByte = VectorShuffle.fromArray(I, low, 0);
        this.zeroHighByte = VectorShuffle.fromArray(I, high, 0);
        this.permutation = permutation;
        this.position = permutation == null ? null : inverse(permutation);
        this.codes = packCodes(m);
        this.scales = packScales(m);
        this.zeros = packZeros(m);
    }

    /**
     * Packs a quantized matrix; act-order columns are permuted so that each group is contiguous. Single tokens run on
     * {@linkplain Activations#fromSystemProperty() integer activations} where a kernel covers the layout.
     */
    public static GroupQuantizedWeights of(QuantizedMatrix m) {
        return of(m, Activations.fromSystemProperty());
    }

    /** Packs a quantized matrix, its single-token products treating the activations as {@code activations} says. */
    public static GroupQuantizedWeights of(QuantizedMatrix m, Activations activations) {
        return new GroupQuantizedWeights(m, groupOrder(m), activations);
    }

    /** Whether single-token products run on 8-bit integer activations. */
    public boolean integerActivations() {
        return integerCodesPerByte > 0;
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
        float[] rowScales = new float[groups];
        float[] rowZeros = new float[groups];
        if (permutation == null) {
            dequantizeRow(row, dst, offset, rowScales, rowZeros);
            return;
        }
        float[] stored = new float[cols];
        dequantizeRow(row, stored, 0, rowScales, rowZeros);
        for (int s = 0; s < cols; s++) {
            dst[offset + permutation[s]] = stored[s];
        }
    }

    @Override
    public boolean canShareInput(LinearWeights other) {
        return other instanceof GroupQuantizedWeights o && o.cols == cols && o.groupSize == groupSize
                && o.integerCodesPerByte == integerCodesPerByte
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
        if (nTokens == 1 && integerCodesPerByte > 0) {
            return integerInput(x, reordered);
        }
        float[] sums = null;
        if (nTokens == 1 && (chunksPerGroup > 0 || groupsPerChunk > 0)) {
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

    /**
     * One token rounded to 8-bit integers: per group, {@code scale = max|x| / 127} and {@code code = rint(x / scale)},
     * with the sum of the codes for the zero points. The codes are laid out in the order the integer kernels read
     * them: step {@code s} widens row bytes {@code [s·L, (s+1)·L)} ({@code L = SHORT_LANES}) and takes the codes at
     * bit {@code m·bits} of every byte as one vector, so {@code codes[s·n·L + m·L + k]} (with {@code n} codes per
     * byte) is the activation of the column whose code sits at bit {@code m·bits} of byte {@code s·L + k}.
     */
    private LinearInput integerInput(float[] x, float[] reordered) {
        float[] groupScales = new float[groups];
        float[] codeSums = new float[groups];
        int[] rounded = new int[cols];
        for (int g = 0; g < groups; g++) {
            int from = g * groupSize;
            int to = from + groupSize;
            FloatVector largest = FloatVector.zero(F);
            for (int c = from; c < to; c += LANES) {
                largest = largest.max(FloatVector.fromArray(F, reordered, c).abs());
            }
            float max = largest.reduceLanes(MAX);
            float inverse = max == 0 ? 0 : ACTIVATION_LEVELS / max;
            IntVector sum = IntVector.zero(I);
            for (int c = from; c < to; c += LANES) {
                // adding and taking off 1.5·2^23 rounds a float below 2^22 to the nearest integer, ties to even,
                // as Math.rint does
                FloatVector scaled = FloatVector.fromArray(F, reordered, c).mul(inverse);
                FloatVector nearest = scaled.add(ROUNDING_BIAS).sub(ROUNDING_BIAS)
                        .max(-ACTIVATION_LEVELS).min(ACTIVATION_LEVELS);
                IntVector code = (IntVector) nearest.convert(F2I, 0);
                code.intoArray(rounded, c);
                sum = sum.add(code);
            }
            groupScales[g] = max / ACTIVATION_LEVELS;
            codeSums[g] = sum.reduceLanes(ADD);
        }
        // the kernels multiply whole shifted bytes, (byte >>> m·bits) = Σ_{k≥m} code_k·2^((k−m)·bits), by these
        // differences, so that the higher codes' terms cancel: Σ_m (byte >>> m·bits)·(a_m − 2^bits·a_(m−1)) = Σ_m code_m·a_m
        // (exact in 16-bit arithmetic, which wraps, as long as the true sum fits)
        final int perByte = integerCodesPerByte;
        final int[] column = integerColumns;
        short[] codes = new short[cols];
        for (int at = 0; at < cols; at += SHORT_LANES) {
            boolean lowest = at / SHORT_LANES % perByte == 0;
            for (int k = at; k < at + SHORT_LANES; k++) {
                int activation = rounded[column[k]];
                codes[k] = (short) (lowest ? activation : activation - (rounded[column[k - SHORT_LANES]] << bits));
            }
        }
        return LinearInput.groupedIntegers(x, cols, reordered, codes, groupScales, codeSums);
    }

    /**
     * The (stored) column whose code meets activation slot {@code at} in the integer kernels with {@code perByte}
     * codes per byte and {@code lanes} short lanes: step {@code s = at / (perByte·lanes)} widens row bytes {@code [s·lanes,
     * (s+1)·lanes)}, and slot {@code s·perByte·lanes + m·lanes + k} takes the code at bit {@code m·bits} of byte {@code
     * s·lanes + k}, which in a chunk of 16 bytes is column {@code 16·m + j} of byte {@code j}.
     */
    static int integerLaneColumn(int at, int perByte, int lanes) {
        int step = at / (perByte * lanes);
        int m = at / lanes % perByte;
        int b = step * lanes + at % lanes;
        return b / SLOT * SLOT * perByte + m * SLOT + b % SLOT;
    }

    @Override
    public void multiply(LinearInput input, float[] out, int rowStart, int rowEnd) {
        if (input.codes() != null) {
            decodeIntegers(input.codes(), input.groupScales(), input.groupSums(), out, rowStart, rowEnd);
        } else if (input.nTokens() == 1 && (chunksPerGroup > 0 || groupsPerChunk > 0)) {
            decode(input.split(), input.groupSums(), out, rowStart, rowEnd);
        } else {
            prefill(input.split(), input.nTokens(), out, rowStart, rowEnd);
        }
    }

    /**
     * Four rows at a time, a quarter of the range apart, so that the kernel reads four long sequential streams (rows
     * are stored one after the other); the rows left over go last.
     */
    private void decode(float[] x, float[] sums, float[] out, int rowStart, int rowEnd) {
        float[] lanes = VectorOps.laneScratch();
        float[] rowScales = new float[4 * groups];
        float[] zeroTerms = new float[4 * LANES];
        int quarter = (rowEnd - rowStart) / 4;
        for (int r = rowStart; r < rowStart + quarter; r++) {
            decode4(r, r + quarter, r + 2 * quarter, r + 3 * quarter, 4, x, sums, out, rowScales, zeroTerms,
                    lanes);
        }
        int left = rowStart + 4 * quarter;
        if (left < rowEnd) {
            int last = rowEnd - 1;
            decode4(left, Math.min(left + 1, last), Math.min(left + 2, last), last, rowEnd - left, x, sums, out,
                    rowScales, zeroTerms, lanes);
        }
    }

    /** {@link #decode} on integer activation {@code codes} with their {@code activationScales} and code sums. */
    private void decodeIntegers(short[] codes, float[] activationScales, float[] sums, float[] out, int rowStart,
            int rowEnd) {
        float[] lanes = VectorOps.laneScratch();
        float[] rowScales = new float[4 * groups];
        float[] zeroTerms = new float[4 * LANES];
        int quarter = (rowEnd - rowStart) / 4;
        for (int r = rowStart; r < rowStart + quarter; r++) {
            decode4Integers(r, r + quarter, r + 2 * quarter, r + 3 * quarter, 4, codes, activationScales, sums, out,
                    rowScales, zeroTerms, lanes);
        }
        int left = rowStart + 4 * quarter;
        if (left < rowEnd) {
            int last = rowEnd - 1;
            decode4Integers(left, Math.min(left + 1, last), Math.min(left + 2, last), last, rowEnd - left, codes,
                    activationScales, sums, out, rowScales, zeroTerms, lanes);
        }
    }

    /** {@link #decode4} on integer activations: the weight scales are multiplied by the activations' group scales. */
    private void decode4Integers(int row0, int row1, int row2, int row3, int count, short[] codes,
            float[] activationScales, float[] sums, float[] out, float[] rowScales, float[] zeroTerms,
            float[] lanes) {
        groupParameters(row0, activationScales, sums, rowScales, 0, null, zeroTerms, 0);
        groupParameters(row1, activationScales, sums, rowScales, groups, null, zeroTerms, LANES);
        groupParameters(row2, activationScales, sums, rowScales, 2 * groups, null, zeroTerms, 2 * LANES);
        groupParameters(row3, activationScales, sums, rowScales, 3 * groups, null, zeroTerms, 3 * LANES);
        if (bits == 4) {
            dot4Integers4(row0, row1, row2, row3, count, codes, rowScales, zeroTerms, out, lanes);
        } else {
            dot4Integers2(row0, row1, row2, row3, count, codes, rowScales, zeroTerms, out, lanes);
        }
    }

    /** The first {@code count} of four rows (the others repeat a row and are not stored). */
    private void decode4(int row0, int row1, int row2, int row3, int count, float[] x, float[] sums, float[] out,
            float[] rowScales, float[] zeroTerms, float[] lanes) {
        groupParameters(row0, unitScales, sums, rowScales, 0, null, zeroTerms, 0);
        groupParameters(row1, unitScales, sums, rowScales, groups, null, zeroTerms, LANES);
        groupParameters(row2, unitScales, sums, rowScales, 2 * groups, null, zeroTerms, 2 * LANES);
        groupParameters(row3, unitScales, sums, rowScales, 3 * groups, null, zeroTerms, 3 * LANES);
        if (groupsPerChunk == 4) {
            dot4Bits3Split4(row0, row1, row2, row3, count, x, rowScales, zeroTerms, out, lanes);
        } else if (groupsPerChunk == 2) {
            if (bits == 3) {
                dot4Bits3Split2(row0, row1, row2, row3, count, x, rowScales, zeroTerms, out, lanes);
            } else {
                dot4Bits2Split2(row0, row1, row2, row3, count, x, rowScales, zeroTerms, out, lanes);
            }
        } else {
            switch (bits) {
                case 4 -> dot4Bits4(row0, row1, row2, row3, count, x, rowScales, zeroTerms, out, lanes);
                case 8 -> dot4Bits8(row0, row1, row2, row3, count, x, rowScales, zeroTerms, out, lanes);
                case 3 -> dot4Bits3(row0, row1, row2, row3, count, x, rowScales, zeroTerms, out, lanes);
                default -> dot4Bits2(row0, row1, row2, row3, count, x, rowScales, zeroTerms, out, lanes);
            }
        }
    }

    private void prefill(float[] x, int nTokens, float[] out, int rowStart, int rowEnd) {
        float[] block = new float[4 * cols];
        float[] rowScales = new float[groups];
        float[] rowZeros = new float[groups];
        int r = rowStart;
        for (; r + 4 <= rowEnd; r += 4) {
            for (int i = 0; i < 4; i++) {
                dequantizeRow(r + i, block, i * cols, rowScales, rowZeros);
            }
            MatMulTiles.fourRows(block, cols, x, nTokens, out, rows, r);
        }
        for (; r < rowEnd; r++) {
            dequantizeRow(r, block, 0, rowScales, rowZeros);
            MatMulTiles.oneRow(block, cols, x, nTokens, out, rows, r);
        }
    }

    /**
     * A row's scales widened to float and multiplied by {@code activationScales}, into {@code rowScales[at, at +
     * groups)}, its zero points into {@code rowZeros[0, groups)} unless that is null, and, unless {@code zeroTerms} is null, {@code
     * −Σ_g scale·zero·sums[g]} (what the zero points take off the row's product) as LANES partial sums at {@code
     * zeroTerms[lane, lane + LANES)}, where the decode kernels start the row's total, so that the term needs no lane sum
     * of its own (that sum cost about a fifth of a 4-bit decode on rows of 2048 columns). Vectorized over groups.
     */
    private void groupParameters(int row, float[] activationScales, float[] sums, float[] rowScales, int at,
            float[] rowZeros, float[] zeroTerms, int lane) {
        final int first = row * groups;
        final int zeroBase = row * zeroRowBytes;
        FloatVector term = FloatVector.zero(F);
        int g = 0;
        // the vector loop needs the zero points of LANES groups to start on a byte
        for (int bound = LANES_FIT && LANES * bits % 8 == 0 ? groups - LANES : -1; g <= bound; g += LANES) {
            // float16 to float for finite values: the magnitude shifted into place and scaled by 2^112 re-biases the
            // exponent and turns subnormal halves into normal floats
            IntVector half = (IntVector) ShortVector.fromArray(HALVES, scales, first + g).convertShape(ZERO_EXTEND_S2I, I, 0);
            FloatVector magnitude = half.and(0x7FFF).lanewise(LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
            FloatVector scale = magnitude.reinterpretAsInts().or(half.and(0x8000).lanewise(LSHL, 16))
                    .reinterpretAsFloats().mul(FloatVector.fromArray(F, activationScales, g));
            scale.intoArray(rowScales, at + g);
            IntVector bytes = (IntVector) ByteVector.fromArray(PLANE, zeros, zeroBase + g * bits / 8)
                    .convertShape(ZERO_EXTEND_B2I, I, 0);
            IntVector lowBytes = bytes.rearrange(zeroLowByte);
            // only 3-bit zero points straddle two bytes
            IntVector zeroBits = bits == 3 ? lowBytes.or(bytes.rearrange(zeroHighByte).lanewise(LSHL, 8)) : lowBytes;
            IntVector zeroCodes = zeroBits.lanewise(LSHR, IntVector.fromArray(I, zeroShifts, 0)).and(codeMask);
            FloatVector zero = (FloatVector) zeroCodes.convert(I2F, 0);
            if (rowZeros != null) {
                zero.intoArray(rowZeros, g);
            }
            term = scale.mul(zero).fma(FloatVector.fromArray(F, sums, g), term);
        }
        if (zeroTerms != null) {
            term.neg().intoArray(zeroTerms, lane);
        }
        for (; g < groups; g++) {
            float scale = scale(row, g) * activationScales[g];
            rowScales[at + g] = scale;
            float zero = zero(row, g);
            if (rowZeros != null) {
                rowZeros[g] = zero;
            }
            if (zeroTerms != null) {
                zeroTerms[lane] -= scale * zero * sums[g];
            }
        }
    }

    // ---- decode kernels -----------------------------------------------------------------------------------------
    //
    // Each computes out[row + i] for i < count ≤ 4, four rows in flight with each activation vector loaded once for
    // all four (a short block repeats its last row and stores only count results). The rows' scales come widened in
    // rowScales[i·groups + g] and their negated zero-point terms as lane sums in zeroTerms[i·LANES, (i + 1)·LANES),
    // where each row's total starts, so that the loops hold vector work only: a call from them would spill every
    // vector register.

    /** 4 bits: a chunk is 32 columns, byte j holding column j in its low nibble and column j + 16 in its high one. */
    private void dot4Bits4(int row0, int row1, int row2, int row3, int count, float[] x, float[] rowScales,
            float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        final int chunksPerGroup = this.chunksPerGroup;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                final long offset = chunk * 16L;
                for (int part = 0; part < PARTS; part++) {
                    final int column = chunk * 32 + part * LANES;
                    FloatVector low = FloatVector.fromArray(F, x, column);
                    FloatVector high = FloatVector.fromArray(F, x, column + SLOT);
                    IntVector w0 = widen(base0 + offset, part);
                    IntVector w1 = widen(base1 + offset, part);
                    IntVector w2 = widen(base2 + offset, part);
                    IntVector w3 = widen(base3 + offset, part);
                    acc0 = ((FloatVector) w0.and(15).convert(I2F, 0)).fma(low, acc0);
                    acc1 = ((FloatVector) w1.and(15).convert(I2F, 0)).fma(low, acc1);
                    acc2 = ((FloatVector) w2.and(15).convert(I2F, 0)).fma(low, acc2);
                    acc3 = ((FloatVector) w3.and(15).convert(I2F, 0)).fma(low, acc3);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 4).convert(I2F, 0)).fma(high, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 4).convert(I2F, 0)).fma(high, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 4).convert(I2F, 0)).fma(high, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 4).convert(I2F, 0)).fma(high, acc3);
                }
            }
            total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group]), total0);
            total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
            total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
            total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** 8 bits: a chunk is 16 columns, one byte each. */
    private void dot4Bits8(int row0, int row1, int row2, int row3, int count, float[] x, float[] rowScales,
            float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        final int chunksPerGroup = this.chunksPerGroup;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                final long offset = chunk * 16L;
                for (int part = 0; part < PARTS; part++) {
                    FloatVector v = FloatVector.fromArray(F, x, chunk * 16 + part * LANES);
                    acc0 = ((FloatVector) widen(base0 + offset, part).convert(I2F, 0)).fma(v, acc0);
                    acc1 = ((FloatVector) widen(base1 + offset, part).convert(I2F, 0)).fma(v, acc1);
                    acc2 = ((FloatVector) widen(base2 + offset, part).convert(I2F, 0)).fma(v, acc2);
                    acc3 = ((FloatVector) widen(base3 + offset, part).convert(I2F, 0)).fma(v, acc3);
                }
            }
            total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group]), total0);
            total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
            total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
            total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** 2 bits: a chunk is 64 columns, byte j holding columns j, j + 16, j + 32 and j + 48 at bits 0, 2, 4, 6. */
    private void dot4Bits2(int row0, int row1, int row2, int row3, int count, float[] x, float[] rowScales,
            float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        final int chunksPerGroup = this.chunksPerGroup;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                final long offset = chunk * 16L;
                for (int part = 0; part < PARTS; part++) {
                    final int column = chunk * 64 + part * LANES;
                    IntVector w0 = widen(base0 + offset, part);
                    IntVector w1 = widen(base1 + offset, part);
                    IntVector w2 = widen(base2 + offset, part);
                    IntVector w3 = widen(base3 + offset, part);
                    FloatVector x0 = FloatVector.fromArray(F, x, column);
                    acc0 = ((FloatVector) w0.and(3).convert(I2F, 0)).fma(x0, acc0);
                    acc1 = ((FloatVector) w1.and(3).convert(I2F, 0)).fma(x0, acc1);
                    acc2 = ((FloatVector) w2.and(3).convert(I2F, 0)).fma(x0, acc2);
                    acc3 = ((FloatVector) w3.and(3).convert(I2F, 0)).fma(x0, acc3);
                    FloatVector x1 = FloatVector.fromArray(F, x, column + 16);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc3);
                    FloatVector x2 = FloatVector.fromArray(F, x, column + 32);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 4).and(3).convert(I2F, 0)).fma(x2, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 4).and(3).convert(I2F, 0)).fma(x2, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 4).and(3).convert(I2F, 0)).fma(x2, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 4).and(3).convert(I2F, 0)).fma(x2, acc3);
                    FloatVector x3 = FloatVector.fromArray(F, x, column + 48);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc3);
                }
            }
            total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group]), total0);
            total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
            total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
            total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /**
     * 3 bits: a chunk is 128 columns in three byte planes, lane j's 24-bit word holding column j + 16m at bits
     * 3m.
     */
    private void dot4Bits3(int row0, int row1, int row2, int row3, int count, float[] x, float[] rowScales,
            float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        final int chunksPerGroup = this.chunksPerGroup;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                final long offset = chunk * 48L;
                for (int part = 0; part < PARTS; part++) {
                    final int column = chunk * 128 + part * LANES;
                    IntVector w0 = widen(base0 + offset, part).or(widen(base0 + offset + SLOT, part).lanewise(LSHL, 8))
                            .or(widen(base0 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                    IntVector w1 = widen(base1 + offset, part).or(widen(base1 + offset + SLOT, part).lanewise(LSHL, 8))
                            .or(widen(base1 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                    IntVector w2 = widen(base2 + offset, part).or(widen(base2 + offset + SLOT, part).lanewise(LSHL, 8))
                            .or(widen(base2 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                    IntVector w3 = widen(base3 + offset, part).or(widen(base3 + offset + SLOT, part).lanewise(LSHL, 8))
                            .or(widen(base3 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                    FloatVector x0 = FloatVector.fromArray(F, x, column);
                    acc0 = ((FloatVector) w0.and(7).convert(I2F, 0)).fma(x0, acc0);
                    acc1 = ((FloatVector) w1.and(7).convert(I2F, 0)).fma(x0, acc1);
                    acc2 = ((FloatVector) w2.and(7).convert(I2F, 0)).fma(x0, acc2);
                    acc3 = ((FloatVector) w3.and(7).convert(I2F, 0)).fma(x0, acc3);
                    FloatVector x1 = FloatVector.fromArray(F, x, column + 16);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc3);
                    FloatVector x2 = FloatVector.fromArray(F, x, column + 32);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc3);
                    FloatVector x3 = FloatVector.fromArray(F, x, column + 48);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc3);
                    FloatVector x4 = FloatVector.fromArray(F, x, column + 64);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 12).and(7).convert(I2F, 0)).fma(x4, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 12).and(7).convert(I2F, 0)).fma(x4, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 12).and(7).convert(I2F, 0)).fma(x4, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 12).and(7).convert(I2F, 0)).fma(x4, acc3);
                    FloatVector x5 = FloatVector.fromArray(F, x, column + 80);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc3);
                    FloatVector x6 = FloatVector.fromArray(F, x, column + 96);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc3);
                    FloatVector x7 = FloatVector.fromArray(F, x, column + 112);
                    acc0 = ((FloatVector) w0.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc0);
                    acc1 = ((FloatVector) w1.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc1);
                    acc2 = ((FloatVector) w2.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc2);
                    acc3 = ((FloatVector) w3.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc3);
                }
            }
            total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group]), total0);
            total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
            total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
            total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** Decode at 2 bits in groups of 32 columns: 2 groups per chunk. */
    private void dot4Bits2Split2(int row0, int row1, int row2, int row3, int count, float[] x,
            float[] rowScales, float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final long offset = chunk * 16L;
            final int group = chunk * 2;
            for (int part = 0; part < PARTS; part++) {
                final int column = chunk * 64 + part * LANES;
                IntVector w0 = widen(base0 + offset, part);
                IntVector w1 = widen(base1 + offset, part);
                IntVector w2 = widen(base2 + offset, part);
                IntVector w3 = widen(base3 + offset, part);
                FloatVector acc0, acc1, acc2, acc3;
                FloatVector x0 = FloatVector.fromArray(F, x, column);
                acc0 = ((FloatVector) w0.and(3).convert(I2F, 0)).mul(x0);
                acc1 = ((FloatVector) w1.and(3).convert(I2F, 0)).mul(x0);
                acc2 = ((FloatVector) w2.and(3).convert(I2F, 0)).mul(x0);
                acc3 = ((FloatVector) w3.and(3).convert(I2F, 0)).mul(x0);
                FloatVector x1 = FloatVector.fromArray(F, x, column + 16);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 2).and(3).convert(I2F, 0)).fma(x1, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
                FloatVector x2 = FloatVector.fromArray(F, x, column + 32);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 4).and(3).convert(I2F, 0)).mul(x2);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 4).and(3).convert(I2F, 0)).mul(x2);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 4).and(3).convert(I2F, 0)).mul(x2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 4).and(3).convert(I2F, 0)).mul(x2);
                FloatVector x3 = FloatVector.fromArray(F, x, column + 48);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 6).convert(I2F, 0)).fma(x3, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group + 1]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group + 1]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group + 1]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group + 1]), total3);
            }
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** Decode at 3 bits in groups of 64 columns: 2 groups per chunk. */
    private void dot4Bits3Split2(int row0, int row1, int row2, int row3, int count, float[] x,
            float[] rowScales, float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final long offset = chunk * 48L;
            final int group = chunk * 2;
            for (int part = 0; part < PARTS; part++) {
                final int column = chunk * 128 + part * LANES;
                IntVector w0 = widen(base0 + offset, part).or(widen(base0 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base0 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                IntVector w1 = widen(base1 + offset, part).or(widen(base1 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base1 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                IntVector w2 = widen(base2 + offset, part).or(widen(base2 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base2 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                IntVector w3 = widen(base3 + offset, part).or(widen(base3 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base3 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                FloatVector acc0, acc1, acc2, acc3;
                FloatVector x0 = FloatVector.fromArray(F, x, column);
                acc0 = ((FloatVector) w0.and(7).convert(I2F, 0)).mul(x0);
                acc1 = ((FloatVector) w1.and(7).convert(I2F, 0)).mul(x0);
                acc2 = ((FloatVector) w2.and(7).convert(I2F, 0)).mul(x0);
                acc3 = ((FloatVector) w3.and(7).convert(I2F, 0)).mul(x0);
                FloatVector x1 = FloatVector.fromArray(F, x, column + 16);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc3);
                FloatVector x2 = FloatVector.fromArray(F, x, column + 32);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 6).and(7).convert(I2F, 0)).fma(x2, acc3);
                FloatVector x3 = FloatVector.fromArray(F, x, column + 48);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
                FloatVector x4 = FloatVector.fromArray(F, x, column + 64);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                FloatVector x5 = FloatVector.fromArray(F, x, column + 80);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc3);
                FloatVector x6 = FloatVector.fromArray(F, x, column + 96);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 18).and(7).convert(I2F, 0)).fma(x6, acc3);
                FloatVector x7 = FloatVector.fromArray(F, x, column + 112);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group + 1]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group + 1]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group + 1]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group + 1]), total3);
            }
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** Decode at 3 bits in groups of 32 columns: 4 groups per chunk. */
    private void dot4Bits3Split4(int row0, int row1, int row2, int row3, int count, float[] x,
            float[] rowScales, float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final long offset = chunk * 48L;
            final int group = chunk * 4;
            for (int part = 0; part < PARTS; part++) {
                final int column = chunk * 128 + part * LANES;
                IntVector w0 = widen(base0 + offset, part).or(widen(base0 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base0 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                IntVector w1 = widen(base1 + offset, part).or(widen(base1 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base1 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                IntVector w2 = widen(base2 + offset, part).or(widen(base2 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base2 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                IntVector w3 = widen(base3 + offset, part).or(widen(base3 + offset + SLOT, part).lanewise(LSHL, 8))
                        .or(widen(base3 + offset + 2 * SLOT, part).lanewise(LSHL, 16));
                FloatVector acc0, acc1, acc2, acc3;
                FloatVector x0 = FloatVector.fromArray(F, x, column);
                acc0 = ((FloatVector) w0.and(7).convert(I2F, 0)).mul(x0);
                acc1 = ((FloatVector) w1.and(7).convert(I2F, 0)).mul(x0);
                acc2 = ((FloatVector) w2.and(7).convert(I2F, 0)).mul(x0);
                acc3 = ((FloatVector) w3.and(7).convert(I2F, 0)).mul(x0);
                FloatVector x1 = FloatVector.fromArray(F, x, column + 16);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 3).and(7).convert(I2F, 0)).fma(x1, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
                FloatVector x2 = FloatVector.fromArray(F, x, column + 32);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 6).and(7).convert(I2F, 0)).mul(x2);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 6).and(7).convert(I2F, 0)).mul(x2);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 6).and(7).convert(I2F, 0)).mul(x2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 6).and(7).convert(I2F, 0)).mul(x2);
                FloatVector x3 = FloatVector.fromArray(F, x, column + 48);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 9).and(7).convert(I2F, 0)).fma(x3, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group + 1]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group + 1]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group + 1]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group + 1]), total3);
                FloatVector x4 = FloatVector.fromArray(F, x, column + 64);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 12).and(7).convert(I2F, 0)).mul(x4);
                FloatVector x5 = FloatVector.fromArray(F, x, column + 80);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 15).and(7).convert(I2F, 0)).fma(x5, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group + 2]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group + 2]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group + 2]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group + 2]), total3);
                FloatVector x6 = FloatVector.fromArray(F, x, column + 96);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 18).and(7).convert(I2F, 0)).mul(x6);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 18).and(7).convert(I2F, 0)).mul(x6);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 18).and(7).convert(I2F, 0)).mul(x6);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 18).and(7).convert(I2F, 0)).mul(x6);
                FloatVector x7 = FloatVector.fromArray(F, x, column + 112);
                acc0 = ((FloatVector) w0.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc0);
                acc1 = ((FloatVector) w1.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc1);
                acc2 = ((FloatVector) w2.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc2);
                acc3 = ((FloatVector) w3.lanewise(LSHR, 21).convert(I2F, 0)).fma(x7, acc3);
                total0 = acc0.fma(FloatVector.broadcast(F, rowScales[group + 3]), total0);
                total1 = acc1.fma(FloatVector.broadcast(F, rowScales[groups + group + 3]), total1);
                total2 = acc2.fma(FloatVector.broadcast(F, rowScales[2 * groups + group + 3]), total2);
                total3 = acc3.fma(FloatVector.broadcast(F, rowScales[3 * groups + group + 3]), total3);
            }
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** Stores the first {@code count} of four row products. */
    private static void store(float[] out, int count, int row0, int row1, int row2, int row3, float result0,
            float result1, float result2, float result3) {
        out[row0] = result0;
        if (count > 1) {
            out[row1] = result1;
        }
        if (count > 2) {
            out[row2] = result2;
        }
        if (count > 3) {
            out[row3] = result3;
        }
    }

    /**
     * The lane words of one chunk (part {@code part} of its 16 lanes), each byte plane widened into place. The 3-bit
     * decode kernels spell this out: once compiled on its own (the prefill path calls it), a method this size is no
     * longer inlined into a large caller, and a vector returned from a call is boxed.
     */
    private IntVector laneWords(long chunkOffset, int part) {
        IntVector words = widen(chunkOffset, part);
        if (planes == 3) {
            words = words.or(widen(chunkOffset + SLOT, part).lanewise(LSHL, 8))
                    .or(widen(chunkOffset + 2 * SLOT, part).lanewise(LSHL, 16));
        }
        return words;
    }

    // ---- integer decode kernels ---------------------------------------------------------------------------------
    //
    // The same four-row scheme on 8-bit activation codes (widened to shorts once per product, in the lane order
    // integerInput lays out): each step widens SHORT_LANES code bytes of each row to shorts and multiplies the byte,
    // shifted right by each code position in turn, with the activation differences integerInput prepared, so that no
    // mask is needed; products and sums wrap in 16-bit lanes and are exact while a group's true sum of code times
    // activation fits (checked when the weights are built). At the end of a group each accumulator's neighbour
    // lanes are added: seen as an int, a lane pair is low + (high << 16), so adding it shifted left by 16 puts low +
    // high in the upper half (no carry comes from the zeroed lower half), and an arithmetic shift right by 16
    // sign-extends that 16-bit sum, which fits as well (checked too); then it turns into floats, scaled by the weight
    // scale times the activation scale into the row total.

    /** 4 bits: each byte holds two codes, so a step covers 2·SHORT_LANES columns. */
    private void dot4Integers4(int row0, int row1, int row2, int row3, int count, short[] a, float[] rowScales,
            float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        final int steps = integerStepsPerGroup;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        long offset = 0;
        int at = 0;
        for (int group = 0; group < groups; group++) {
            ShortVector acc0 = ShortVector.zero(S), acc1 = ShortVector.zero(S);
            ShortVector acc2 = ShortVector.zero(S), acc3 = ShortVector.zero(S);
            for (int step = 0; step < steps; step++, offset += SHORT_LANES, at += 2 * SHORT_LANES) {
                ShortVector a0 = ShortVector.fromArray(S, a, at);
                ShortVector a1 = ShortVector.fromArray(S, a, at + SHORT_LANES);
                ShortVector w0 = widenStep(base0 + offset);
                ShortVector w1 = widenStep(base1 + offset);
                ShortVector w2 = widenStep(base2 + offset);
                ShortVector w3 = widenStep(base3 + offset);
                acc0 = acc0.add(w0.mul(a0)).add(w0.lanewise(LSHR, 4).mul(a1));
                acc1 = acc1.add(w1.mul(a0)).add(w1.lanewise(LSHR, 4).mul(a1));
                acc2 = acc2.add(w2.mul(a0)).add(w2.lanewise(LSHR, 4).mul(a1));
                acc3 = acc3.add(w3.mul(a0)).add(w3.lanewise(LSHR, 4).mul(a1));
            }
            IntVector pairs0 = acc0.reinterpretAsInts();
            total0 = ((FloatVector) pairs0.add(pairs0.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[group]), total0);
            IntVector pairs1 = acc1.reinterpretAsInts();
            total1 = ((FloatVector) pairs1.add(pairs1.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
            IntVector pairs2 = acc2.reinterpretAsInts();
            total2 = ((FloatVector) pairs2.add(pairs2.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
            IntVector pairs3 = acc3.reinterpretAsInts();
            total3 = ((FloatVector) pairs3.add(pairs3.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** 2 bits: each byte holds four codes, so a step covers 4·SHORT_LANES columns. */
    private void dot4Integers2(int row0, int row1, int row2, int row3, int count, short[] a, float[] rowScales,
            float[] zeroTerms, float[] out, float[] lanes) {
        final long base0 = row0 * rowBytes;
        final long base1 = row1 * rowBytes;
        final long base2 = row2 * rowBytes;
        final long base3 = row3 * rowBytes;
        final int groups = this.groups;
        final int steps = integerStepsPerGroup;
        FloatVector total0 = FloatVector.fromArray(F, zeroTerms, 0);
        FloatVector total1 = FloatVector.fromArray(F, zeroTerms, LANES);
        FloatVector total2 = FloatVector.fromArray(F, zeroTerms, 2 * LANES);
        FloatVector total3 = FloatVector.fromArray(F, zeroTerms, 3 * LANES);
        long offset = 0;
        int at = 0;
        for (int group = 0; group < groups; group++) {
            ShortVector acc0 = ShortVector.zero(S), acc1 = ShortVector.zero(S);
            ShortVector acc2 = ShortVector.zero(S), acc3 = ShortVector.zero(S);
            for (int step = 0; step < steps; step++, offset += SHORT_LANES, at += 4 * SHORT_LANES) {
                ShortVector w0 = widenStep(base0 + offset);
                ShortVector w1 = widenStep(base1 + offset);
                ShortVector w2 = widenStep(base2 + offset);
                ShortVector w3 = widenStep(base3 + offset);
                ShortVector x0 = ShortVector.fromArray(S, a, at);
                acc0 = acc0.add(w0.mul(x0));
                acc1 = acc1.add(w1.mul(x0));
                acc2 = acc2.add(w2.mul(x0));
                acc3 = acc3.add(w3.mul(x0));
                ShortVector x1 = ShortVector.fromArray(S, a, at + SHORT_LANES);
                acc0 = acc0.add(w0.lanewise(LSHR, 2).mul(x1));
                acc1 = acc1.add(w1.lanewise(LSHR, 2).mul(x1));
                acc2 = acc2.add(w2.lanewise(LSHR, 2).mul(x1));
                acc3 = acc3.add(w3.lanewise(LSHR, 2).mul(x1));
                ShortVector x2 = ShortVector.fromArray(S, a, at + 2 * SHORT_LANES);
                acc0 = acc0.add(w0.lanewise(LSHR, 4).mul(x2));
                acc1 = acc1.add(w1.lanewise(LSHR, 4).mul(x2));
                acc2 = acc2.add(w2.lanewise(LSHR, 4).mul(x2));
                acc3 = acc3.add(w3.lanewise(LSHR, 4).mul(x2));
                ShortVector x3 = ShortVector.fromArray(S, a, at + 3 * SHORT_LANES);
                acc0 = acc0.add(w0.lanewise(LSHR, 6).mul(x3));
                acc1 = acc1.add(w1.lanewise(LSHR, 6).mul(x3));
                acc2 = acc2.add(w2.lanewise(LSHR, 6).mul(x3));
                acc3 = acc3.add(w3.lanewise(LSHR, 6).mul(x3));
            }
            IntVector pairs0 = acc0.reinterpretAsInts();
            total0 = ((FloatVector) pairs0.add(pairs0.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[group]), total0);
            IntVector pairs1 = acc1.reinterpretAsInts();
            total1 = ((FloatVector) pairs1.add(pairs1.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[groups + group]), total1);
            IntVector pairs2 = acc2.reinterpretAsInts();
            total2 = ((FloatVector) pairs2.add(pairs2.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[2 * groups + group]), total2);
            IntVector pairs3 = acc3.reinterpretAsInts();
            total3 = ((FloatVector) pairs3.add(pairs3.lanewise(LSHL, 16)).lanewise(ASHR, 16)
                    .convert(I2F, 0)).fma(FloatVector.broadcast(F, rowScales[3 * groups + group]), total3);
        }
        total0.intoArray(lanes, 0);
        float result0 = VectorOps.sumLanes(lanes);
        total1.intoArray(lanes, 0);
        float result1 = VectorOps.sumLanes(lanes);
        total2.intoArray(lanes, 0);
        float result2 = VectorOps.sumLanes(lanes);
        total3.intoArray(lanes, 0);
        float result3 = VectorOps.sumLanes(lanes);
        store(out, count, row0, row1, row2, row3, result0, result1, result2, result3);
    }

    /** {@code SHORT_LANES} code bytes from {@code offset}, zero-extended into short lanes. */
    private ShortVector widenStep(long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(STEP_BYTES, codes, offset, LITTLE_ENDIAN)
                .convertShape(ZERO_EXTEND_B2S, S, 0);
    }

    /** One 16-byte plane, part {@code part} of its bytes zero-extended into int lanes. */
    private IntVector widen(long planeOffset, int part) {
        return (IntVector) ByteVector.fromMemorySegment(PLANE, codes, planeOffset, LITTLE_ENDIAN)
                .convertShape(ZERO_EXTEND_B2I, I, part);
    }

    // ---- dequantization (prefill, copyRow) -----------------------------------------------------------------------

    /**
     * One row, dequantized in stored column order into {@code dst[offset, offset + cols)}; {@code rowScales} and {@code
     * rowZeros} are scratch for its group parameters.
     */
    private void dequantizeRow(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        // prefill applies the zero points itself: no zero term, and the activation sums are not read
        groupParameters(row, unitScales, unitScales, rowScales, 0, rowZeros, null, 0);
        if (groupsPerChunk == 4) {
            dequantizeBits3Split4(row, dst, offset, rowScales, rowZeros);
            return;
        }
        if (groupsPerChunk == 2) {
            if (bits == 3) {
                dequantizeBits3Split2(row, dst, offset, rowScales, rowZeros);
            } else {
                dequantizeBits2Split2(row, dst, offset, rowScales, rowZeros);
            }
            return;
        }
        if (chunksPerGroup > 0) {
            switch (bits) {
                case 2 -> dequantizeBits2(row, dst, offset, rowScales, rowZeros);
                case 3 -> dequantizeBits3(row, dst, offset, rowScales, rowZeros);
                case 4 -> dequantizeBits4(row, dst, offset, rowScales, rowZeros);
                default -> dequantizeBits8(row, dst, offset, rowScales, rowZeros);
            }
            return;
        }
        if (slotsPerGroup == 0) {
            for (int c = 0; c < cols; c++) {
                int group = c / groupSize;
                dst[offset + c] = rowScales[group] * (code(row, c) - rowZeros[group]);
            }
            return;
        }
        final long base = row * rowBytes;
        final int bits = this.bits;
        final int mask = codeMask;
        int slot = 0;
        int group = 0;
        int inGroup = 0;
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final long chunkOffset = base + (long) chunk * chunkBytes;
            final int slotsHere = Math.min(codesPerLane, slotsPerRow - slot);
            for (int part = 0; part < PARTS; part++) {
                IntVector words = laneWords(chunkOffset, part);
                int column = offset + slot * SLOT + part * LANES;
                int g = group;
                int in = inGroup;
                for (int m = 0; m < slotsHere; m++, column += SLOT) {
                    ((FloatVector) words.lanewise(LSHR, m * bits).and(mask).convert(I2F, 0))
                            .sub(rowZeros[g]).mul(rowScales[g]).intoArray(dst, column);
                    if (++in == slotsPerGroup) {
                        g++;
                        in = 0;
                    }
                }
            }
            slot += slotsHere;
            for (inGroup += slotsHere; inGroup >= slotsPerGroup; inGroup -= slotsPerGroup) {
                group++;
            }
        }
    }

    /** {@link #dequantizeRow} at 2 bits, groups of whole chunks. */
    private void dequantizeBits2(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        final long base = row * rowBytes;
        final int chunksPerGroup = this.chunksPerGroup;
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector scale = FloatVector.broadcast(F, rowScales[group]);
            FloatVector zero = FloatVector.broadcast(F, rowZeros[group]);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                for (int part = 0; part < PARTS; part++) {
                    IntVector w = widen(base + chunk * 16L, part);
                    int column = offset + chunk * 64 + part * LANES;
                    ((FloatVector) w.and(3).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column);
                    ((FloatVector) w.lanewise(LSHR, 2).and(3).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 16);
                    ((FloatVector) w.lanewise(LSHR, 4).and(3).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 32);
                    ((FloatVector) w.lanewise(LSHR, 6).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 48);
                }
            }
        }
    }

    /** {@link #dequantizeRow} at 3 bits, groups of whole chunks. */
    private void dequantizeBits3(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        final long base = row * rowBytes;
        final int chunksPerGroup = this.chunksPerGroup;
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector scale = FloatVector.broadcast(F, rowScales[group]);
            FloatVector zero = FloatVector.broadcast(F, rowZeros[group]);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                for (int part = 0; part < PARTS; part++) {
                    IntVector w = laneWords(base + chunk * 48L, part);
                    int column = offset + chunk * 128 + part * LANES;
                    ((FloatVector) w.and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column);
                    ((FloatVector) w.lanewise(LSHR, 3).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 16);
                    ((FloatVector) w.lanewise(LSHR, 6).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 32);
                    ((FloatVector) w.lanewise(LSHR, 9).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 48);
                    ((FloatVector) w.lanewise(LSHR, 12).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 64);
                    ((FloatVector) w.lanewise(LSHR, 15).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 80);
                    ((FloatVector) w.lanewise(LSHR, 18).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 96);
                    ((FloatVector) w.lanewise(LSHR, 21).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 112);
                }
            }
        }
    }

    /** {@link #dequantizeRow} at 4 bits, groups of whole chunks. */
    private void dequantizeBits4(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        final long base = row * rowBytes;
        final int chunksPerGroup = this.chunksPerGroup;
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector scale = FloatVector.broadcast(F, rowScales[group]);
            FloatVector zero = FloatVector.broadcast(F, rowZeros[group]);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                for (int part = 0; part < PARTS; part++) {
                    IntVector w = widen(base + chunk * 16L, part);
                    int column = offset + chunk * 32 + part * LANES;
                    ((FloatVector) w.and(15).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column);
                    ((FloatVector) w.lanewise(LSHR, 4).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 16);
                }
            }
        }
    }

    /** {@link #dequantizeRow} at 8 bits, groups of whole chunks. */
    private void dequantizeBits8(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        final long base = row * rowBytes;
        final int chunksPerGroup = this.chunksPerGroup;
        int chunk = 0;
        for (int group = 0; group < groups; group++) {
            FloatVector scale = FloatVector.broadcast(F, rowScales[group]);
            FloatVector zero = FloatVector.broadcast(F, rowZeros[group]);
            for (int end = chunk + chunksPerGroup; chunk < end; chunk++) {
                for (int part = 0; part < PARTS; part++) {
                    IntVector w = widen(base + chunk * 16L, part);
                    int column = offset + chunk * 16 + part * LANES;
                    ((FloatVector) w.convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column);
                }
            }
        }
    }

    /** {@link #dequantizeRow} at 2 bits in groups of 32 columns. */
    private void dequantizeBits2Split2(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        final long base = row * rowBytes;
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final int group = chunk * 2;
            for (int part = 0; part < PARTS; part++) {
                IntVector w = widen(base + chunk * 16L, part);
                int column = offset + chunk * 64 + part * LANES;
                FloatVector scale = FloatVector.broadcast(F, rowScales[group]);
                FloatVector zero = FloatVector.broadcast(F, rowZeros[group]);
                ((FloatVector) w.and(3).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column);
                ((FloatVector) w.lanewise(LSHR, 2).and(3).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 16);
                scale = FloatVector.broadcast(F, rowScales[group + 1]);
                zero = FloatVector.broadcast(F, rowZeros[group + 1]);
                ((FloatVector) w.lanewise(LSHR, 4).and(3).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 32);
                ((FloatVector) w.lanewise(LSHR, 6).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 48);
            }
        }
    }

    /** {@link #dequantizeRow} at 3 bits in groups of 64 columns. */
    private void dequantizeBits3Split2(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        final long base = row * rowBytes;
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final int group = chunk * 2;
            for (int part = 0; part < PARTS; part++) {
                IntVector w = laneWords(base + chunk * 48L, part);
                int column = offset + chunk * 128 + part * LANES;
                FloatVector scale = FloatVector.broadcast(F, rowScales[group]);
                FloatVector zero = FloatVector.broadcast(F, rowZeros[group]);
                ((FloatVector) w.and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column);
                ((FloatVector) w.lanewise(LSHR, 3).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 16);
                ((FloatVector) w.lanewise(LSHR, 6).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 32);
                ((FloatVector) w.lanewise(LSHR, 9).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 48);
                scale = FloatVector.broadcast(F, rowScales[group + 1]);
                zero = FloatVector.broadcast(F, rowZeros[group + 1]);
                ((FloatVector) w.lanewise(LSHR, 12).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 64);
                ((FloatVector) w.lanewise(LSHR, 15).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 80);
                ((FloatVector) w.lanewise(LSHR, 18).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 96);
                ((FloatVector) w.lanewise(LSHR, 21).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 112);
            }
        }
    }

    /** {@link #dequantizeRow} at 3 bits in groups of 32 columns. */
    private void dequantizeBits3Split4(int row, float[] dst, int offset, float[] rowScales, float[] rowZeros) {
        final long base = row * rowBytes;
        for (int chunk = 0; chunk < chunksPerRow; chunk++) {
            final int group = chunk * 4;
            for (int part = 0; part < PARTS; part++) {
                IntVector w = laneWords(base + chunk * 48L, part);
                int column = offset + chunk * 128 + part * LANES;
                FloatVector scale = FloatVector.broadcast(F, rowScales[group]);
                FloatVector zero = FloatVector.broadcast(F, rowZeros[group]);
                ((FloatVector) w.and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column);
                ((FloatVector) w.lanewise(LSHR, 3).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 16);
                scale = FloatVector.broadcast(F, rowScales[group + 1]);
                zero = FloatVector.broadcast(F, rowZeros[group + 1]);
                ((FloatVector) w.lanewise(LSHR, 6).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 32);
                ((FloatVector) w.lanewise(LSHR, 9).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 48);
                scale = FloatVector.broadcast(F, rowScales[group + 2]);
                zero = FloatVector.broadcast(F, rowZeros[group + 2]);
                ((FloatVector) w.lanewise(LSHR, 12).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 64);
                ((FloatVector) w.lanewise(LSHR, 15).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 80);
                scale = FloatVector.broadcast(F, rowScales[group + 3]);
                zero = FloatVector.broadcast(F, rowZeros[group + 3]);
                ((FloatVector) w.lanewise(LSHR, 18).and(7).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 96);
                ((FloatVector) w.lanewise(LSHR, 21).convert(I2F, 0)).sub(zero).mul(scale).intoArray(dst, column + 112);
            }
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
        int bit = group * bits;
        int at = row * zeroRowBytes + (bit >>> 3);
        return (((zeros[at] & 0xFF) | (zeros[at + 1] & 0xFF) << 8) >>> (bit & 7)) & codeMask;
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
            if (!Float.isFinite(Float.float16ToFloat(packed[i]))) {
                throw new QtaleException("The scale " + scale + " is not a finite float16.");
            }
        }
        return packed;
    }

    /** Zero points as a little-endian bit stream, each row from a byte boundary, padded for 16-byte vector reads. */
    private byte[] packZeros(QuantizedMatrix m) {
        byte[] packed = new byte[rows * zeroRowBytes + SLOT];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int zero = m.zero(r, g);
                if (zero > codeMask) {
                    throw new QtaleException("Zero point " + zero + " at row " + r + " does not fit in " + bits + " bits.");
                }
                int bit = g * bits;
                int at = r * zeroRowBytes + (bit >>> 3);
                int shifted = zero << (bit & 7);
                packed[at] |= (byte) shifted;
                packed[at + 1] |= (byte) (shifted >>> 8);
            }
        }
        return packed;
    }
}
