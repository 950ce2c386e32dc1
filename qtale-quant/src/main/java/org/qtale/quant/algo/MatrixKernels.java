package org.qtale.quant.algo;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.tensor.Parallel;

/**
 * The dense double kernels of GPTQ's linear algebra, on row-major arrays addressed by an offset and a row stride.
 * The products are {@code C −= A·B}, vectorized over the columns of C (contiguous rows of B) with a tile of four rows
 * of C in registers; row {@code i} of C depends only on row {@code i} of A, so callers split rows (or column ranges)
 * across threads, and every row gets the same arithmetic whatever the split. Each vectorized kernel has a plain-loop
 * reference of the same name ending in {@code Reference}; the tests compare them.
 */
final class MatrixKernels {
    /** A pool of one thread: runs every range on the calling thread. */
    static final Parallel SEQUENTIAL = new Parallel(1);

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats as many as the doubles of {@link #D}, for the conversions. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class,
            VectorShape.forBitSize(D.length() * Float.SIZE));
    /**
     * The inner dimension per pass over C. A caller whose split across threads changes where its inner dimension
     * starts aligns the start to a multiple of this, so the sums do not depend on the split.
     */
    static final int INNER_BLOCK = 128;
    /** Columns per pass: an {@code INNER_BLOCK × COLUMN_BLOCK} block of B (256 KB) stays in L2 across row tiles. */
    private static final int COLUMN_BLOCK = 256;
    private static final int TILE_ROWS = 4;
    private static final int TRANSPOSE_TILE = 32;

    private MatrixKernels() {
    }

    /**
     * {@code C −= A·B} for an {@code m × p} A and a {@code p × q} B. The products are summed over blocks of
     * {@value #INNER_BLOCK} inner indices and each block's sum is subtracted from C.
     */
    static void multiplySubtract(double[] a, int aOffset, int aStride, double[] b, int bOffset, int bStride,
            double[] c, int cOffset, int cStride, int m, int p, int q) {
        for (int k0 = 0; k0 < p; k0 += INNER_BLOCK) {
            int k1 = Math.min(p, k0 + INNER_BLOCK);
            for (int j0 = 0; j0 < q; j0 += COLUMN_BLOCK) {
                int j1 = Math.min(q, j0 + COLUMN_BLOCK);
                int i = 0;
                for (; i + TILE_ROWS <= m; i += TILE_ROWS) {
                    fourRows(a, aOffset + i * aStride, aStride, b, bOffset, bStride, c, cOffset + i * cStride,
                            cStride, k0, k1, j0, j1);
                }
                for (; i < m; i++) {
                    oneRow(a, aOffset + i * aStride, b, bOffset, bStride, c, cOffset + i * cStride, k0, k1, j0, j1);
                }
            }
        }
    }

