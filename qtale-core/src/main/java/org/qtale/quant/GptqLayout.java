package org.qtale.quant;

import org.qtale.QtaleException;
import org.qtale.quant.PackedTensors.FloatMatrix;
import org.qtale.quant.PackedTensors.IntMatrix;

/**
 * The GPTQ checkpoint layout of AutoGPTQ ({@code qlinear_cuda_old.pack}), for 2, 3, 4 and 8 bits. With K inputs, N
 * outputs, b bits and G = K / groupSize groups:
 * <ul>
 *   <li>{@code qweight}, int32 {@code [K·b/32][N]}: each output channel's codes, packed <em>along K</em> into a
 *       little-endian bit stream down its column, code k at bits {@code b·k … b·k+b−1}. For 2, 4 and 8 bits a word
 *       holds 32/b whole codes; for 3 bits 32 codes fill 3 words and codes 10 and 21 straddle word boundaries (the low
 *       2 bits of code 10 top word 0, its high bit starts word 1; the low bit of code 21 tops word 1, its high 2 bits
 *       start word 2), exactly as AutoGPTQ's explicit 3-bit branch packs them.</li>
 *   <li>{@code qzeros}, int32 {@code [G][N·b/32]}: each group's zero points, packed the same way <em>along N</em>.
 *       Format {@link #V1} stores {@code zero − 1} (so symmetric 4-bit, zero 8, gives words {@code 0x77777777});
 *       {@link #V2} stores the zero itself.</li>
 *   <li>{@code scales}, float16 {@code [G][N]}; {@code g_idx}, int32 {@code [K]}: the group of each input channel,
 *       {@code k / groupSize} unless the layer was quantized in act-order.</li>
 * </ul>
 * Dequantized: {@code W[n][k] = scales[g][n] · (q[k][n] − zero[g][n])} with {@code g = g_idx[k]}. Packing needs K and
 * N to be multiples of 32/gcd(32, b) (AutoGPTQ itself assumes multiples of 32).
 */
public enum GptqLayout implements CheckpointLayout {
    /** {@code checkpoint_format "gptq"}: AutoGPTQ's layout, read by transformers, AutoGPTQ and GPTQModel. */
    V1("gptq", 1),
    /** {@code checkpoint_format "gptq_v2"}: GPTQModel's variant, which stores the zero points without the −1. */
    V2("gptq_v2", 0);

    private final String checkpointFormat;
    private final int zeroOffset;

    GptqLayout(String checkpointFormat, int zeroOffset) {
        this.checkpointFormat = checkpointFormat;
        this.zeroOffset = zeroOffset;
    }

    /** The value of {@code quantization_config.checkpoint_format} that names this layout. */
    public String checkpointFormat() {
        return checkpointFormat;
    }

    /** The layout a {@code checkpoint_format} names. */
    public static GptqLayout ofCheckpointFormat(String format) {
        for (GptqLayout layout : values()) {
            if (layout.checkpointFormat.equals(format)) {
                return layout;
            }
        }
        throw new QtaleException("Unsupported GPTQ checkpoint_format '" + format + "': qtale reads 'gptq' and 'gptq_v2'.");
    }

    /** Whether the layout stores {@code bits}-bit codes. */
    public static boolean supportsBits(int bits) {
        return bits == 2 || bits == 3 || bits == 4 || bits == 8;
    }

    @Override
    public void check(QuantizedMatrix m, String name) {
        if (!supportsBits(m.bits())) {
            throw new QtaleException("The GPTQ layout stores 2, 3, 4 or 8 bits, so " + name + " (" + m.bits()
                    + "-bit) cannot be written in it.");
        }
        int multiple = Packing.valuesPerWholeWords(m.bits());
        if (m.cols() % multiple != 0 || m.rows() % multiple != 0) {
            throw new QtaleException("The GPTQ layout packs " + m.bits() + "-bit codes into 32-bit words, so it needs"
                    + " inputs and outputs in multiples of " + multiple + ", but " + name + " has " + m.cols()
                    + " inputs and " + m.rows() + " outputs.");
        }
        Packing.checkRanges(m, name);
        for (int n = 0; n < m.rows(); n++) {
            for (int g = 0; g < m.groups(); g++) {
                if (m.zero(n, g) < zeroOffset) {
                    throw new QtaleException(name + " has the zero point 0 (row " + n + ", group " + g + "), which the"
                            + " GPTQ v1 format cannot store because it stores zero − 1; write it as gptq_v2 or AWQ.");
                }
            }
        }
    }

