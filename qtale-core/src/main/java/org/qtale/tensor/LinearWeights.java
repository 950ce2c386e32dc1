package org.qtale.tensor;

/**
 * The weights of a linear map {@code y = W x} with {@code W} of shape {@code rows × cols}, stored in one format. Each
 * storage format is one final class with a vectorized kernel and a scalar reference that the tests compare.
 *
 * <p>A multiplication happens in two steps: {@link #prepare} turns the activations into the layout the kernel
 * reads (once per call), then {@link #multiply} computes a contiguous range of output rows, so that a thread pool
 * can split the rows among workers.
 */
public sealed interface LinearWeights permits F32Weights, Packed16Weights, QuantizedLinearWeights {
    int rows();

    int cols();

    DType dtype();

    /** Bytes of weight storage. */
    long byteSize();

    /**
     * A short name of the storage format for reports: the dtype's name, plus the group size for group-quantized
     * weights (e.g. {@code BF16}, {@code Q4_G128}).
     */
    default String storageName() {
        return dtype().name();
    }

    /**
     * Whether {@link #prepare} of {@code other} gives the same input as this one's for any activations, so that
     * products sharing one input (q, k and v) prepare it once.
     */
    default boolean canShareInput(LinearWeights other) {
        return other.getClass() == getClass() && other.cols() == cols();
    }

    /** Rearranges {@code nTokens} input vectors of length {@link #cols()} (row-major in {@code x}) for the kernel. */
    LinearInput prepare(float[] x, int nTokens);

    /** {@code out[t * rows + r] = Σ_c W[r][c] · x[t * cols + c]} for every token {@code t} and rows in range. */
    void multiply(LinearInput input, float[] out, int rowStart, int rowEnd);

    /** One weight, widened to float. */
    float get(int row, int col);

    /** Copies one row, widened to float, into {@code dst} at {@code offset} (embedding lookup). */
    default void copyRow(int row, float[] dst, int offset) {
        for (int c = 0; c < cols(); c++) {
            dst[offset + c] = get(row, c);
        }
    }

    /** The scalar reference of {@link #multiply}: plain loops with double accumulation. */
    default void multiplyReference(float[] x, int nTokens, float[] out, int rowStart, int rowEnd) {
        int rows = rows();
        int cols = cols();
        for (int t = 0; t < nTokens; t++) {
            for (int r = rowStart; r < rowEnd; r++) {
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += (double) get(r, c) * x[t * cols + c];
                }
                out[t * rows + r] = (float) sum;
            }
        }
    }

    /** {@code out = W x} for {@code nTokens} tokens, rows split among the pool's threads. */
    default void apply(Parallel parallel, float[] x, int nTokens, float[] out) {
        Linear.applyAll(parallel, x, nTokens, new LinearWeights[] {this}, new float[][] {out});
    }
}
