package org.qtale.tensor;

import java.util.Locale;
import org.qtale.QtaleException;

/**
 * Element types of stored tensors: the float types that hold weights, and {@link #I32} for the integer tensors of
 * quantized checkpoints (GPTQ / AWQ packed codes and zero points, GPTQ's {@code g_idx}).
 */
public enum DType {
    F32(4, "F32"),
    F16(2, "F16"),
    BF16(2, "BF16"),
    /** Little-endian two's complement 32-bit integers; never a weight dtype. */
    I32(4, "I32");

    private final int bytes;
    private final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    public int bytes() {
        return bytes;
    }

    /** The dtype string used in safetensors headers. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** Whether values of this type are floating point, so that weights can be stored in it. */
    public boolean isFloat() {
        return this != I32;
    }

    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        throw new QtaleException("Unsupported tensor dtype '" + name + "' (qtale reads F32, F16, BF16 and I32).");
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
