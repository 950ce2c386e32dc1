package org.qtale.format;

import java.util.function.Supplier;
import org.qtale.tensor.DType;

/**
 * A tensor to be written to a safetensors file: the dtype it is stored in, its shape, and its values as floats
 * (rounded to the dtype on the way out). The values are asked for only when the tensor is written, so that a
 * writer holds one tensor in memory at a time.
 */
public record WritableTensor(DType dtype, int[] shape, Supplier<float[]> values) {
    public WritableTensor {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** A tensor whose values are already in memory. */
    public static WritableTensor of(DType dtype, int[] shape, float[] values) {
        float[] copy = values.clone();
        return new WritableTensor(dtype, shape, () -> copy);
    }

    public long elementCount() {
        return MappedTensor.elementCount(shape);
    }

    public long byteSize() {
        return elementCount() * dtype.bytes();
    }
}
