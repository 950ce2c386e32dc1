package org.qtale.quant;

import org.qtale.QtaleException;
import org.qtale.quant.PackedTensors.IntMatrix;

/**
 * The AWQ GEMM checkpoint layout of AutoAWQ ({@code WQLinear_GEMM.from_linear}), 4-bit only. With K inputs, N outputs
 * and G = K / groupSize groups:
 * <ul>
 *   <li>{@code qweight}, int32 {@code [K][N/8]}: each input channel's codes, packed <em>along N</em>, eight to a
 *       word; nibble i (bits {@code 4i … 4i+3}) of word c holds output {@code 8c + ORDER[i]} with
 *       {@code ORDER = [0, 2, 4, 6, 1, 3, 5, 7]}, so the even outputs of the eight sit in the low half-word.</li>
 *   <li>{@code qzeros}, int32 {@code [G][N/8]}: the zero points, interleaved the same way and stored as they are
 *       (no −1).</li>
 *   <li>{@code scales}, float16 {@code [G][N]}. There is no {@code g_idx}: groups are always {@code k / groupSize}.</li>
 * </ul>
 * Dequantized: {@code W[n][k] = scales[g][n] · (q[k][n] − zero[g][n])} with {@code g = k / groupSize}.
 */
public enum AwqLayout implements CheckpointLayout {
    /** {@code version "gemm"}, the layout AutoAWQ writes by default and transformers reads. */
    GEMM("gemm");

    /** The output (within a run of eight) that nibble i of a word holds. */
    private static final int[] ORDER = {0, 2, 4, 6, 1, 3, 5, 7};
    private static final int BITS = 4;
    private static final int PER_WORD = 8;

    private final String version;

    AwqLayout(String version) {
        this.version = version;
    }

    /** The value of {@code quantization_config.version} that names this layout. */
    public String version() {
        return version;
    }

    /** The layout a {@code version} names. */
    public static AwqLayout ofVersion(String version) {
        for (AwqLayout layout : values()) {
            if (layout.version.equals(version)) {
                return layout;
            }
        }
        throw new QtaleException("Unsupported AWQ version '" + version + "': qtale reads the 'gemm' layout.");
    }

    @Override
    public void check(QuantizedMatrix m, String name) {
        if (m.bits() != BITS) {
            throw new QtaleException("The AWQ GEMM layout stores 4-bit weights only, so " + name + " (" + m.bits()
                    + "-bit) cannot be written in it.");
        }
        if (m.rows() % PER_WORD != 0) {
            throw new QtaleException("The AWQ GEMM layout packs eight outputs to a word, but " + name + " has "
                    + m.rows() + " outputs.");
        }
        if (!Packing.groupsInOrder(m)) {
            throw new QtaleException("The AWQ layout has no g_idx, so " + name + ", whose inputs were grouped out of"
                    + " order (act-order), cannot be written in it.");
        }
        Packing.checkRanges(m, name);
    }

    @Override
    public int[] qweightShape(QuantizedMatrix m) {
        return new int[] {m.cols(), m.rows() / PER_WORD};
    }

    @Override
    public int[] qzerosShape(QuantizedMatrix m) {
        return new int[] {m.groups(), m.rows() / PER_WORD};
    }

    @Override
    public IntMatrix qweight(QuantizedMatrix m) {
        int perRow = m.rows() / PER_WORD;
        IntMatrix out = Packing.words(qweightShape(m));
        for (int k = 0; k < m.cols(); k++) {
            for (int c = 0; c < perRow; c++) {
                int word = 0;
                for (int i = 0; i < PER_WORD; i++) {
                    word |= m.code(PER_WORD * c + ORDER[i], k) << (BITS * i);
                }
                out.values()[k * perRow + c] = word;
            }
        }
        return out;
    }

    @Override
    public IntMatrix qzeros(QuantizedMatrix m) {
        int perRow = m.rows() / PER_WORD;
        IntMatrix out = Packing.words(qzerosShape(m));
        for (int g = 0; g < m.groups(); g++) {
            for (int c = 0; c < perRow; c++) {
                int word = 0;
                for (int i = 0; i < PER_WORD; i++) {
                    word |= m.zero(PER_WORD * c + ORDER[i], g) << (BITS * i);
                }
                out.values()[g * perRow + c] = word;
            }
        }
        return out;
    }

    /** AWQ stores no group index. */
    @Override
    public int[] gIdx(QuantizedMatrix m) {
        return null;
    }

    @Override
    public QuantizedMatrix unpack(PackedTensors t, int bits, int groupSize, String name) {
        if (bits != BITS) {
            throw new QtaleException("AWQ GEMM checkpoints hold 4-bit weights only, but " + name + " is declared "
                    + bits + "-bit.");
        }
        if (t.gIdx() != null) {
            throw new IllegalArgumentException("the AWQ layout has no g_idx");
        }
        IntMatrix qweight = t.qweight();
        int k = qweight.rows();
        int n = qweight.cols() * PER_WORD;
        int g = Packing.groupSize(groupSize, k, name);
        int groups = k / g;
        String layer = "a 4-bit AWQ layer with " + k + " inputs, " + n + " outputs and group size " + g;
        Packing.expectShape(name + ".qzeros", t.qzeros().shape(), layer, groups, n / PER_WORD);
        Packing.expectShape(name + ".scales", t.scales().shape(), layer, groups, n);
        byte[] codes = new byte[Math.multiplyExact(n, k)];
        for (int i = 0; i < k; i++) {
            unpackRow(qweight, i, codes, i, k);
        }
        byte[] zeros = new byte[n * groups];
        for (int j = 0; j < groups; j++) {
            unpackRow(t.qzeros(), j, zeros, j, groups);
        }
        return new QuantizedMatrix(n, k, BITS, g, codes, Packing.transposeScales(t.scales()), zeros, null);
    }

    /** Spreads row {@code row} of {@code words} over outputs: output o's value goes to {@code out[o·stride + at]}. */
    private static void unpackRow(IntMatrix words, int row, byte[] out, int at, int stride) {
        for (int c = 0; c < words.cols(); c++) {
            int word = words.get(row, c);
            for (int i = 0; i < PER_WORD; i++) {
                out[(PER_WORD * c + ORDER[i]) * stride + at] = (byte) ((word >>> (BITS * i)) & 0xF);
            }
        }
    }

    @Override
    public String toString() {
        return "AWQ (" + version + ")";
    }
}
