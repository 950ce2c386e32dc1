package org.qtale.tensor;

import java.util.Locale;
import org.qtale.QtaleException;

/**
 * Element types of stored weights: the float types that safetensors files hold, and the group-quantized integer
 * formats that exist only in memory ({@code Q2} .. {@code Q8}: codes of that many bits with a float16 scale and a
 * zero point per group of columns; see {@link QuantizedLinearWeights}).
 */
public enum DType {
    F32(32, "F32"),
    F16(16, "F16"),
    BF16(16, "BF16"),
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

    /** Whether this is a group-quantized integer format rather than a float element type. */
    public boolean isQuantized() {
        return safetensorsName == null;
    }

    /** Bytes per element of a float type. */
    public int bytes() {
        if (isQuantized()) {
            throw new IllegalStateException(name() + " packs " + bits + "-bit codes; it has no whole bytes per element.");
        }
        return bits / 8;
    }

    /** The dtype string used in safetensors headers (float types only). */
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
        throw new QtaleException("Unsupported tensor dtype '" + name + "' (qtale reads F32, F16 and BF16).");
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

    /** Parses a user-facing float type name such as {@code f32} or {@code bf16}. */
    public static DType parse(String name) {
        try {
            DType t = valueOf(name.toUpperCase(Locale.ROOT));
            if (!t.isQuantized()) {
                return t;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new QtaleException("Unknown dtype '" + name + "'; use f32, f16 or bf16.");
    }
}
