package org.qtale.quant.awq;

import org.qtale.model.LayerWeights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearWeights;

/**
 * One decoder layer's weights as mutable float arrays (rows = output channels), for the transformations AWQ applies
 * before quantizing: scales folded into norms and projections, and clipping.
 */
final class FloatLayer {
    final float[] attentionNorm;
    final Matrix wq;
    final Matrix wk;
    final Matrix wv;
    final Matrix wo;
    final float[] ffnNorm;
    final Matrix gate;
    final Matrix up;
    final Matrix down;

    /** A row-major {@code rows × cols} float matrix. */
    static final class Matrix {
        final int rows;
        final int cols;
        final float[] values;
        /** The engine's copy of {@link #values}, made on first use and dropped when they change. */
        private F32Weights engineCopy;

        Matrix(int rows, int cols, float[] values) {
            this.rows = rows;
            this.cols = cols;
            this.values = values;
        }

        static Matrix of(LinearWeights w) {
            float[] values = new float[w.rows() * w.cols()];
            for (int r = 0; r < w.rows(); r++) {
                w.copyRow(r, values, r * w.cols());
            }
            return new Matrix(w.rows(), w.cols(), values);
        }

        Matrix copy() {
            return new Matrix(rows, cols, values.clone());
        }

        /** {@code W[:, c] *= s[c]}. */
        void scaleColumns(float[] s) {
            engineCopy = null;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    values[r * cols + c] *= s[c];
                }
            }
        }

        /** {@code W[:, c] /= s[c]}. */
        void unscaleColumns(float[] s) {
            engineCopy = null;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    values[r * cols + c] /= s[c];
                }
            }
        }

        /** {@code W[r, :] /= s[r]}. */
        void unscaleRows(float[] s) {
            engineCopy = null;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    values[r * cols + c] /= s[r];
                }
            }
        }

        /** The current values as engine weights (a copy, reused until the values change through this class). */
        F32Weights weights() {
            if (engineCopy == null) {
                engineCopy = F32Weights.of(values, rows, cols);
            }
            return engineCopy;
        }

        /** Forgets the engine copy after {@link #values} were changed directly. */
        void changed() {
            engineCopy = null;
        }
    }

    FloatLayer(LayerWeights w) {
        attentionNorm = w.attentionNorm().clone();
        wq = Matrix.of(w.wq());
        wk = Matrix.of(w.wk());
        wv = Matrix.of(w.wv());
        wo = Matrix.of(w.wo());
        ffnNorm = w.ffnNorm().clone();
        gate = Matrix.of(w.gate());
        up = Matrix.of(w.up());
        down = Matrix.of(w.down());
    }

    /** The engine's view of the current values, with some projections replaced (null keeps this layer's). */
    LayerWeights weights(Matrix q, Matrix k, Matrix v, Matrix o, Matrix g, Matrix u, Matrix d) {
        return new LayerWeights(attentionNorm, pick(q, wq), pick(k, wk), pick(v, wv), pick(o, wo), ffnNorm, pick(g, gate),
                pick(u, up), pick(d, down));
    }

    LayerWeights weights() {
        return weights(null, null, null, null, null, null, null);
    }

    private static LinearWeights pick(Matrix replacement, Matrix own) {
        return (replacement != null ? replacement : own).weights();
    }
}
