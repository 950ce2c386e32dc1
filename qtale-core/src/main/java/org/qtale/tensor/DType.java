package org.qtale.tensor;

import java.util.Locale;
import org.qtale.QtaleException;

/**
 * Element types: the float types that hold weights in safetensors files, {@link #I32} for the integer tensors of
 * quantized checkpoints (GPTQ / AWQ packed codes and zero points, GPTQ's {@code g_idx}), and the group-quantized
 * formats that exist only in memory ({@code Q2} .. {@code Q8}: codes of that many bits with a float16 scale and a zero
 * point per group of columns; see {@link QuantizedLinearWeights}).
 */
public enum DType {
    F32(32, "F32"),
    F16(16, "F16"),
    BF16(16, "BF16"),
    /** Little-endian two's complement 32-bit integers; never a weight dtype. */
    I32(32, "I32"),
    Q2(2, null),
    Q3(3, null),
    Q4(4, null),
    Q8(8, null);

    private final int bits;
    private final String safetensorsName;

    DType(int bits, String safetensorsName) {
        this.bits = bits;
        this.safetensorsName = safetensorsName;
    }

    /** Bits per stored element (per code for the quantized types, without their scales and zero points). */
    public int bits() {
        return bits;
    }

    /** Whether this is a group-quantized integer format rather than a stored element type. */
    public boolean isQuantized() {
        return safetensorsName == null;
    }

    /** Whether values of this type are floating point, so that weights can be stored in it. */
    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** Bytes per element of a stored (float or integer) type. */
    public int bytes() {
        if (isQuantized()) {
            throw new IllegalStateException(name() + " packs " + bits + "-bit codes; it has no whole bytes per element.");
        }
        return bits / 8;
    }

    /** The dtype string used in safetensors headers (stored types only). */
    public String safetensorsName() {
        if (isQuantized()) {
            throw new IllegalStateException(name() + " is not a safetensors element type.");
        }
        return safetensorsName;
    }

    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (name.equals(t.safetensorsName)) {
                return t;
            }
        }
        throw new QtaleException("Unsupported tensor dtype '" + name + "' (qtale reads F32, F16, BF16 and I32).");
    }

    /** The group-quantized type with codes of {@code bits} bits. */
    public static DType quantized(int bits) {
        for (DType t : values()) {
            if (t.isQuantized() && t.bits == bits) {
                return t;
            }
        }
        throw new QtaleException("qtale packs 2, 3, 4 and 8-bit weights, not " + bits + "-bit ones.");
    }

    /** Parses a user-facing name of a weight dtype such as {@code f32} or {@code bf16}. */
    public static DType parse(String name) {
        DType type;
        try {
            type = valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            type = null;
        }
        if (type == null || !type.isFloat()) {
            throw new QtaleException("Unknown dtype '" + name + "'; use f32, f16 or bf16.");
        }
        return type;
    }
}
