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

    /** All values widened to float (for norm vectors and other small tensors). */
    public float[] toFloatArray() {
        if (elementCount() > Integer.MAX_VALUE - 8) {
            throw new QtaleException("Tensor " + name + " in " + source + " is too large to widen into one float array.");
        }
        float[] values = new float[(int) elementCount()];
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
            case Q2, Q3, Q4, Q8 -> throw new IllegalStateException("A mapped tensor holds float elements, not " + dtype + ".");
        };
    }
}