    static void multiplySubtractReference(double[] a, int aOffset, int aStride, double[] b, int bOffset,
            int bStride, double[] c, int cOffset, int cStride, int m, int p, int q) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < q; j++) {
                double s = 0;
                for (int k = 0; k < p; k++) {
                    s += a[aOffset + i * aStride + k] * b[bOffset + k * bStride + j];
                }
                c[cOffset + i * cStride + j] -= s;
            }
        }
    }

    /** Rows {@code a0 .. a0 + 3·aStride} of A against columns {@code [j0, j1)} of B over {@code [k0, k1)}. */
    private static void fourRows(double[] a, int a0, int aStride, double[] b, int bOffset, int bStride, double[] c,
            int c0, int cStride, int k0, int k1, int j0, int j1) {
        int width = D.length();
        int a1 = a0 + aStride;
        int a2 = a1 + aStride;
        int a3 = a2 + aStride;
        int j = j0;
        for (; j + 2 * width <= j1; j += 2 * width) {
            DoubleVector s00 = DoubleVector.zero(D);
            DoubleVector s01 = DoubleVector.zero(D);
            DoubleVector s10 = DoubleVector.zero(D);
            DoubleVector s11 = DoubleVector.zero(D);
            DoubleVector s20 = DoubleVector.zero(D);
            DoubleVector s21 = DoubleVector.zero(D);
            DoubleVector s30 = DoubleVector.zero(D);
            DoubleVector s31 = DoubleVector.zero(D);
            for (int k = k0; k < k1; k++) {
                int bk = bOffset + k * bStride + j;
                DoubleVector b0 = DoubleVector.fromArray(D, b, bk);
                DoubleVector b1 = DoubleVector.fromArray(D, b, bk + width);
                DoubleVector x0 = DoubleVector.broadcast(D, a[a0 + k]);
                s00 = x0.fma(b0, s00);
                s01 = x0.fma(b1, s01);
                DoubleVector x1 = DoubleVector.broadcast(D, a[a1 + k]);
                s10 = x1.fma(b0, s10);
                s11 = x1.fma(b1, s11);
                DoubleVector x2 = DoubleVector.broadcast(D, a[a2 + k]);
                s20 = x2.fma(b0, s20);
                s21 = x2.fma(b1, s21);
                DoubleVector x3 = DoubleVector.broadcast(D, a[a3 + k]);
                s30 = x3.fma(b0, s30);
                s31 = x3.fma(b1, s31);
            }
            int c1 = c0 + cStride;
            int c2 = c1 + cStride;
            int c3 = c2 + cStride;
            DoubleVector.fromArray(D, c, c0 + j).sub(s00).intoArray(c, c0 + j);
            DoubleVector.fromArray(D, c, c0 + j + width).sub(s01).intoArray(c, c0 + j + width);
            DoubleVector.fromArray(D, c, c1 + j).sub(s10).intoArray(c, c1 + j);
            DoubleVector.fromArray(D, c, c1 + j + width).sub(s11).intoArray(c, c1 + j + width);
            DoubleVector.fromArray(D, c, c2 + j).sub(s20).intoArray(c, c2 + j);
            DoubleVector.fromArray(D, c, c2 + j + width).sub(s21).intoArray(c, c2 + j + width);
            DoubleVector.fromArray(D, c, c3 + j).sub(s30).intoArray(c, c3 + j);
            DoubleVector.fromArray(D, c, c3 + j + width).sub(s31).intoArray(c, c3 + j + width);
        }
        // the remaining columns one row at a time, with the same fused multiply-adds in the same order
        for (int r = 0; r < TILE_ROWS; r++) {
            oneRow(a, a0 + r * aStride, b, bOffset, bStride, c, c0 + r * cStride, k0, k1, j, j1);
        }
    }

    private static void oneRow(double[] a, int a0, double[] b, int bOffset, int bStride, double[] c, int c0, int k0,
            int k1, int j0, int j1) {
        int width = D.length();
        int j = j0;
        for (; j + width <= j1; j += width) {
            DoubleVector s = DoubleVector.zero(D);
            for (int k = k0; k < k1; k++) {
                s = DoubleVector.broadcast(D, a[a0 + k]).fma(DoubleVector.fromArray(D, b, bOffset + k * bStride + j), s);
            }
            DoubleVector.fromArray(D, c, c0 + j).sub(s).intoArray(c, c0 + j);
        }
        for (; j < j1; j++) {
            double s = 0;
            for (int k = k0; k < k1; k++) {
                s = Math.fma(a[a0 + k], b[bOffset + k * bStride + j], s);
            }
            c[c0 + j] -= s;
        }
    }

    /**
     * {@code C −= (float) (A·B)} for a float C: each entry's product is summed in double over the whole inner
     * dimension {@code p}, rounded to float once and subtracted in float (GPTQ's lazy batch update).
     */
    static void multiplySubtractFromFloats(double[] a, int aOffset, int aStride, double[] b, int bOffset,
            int bStride, float[] c, int cOffset, int cStride, int m, int p, int q) {
        for (int j0 = 0; j0 < q; j0 += COLUMN_BLOCK) {
            int j1 = Math.min(q, j0 + COLUMN_BLOCK);
            int i = 0;
            for (; i + TILE_ROWS <= m; i += TILE_ROWS) {
                fourFloatRows(a, aOffset + i * aStride, aStride, b, bOffset, bStride, c, cOffset + i * cStride,
                        cStride, p, j0, j1);
            }
            for (; i < m; i++) {
                oneFloatRow(a, aOffset + i * aStride, b, bOffset, bStride, c, cOffset + i * cStride, p, j0, j1);
            }
        }
    }

    private static void fourFloatRows(double[] a, int a0, int aStride, double[] b, int bOffset, int bStride,
            float[] c, int c0, int cStride, int p, int j0, int j1) {
        int width = D.length();
        int a1 = a0 + aStride;
        int a2 = a1 + aStride;
        int a3 = a2 + aStride;
        int j = j0;
        for (; j + 2 * width <= j1; j += 2 * width) {
            DoubleVector s00 = DoubleVector.zero(D);
            DoubleVector s01 = DoubleVector.zero(D);
            DoubleVector s10 = DoubleVector.zero(D);
            DoubleVector s11 = DoubleVector.zero(D);
            DoubleVector s20 = DoubleVector.zero(D);
            DoubleVector s21 = DoubleVector.zero(D);
            DoubleVector s30 = DoubleVector.zero(D);
            DoubleVector s31 = DoubleVector.zero(D);
            for (int k = 0; k < p; k++) {
                int bk = bOffset + k * bStride + j;
                DoubleVector b0 = DoubleVector.fromArray(D, b, bk);
                DoubleVector b1 = DoubleVector.fromArray(D, b, bk + width);
                DoubleVector x0 = DoubleVector.broadcast(D, a[a0 + k]);
                s00 = x0.fma(b0, s00);
                s01 = x0.fma(b1, s01);
                DoubleVector x1 = DoubleVector.broadcast(D, a[a1 + k]);
                s10 = x1.fma(b0, s10);
                s11 = x1.fma(b1, s11);
                DoubleVector x2 = DoubleVector.broadcast(D, a[a2 + k]);
                s20 = x2.fma(b0, s20);
                s21 = x2.fma(b1, s21);
                DoubleVector x3 = DoubleVector.broadcast(D, a[a3 + k]);
                s30 = x3.fma(b0, s30);
                s31 = x3.fma(b1, s31);
            }
            int c1 = c0 + cStride;
            int c2 = c1 + cStride;
            int c3 = c2 + cStride;
            FloatVector.fromArray(F, c, c0 + j).sub((FloatVector) s00.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c0 + j);
            FloatVector.fromArray(F, c, c0 + j + width).sub((FloatVector) s01.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c0 + j + width);
            FloatVector.fromArray(F, c, c1 + j).sub((FloatVector) s10.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c1 + j);
            FloatVector.fromArray(F, c, c1 + j + width).sub((FloatVector) s11.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c1 + j + width);
            FloatVector.fromArray(F, c, c2 + j).sub((FloatVector) s20.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c2 + j);
            FloatVector.fromArray(F, c, c2 + j + width).sub((FloatVector) s21.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c2 + j + width);
            FloatVector.fromArray(F, c, c3 + j).sub((FloatVector) s30.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c3 + j);
            FloatVector.fromArray(F, c, c3 + j + width).sub((FloatVector) s31.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c3 + j + width);
        }
        for (int r = 0; r < TILE_ROWS; r++) {
            oneFloatRow(a, a0 + r * aStride, b, bOffset, bStride, c, c0 + r * cStride, p, j, j1);
        }
    }

    private static void oneFloatRow(double[] a, int a0, double[] b, int bOffset, int bStride, float[] c, int c0,
            int p, int j0, int j1) {
        int width = D.length();
        int j = j0;
        for (; j + width <= j1; j += width) {
            DoubleVector s = DoubleVector.zero(D);
            for (int k = 0; k < p; k++) {
                s = DoubleVector.broadcast(D, a[a0 + k]).fma(DoubleVector.fromArray(D, b, bOffset + k * bStride + j), s);
            }
            FloatVector.fromArray(F, c, c0 + j).sub((FloatVector) s.convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(c, c0 + j);
        }
        for (; j < j1; j++) {
            double s = 0;
            for (int k = 0; k < p; k++) {
                s = Math.fma(a[a0 + k], b[bOffset + k * bStride + j], s);
            }
            c[c0 + j] -= (float) s;
        }
    }

    static void multiplySubtractFromFloatsReference(double[] a, int aOffset, int aStride, double[] b, int bOffset,
            int bStride, float[] c, int cOffset, int cStride, int m, int p, int q) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < q; j++) {
                double s = 0;
                for (int k = 0; k < p; k++) {
                    s += a[aOffset + i * aStride + k] * b[bOffset + k * bStride + j];
                }
                c[cOffset + i * cStride + j] -= (float) s;
            }
        }
    }

    /** {@code y[from, to) −= (float) (e · u[uOffset + from, ...))}: one OBS update of a row inside a GPTQ block. */
    static void subtractScaledFromFloats(float[] y, double e, double[] u, int uOffset, int from, int to) {
        int width = D.length();
        int j = from;
        for (; j + width <= to; j += width) {
            DoubleVector product = DoubleVector.fromArray(D, u, uOffset + j).mul(e);
            FloatVector delta = (FloatVector) product.convertShape(VectorOperators.D2F, F, 0);
            FloatVector.fromArray(F, y, j).sub(delta).intoArray(y, j);
        }
        for (; j < to; j++) {
            y[j] -= (float) (e * u[uOffset + j]);
        }
    }

    static void subtractScaledFromFloatsReference(float[] y, double e, double[] u, int uOffset, int from, int to) {
        for (int j = from; j < to; j++) {
            y[j] -= (float) (e * u[uOffset + j]);
        }
    }

    /** {@code Σ a[aOffset + k] · b[bOffset + k]} over {@code k < length}. */
    static double dot(double[] a, int aOffset, double[] b, int bOffset, int length) {
        int width = D.length();
        int k = 0;
        double s = 0;
        if (length >= 2 * width) {
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = DoubleVector.zero(D);
            for (; k + 2 * width <= length; k += 2 * width) {
                s0 = DoubleVector.fromArray(D, a, aOffset + k).fma(DoubleVector.fromArray(D, b, bOffset + k), s0);
                s1 = DoubleVector.fromArray(D, a, aOffset + k + width)
                        .fma(DoubleVector.fromArray(D, b, bOffset + k + width), s1);
            }
            // reduceLanes may add in another order once compiled; halving gives the same bits in every JIT tier
            double[] lanes = new double[width];
            s0.add(s1).intoArray(lanes, 0);
            for (int half = width / 2; half >= 1; half /= 2) {
                for (int i = 0; i < half; i++) {
                    lanes[i] += lanes[i + half];
                }
            }
            s = lanes[0];
        }
        for (; k < length; k++) {
            s = Math.fma(a[aOffset + k], b[bOffset + k], s);
        }
        return s;
    }

    static double dotReference(double[] a, int aOffset, double[] b, int bOffset, int length) {
        double s = 0;
        for (int k = 0; k < length; k++) {
            s += a[aOffset + k] * b[bOffset + k];
        }
        return s;
    }

    /** {@code scale · Aᵀ} of the row-major {@code rows × cols} A, as a {@code cols × rows} matrix, in tiles. */
    static double[] transpose(double[] a, int rows, int cols, double scale, Parallel parallel) {
        double[] t = new double[rows * cols];
        parallel.forRange(cols, TRANSPOSE_TILE, (from, to) -> {
            for (int j0 = from; j0 < to; j0 += TRANSPOSE_TILE) {
                int j1 = Math.min(to, j0 + TRANSPOSE_TILE);
                for (int i0 = 0; i0 < rows; i0 += TRANSPOSE_TILE) {
                    int i1 = Math.min(rows, i0 + TRANSPOSE_TILE);
                    for (int j = j0; j < j1; j++) {
                        for (int i = i0; i < i1; i++) {
                            t[j * rows + i] = scale * a[i * cols + j];
                        }
                    }
                }
            }
        });
        return t;
    }

    /** Copies the upper triangle of the {@code n × n} A onto its lower triangle, in tiles. */
    static void mirrorUpperToLower(double[] a, int n, Parallel parallel) {
        parallel.forRange(n, TRANSPOSE_TILE, (from, to) -> {
            for (int i0 = from; i0 < to; i0 += TRANSPOSE_TILE) {
                int i1 = Math.min(to, i0 + TRANSPOSE_TILE);
                for (int j0 = 0; j0 < i1; j0 += TRANSPOSE_TILE) {
                    for (int i = i0; i < i1; i++) {
                        for (int j = j0, end = Math.min(i, j0 + TRANSPOSE_TILE); j < end; j++) {
                            a[i * n + j] = a[j * n + i];
                        }
                    }
                }
            }
        });
    }

    /** Copies the lower triangle of the {@code n × n} A onto its upper triangle. */
    static void mirrorLowerToUpper(double[] a, int n, Parallel parallel) {
        parallel.forRange(n, TRANSPOSE_TILE, (from, to) -> {
            for (int i0 = from; i0 < to; i0 += TRANSPOSE_TILE) {
                int i1 = Math.min(to, i0 + TRANSPOSE_TILE);
                for (int j0 = i0; j0 < n; j0 += TRANSPOSE_TILE) {
                    int j1 = Math.min(n, j0 + TRANSPOSE_TILE);
                    for (int i = i0; i < i1; i++) {
                        for (int j = Math.max(j0, i + 1); j < j1; j++) {
                            a[i * n + j] = a[j * n + i];
                        }
                    }
                }
            }
        });
    }
}
