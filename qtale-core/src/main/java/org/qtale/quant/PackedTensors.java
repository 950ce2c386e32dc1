package org.qtale.quant;

import java.util.Arrays;

/**
 * The tensors that store one quantized linear layer in a GPTQ or AWQ checkpoint, row-major as they appear in the
 * safetensors file under {@code {prefix}.qweight}, {@code .qzeros}, {@code .scales} and, for GPTQ, {@code .g_idx}.
 * The {@link CheckpointLayout} that produced or reads them gives their shapes a meaning.
 *
 * @param qweight the packed codes (int32 words)
 * @param qzeros  the packed zero points (int32 words)
 * @param scales  the scales, {@code [groups][outputs]} in both layouts (float16 in the file)
 * @param gIdx    the group of each input channel (GPTQ's {@code g_idx}), or null when the layout has none
 */
public record PackedTensors(IntMatrix qweight, IntMatrix qzeros, FloatMatrix scales, int[] gIdx) {
    /** A row-major matrix of int32 words. */
    public record IntMatrix(int rows, int cols, int[] values) {
        public IntMatrix {
            if (rows < 0 || cols < 0 || values.length != (long) rows * cols) {
                throw new IllegalArgumentException(values.length + " values for a " + rows + "x" + cols + " matrix");
            }
        }

        public int get(int row, int col) {
            return values[row * cols + col];
        }

        /** The shape as safetensors writes it. */
        public int[] shape() {
            return new int[] {rows, cols};
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof IntMatrix m && rows == m.rows && cols == m.cols && Arrays.equals(values, m.values);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * rows + cols) + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "IntMatrix[" + rows + "x" + cols + "]";
        }
    }

    /** A row-major matrix of floats. */
    public record FloatMatrix(int rows, int cols, float[] values) {
        public FloatMatrix {
            if (rows < 0 || cols < 0 || values.length != (long) rows * cols) {
                throw new IllegalArgumentException(values.length + " values for a " + rows + "x" + cols + " matrix");
            }
        }

        public float get(int row, int col) {
            return values[row * cols + col];
        }

        /** The shape as safetensors writes it. */
        public int[] shape() {
            return new int[] {rows, cols};
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FloatMatrix m && rows == m.rows && cols == m.cols && Arrays.equals(values, m.values);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * rows + cols) + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "FloatMatrix[" + rows + "x" + cols + "]";
        }
    }
}