    @Override
    public int[] qweightShape(QuantizedMatrix m) {
        return new int[] {m.cols() * m.bits() / Integer.SIZE, m.rows()};
    }

    @Override
    public int[] qzerosShape(QuantizedMatrix m) {
        return new int[] {m.groups(), m.rows() * m.bits() / Integer.SIZE};
    }

    @Override
    public IntMatrix qweight(QuantizedMatrix m) {
        int bits = m.bits();
        int n = m.rows();
        IntMatrix out = Packing.words(qweightShape(m));
        for (int o = 0; o < n; o++) {
            for (int k = 0; k < m.cols(); k++) {
                Packing.put(out.values(), o, n, (long) bits * k, bits, m.code(o, k));
            }
        }
        return out;
    }

    @Override
    public IntMatrix qzeros(QuantizedMatrix m) {
        int bits = m.bits();
        IntMatrix out = Packing.words(qzerosShape(m));
        int perGroup = out.cols();
        for (int g = 0; g < m.groups(); g++) {
            for (int o = 0; o < m.rows(); o++) {
                Packing.put(out.values(), g * perGroup, 1, (long) bits * o, bits, (m.zero(o, g) - zeroOffset) & m.maxCode());
            }
        }
        return out;
    }

    @Override
    public int[] gIdx(QuantizedMatrix m) {
        return Packing.groupOfEachColumn(m);
    }

    @Override
    public QuantizedMatrix unpack(PackedTensors t, int bits, int groupSize, String name) {
        if (!supportsBits(bits)) {
            throw new QtaleException("GPTQ checkpoints hold 2, 3, 4 or 8-bit weights, but " + name + " is declared "
                    + bits + "-bit.");
        }
        IntMatrix qweight = t.qweight();
        int n = qweight.cols();
        if (qweight.rows() * Integer.SIZE % bits != 0) {
            throw new QtaleException(name + ".qweight has " + qweight.rows() + " rows of 32-bit words, which do not"
                    + " hold a whole number of " + bits + "-bit codes.");
        }
        int k = qweight.rows() * Integer.SIZE / bits;
        int g = Packing.groupSize(groupSize, k, name);
        int groups = k / g;
        String layer = "a " + bits + "-bit GPTQ layer with " + k + " inputs, " + n + " outputs and group size " + g;
        if (n * bits % Integer.SIZE != 0) {
            throw new QtaleException("The " + n + " outputs of " + name + " do not fill whole 32-bit words of "
                    + bits + "-bit zero points.");
        }
        Packing.expectShape(name + ".qzeros", t.qzeros().shape(), layer, groups, n * bits / Integer.SIZE);
        Packing.expectShape(name + ".scales", t.scales().shape(), layer, groups, n);
        if (t.gIdx() != null) {
            Packing.expectShape(name + ".g_idx", new int[] {t.gIdx().length}, layer, k);
        }
        byte[] codes = new byte[Math.multiplyExact(n, k)];
        for (int o = 0; o < n; o++) {
            for (int i = 0; i < k; i++) {
                codes[o * k + i] = (byte) Packing.get(qweight.values(), o, n, (long) bits * i, bits);
            }
        }
        byte[] zeros = zeros(t.qzeros(), n, groups, bits, name);
        int[] groupIndex = Packing.readGroupIndex(t.gIdx(), g, groups, name + ".g_idx");
        return new QuantizedMatrix(n, k, bits, g, codes, Packing.transposeScales(t.scales()), zeros, groupIndex);
    }

    /** The zero points as {@code [N][groups]}, with the stored offset added back. */
    private byte[] zeros(IntMatrix qzeros, int n, int groups, int bits, String name) {
        int max = (1 << bits) - 1;
        byte[] zeros = new byte[n * groups];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < n; o++) {
                int zero = Packing.get(qzeros.values(), g * qzeros.cols(), 1, (long) bits * o, bits) + zeroOffset;
                if (zero > max) {
                    throw new QtaleException(name + ".qzeros stores " + (zero - zeroOffset) + " for output " + o
                            + " of group " + g + ", which means the zero point " + zero + ", more than " + bits
                            + " bits hold (GPTQ's v1 format cannot store a zero point of 0).");
                }
                zeros[o * groups + g] = (byte) zero;
            }
        }
        return zeros;
    }

    @Override
    public String toString() {
        return "GPTQ (" + checkpointFormat + ")";
    }
}
