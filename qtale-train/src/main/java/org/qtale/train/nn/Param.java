package org.qtale.train.nn;

/**
 * A trainable tensor: its values and the gradient accumulated into it, row-major {@code rows × cols} (a vector has one
 * row). Matrices get weight decay; vectors (norm weights, biases) do not.
 */
public final class Param {
    private final String name;
    private final int rows;
    private final int cols;
    private final float[] value;
    private float[] grad;
    private boolean trainable = true;
    private float[] transposed;

    public Param(String name, int rows, int cols) {
        this(name, rows, cols, new float[rows * cols]);
    }

    public Param(String name, int rows, int cols, float[] value) {
        if (value.length != rows * cols) {
            throw new IllegalArgumentException(name + " needs " + rows * cols + " values, got " + value.length);
        }
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.value = value;
    }

    public String name() {
        return name;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public float[] value() {
        return value;
    }

    /** The accumulated gradient (allocated on first use, so frozen parameters cost no gradient memory). */
    public float[] grad() {
        if (grad == null) {
            grad = new float[value.length];
        }
        return grad;
    }

    public int size() {
        return value.length;
    }

    public boolean isMatrix() {
        return rows > 1;
    }

    /** A buffer of the parameter's size for a transposed copy (reused from call to call). */
    float[] transposedScratch() {
        if (transposed == null) {
            transposed = new float[value.length];
        }
        return transposed;
    }

    /** Whether the optimizer updates it; a frozen parameter gets no gradient. */
    public boolean trainable() {
        return trainable;
    }

    public void freeze() {
        trainable = false;
    }

    public void zeroGrad() {
        if (grad != null) {
            java.util.Arrays.fill(grad, 0f);
        }
    }
}
