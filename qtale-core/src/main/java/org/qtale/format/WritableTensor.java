package org.qtale.format;

import java.util.function.Supplier;
import org.qtale.tensor.DType;

/**
 * A tensor to be written to a safetensors file: the dtype it is stored in, its shape, and its values, asked for only
 * when the tensor is written, so that a writer holds one tensor in memory at a time. A float tensor supplies floats
 * (rounded to the dtype on the way out) through {@code values}; an {@link DType#I32} tensor supplies ints through
 * {@code ints} and has no {@code values}.
 *
 * @param values the float values, or null for an {@link DType#I32} tensor
 * @param ints   the integer values of an {@link DType#I32} tensor, else null
 */
public record WritableTensor(DType dtype, int[] shape, Supplier<float[]> values, Supplier<int[]> ints) {
    public WritableTensor {
        shape = shape.clone();
        if (dtype.isFloat() ? values == null || ints != null : ints == null || values != null) {
            throw new IllegalArgumentException("a " + dtype + " tensor needs " + (dtype.isFloat() ? "float" : "int")
                    + " values and no others");
        }
    }

    /** A float tensor whose values are computed when it is written. */
    public WritableTensor(DType dtype, int[] shape, Supplier<float[]> values) {
        this(dtype, shape, values, null);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** A float tensor whose values are already in memory. */
    public static WritableTensor of(DType dtype, int[] shape, float[] values) {
        float[] copy = values.clone();
        return new WritableTensor(dtype, shape, () -> copy);
    }

    /** An {@link DType#I32} tensor whose values are computed when it is written. */
    public static WritableTensor ofInts(int[] shape, Supplier<int[]> values) {
        return new WritableTensor(DType.I32, shape, null, values);
    }

    /** An {@link DType#I32} tensor whose values are already in memory. */
    public static WritableTensor ofInts(int[] shape, int[] values) {
        int[] copy = values.clone();
        return ofInts(shape, () -> copy);
    }

    public long elementCount() {
        return MappedTensor.elementCount(shape);
    }

    public long byteSize() {
        return elementCount() * dtype.bytes();
    }
}
