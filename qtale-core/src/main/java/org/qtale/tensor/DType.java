package org.qtale.tensor;

import java.util.Locale;
import org.qtale.QtaleException;

/** Element types of stored tensors. */
public enum DType {
    F32(4, "F32"),
    F16(2, "F16"),
    BF16(2, "BF16");

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

    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        throw new QtaleException("Unsupported tensor dtype '" + name + "' (qtale reads F32, F16 and BF16).");
    }

    /** Parses a user-facing name such as {@code f32} or {@code bf16}. */
    public static DType parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new QtaleException("Unknown dtype '" + name + "'; use f32, f16 or bf16.");
        }
    }
}
