package org.qtale.format;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.qtale.QtaleException;
import org.qtale.tensor.BF16Weights;
import org.qtale.tensor.DType;
import org.qtale.tensor.F16Weights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.Half;
import org.qtale.tensor.LinearWeights;

/**
 * One tensor of a safetensors file: row-major, little-endian values in a slice of the memory-mapped file.
 *
 * @param source where the tensor was read from, for error messages
 */
public record MappedTensor(String name, DType dtype, int[] shape, MemorySegment data, String source) {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LITTLE_ENDIAN);

    public MappedTensor {
        shape = shape.clone();
        if (data.byteSize() != elementCount(shape) * dtype.bytes()) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes for tensor " + name);
        }
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return elementCount(shape);
    }

    static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The shape as {@code [rows, cols]}. */
    public String shapeText() {
        return Arrays.toString(shape);
    }

    /** All values widened to float (for norm vectors and other small tensors); the tensor must have a float type. */
    public float[] toFloatArray() {
        if (!dtype.isFloat()) {
            throw notFloat();
        }
        float[] values = new float[arrayLength("float")];
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, FLOAT, 0, values, 0, values.length);
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = Half.f16ToFloat(data.get(SHORT, 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = Half.bf16ToFloat(data.get(SHORT, 2L * i));
                }
            }
        }
        return values;
    }

    /** All values of an {@link DType#I32} tensor (the packed codes, zero points and group indices of quantized layers). */
    public int[] toIntArray() {
        if (dtype != DType.I32) {
            throw new QtaleException("Tensor " + name + " in " + source + " has dtype " + dtype.safetensorsName()
                    + " but must hold I32 integers.");
        }
        int[] values = new int[arrayLength("int")];
        MemorySegment.copy(data, INT, 0, values, 0, values.length);
        return values;
    }

    private int arrayLength(String type) {
        if (elementCount() > Integer.MAX_VALUE - 8) {
            throw new QtaleException("Tensor " + name + " in " + source + " is too large to read into one " + type + " array.");
        }
        return (int) elementCount();
    }

    private QtaleException notFloat() {
        return new QtaleException("Tensor " + name + " in " + source + " holds " + dtype.safetensorsName()
                + " integers, but qtale needs a float type (F32, F16 or BF16) here.");
    }

    /** A two-dimensional tensor as the weights of a linear map, kept in its stored dtype without a copy. */
    public LinearWeights asLinearWeights() {
        if (shape.length != 2) {
            throw new QtaleException("Tensor " + name + " in " + source + " has shape " + shapeText()
                    + " but a weight matrix must have two dimensions.");
        }
        return switch (dtype) {
            case F32 -> new F32Weights(data, shape[0], shape[1]);
            case F16 -> new F16Weights(data, shape[0], shape[1]);
            case BF16 -> new BF16Weights(data, shape[0], shape[1]);
            case I32 -> throw notFloat();
            case Q2, Q3, Q4, Q8 -> throw new IllegalStateException("A mapped tensor holds float elements, not " + dtype + ".");
        };
    }
}
