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
    private final float[] grad;

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
        this.grad = new float[value.length];
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

    public float[] grad() {
        return grad;
    }

    public int size() {
        return value.length;
    }

    public boolean isMatrix() {
        return rows > 1;
    }

    public void zeroGrad() {
        java.util.Arrays.fill(grad, 0f);
    }
}
