package org.qtale.train.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.tensor.Parallel;

/**
 * The matrix products of training as one kernel: {@code C[i][j] += Σ_k A(k, i) · B[k][j]}, where
 * {@code A(k, i) = a[i·aStrideI + k·aStrideK]} lets a product read its left operand transposed or not without a copy
 * (a linear layer's {@code y = x·Wᵀ}, {@code dx = dy·W} and {@code dW += dyᵀ·x}; attention's per-head products).
 * Register tiles of 4 rows of C by 4 (or 1) vectors of columns keep the accumulators in registers, so each loaded B
 * vector serves four rows and each broadcast A value several vectors; no lane sums are needed.
 */
public final class Gemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int LANES = F.length();

    private Gemm() {
    }

    /** {@code dx[t][c] += Σ_r dy[t][r] · w[r][c]} for {@code n} tokens; w is {@code rows × cols}. */
    public static void inputGradient(Parallel parallel, float[] dy, int n, float[] w, int rows, int cols, float[] dx) {
        parallel.forRange(n, 4, (start, end) -> accumulate(start, end, cols, rows, dy, rows, 1, w, cols, dx, cols));
    }

    /** {@code dw[r][c] += Σ_t dy[t][r] · x[t][c]} over {@code n} tokens; dw is {@code rows × cols}. */
    public static void weightGradient(Parallel parallel, float[] dy, float[] x, int n, int rows, int cols, float[] dw) {
        parallel.forRange(rows, 4, (start, end) -> accumulate(start, end, cols, n, dy, 1, rows, x, cols, dw, cols));
    }

    /** {@code C[i][j] += Σ_{k < depth} A(k, i) · B[k][j]} for rows {@code i ∈ [iStart, iEnd)} and {@code j < width}. */
    static void accumulate(int iStart, int iEnd, int width, int depth, float[] a, int aStrideI, int aStrideK,
            float[] b, int ldb, float[] c, int ldc) {
        accumulate(iStart, iEnd, width, 0, depth, a, aStrideI, aStrideK, b, ldb, c, ldc);
    }

    /** {@link #accumulate} with the sum over {@code k ∈ [kFrom, kTo)} only (for causal products). */
    static void accumulate(int iStart, int iEnd, int width, int kFrom, int kTo, float[] a, int aStrideI, int aStrideK,
            float[] b, int ldb, float[] c, int ldc) {
        int lanes = F.length();
        int i = iStart;
        for (; i + 4 <= iEnd; i += 4) {
            int j = 0;
            for (; j + 4 * lanes <= width; j += 4 * lanes) {
                tile4x4(i, j, kFrom, kTo, a, aStrideI, aStrideK, b, ldb, c, ldc);
            }
            for (; j + lanes <= width; j += lanes) {
                tile4x1(i, j, kFrom, kTo, a, aStrideI, aStrideK, b, ldb, c, ldc);
            }
            for (int r = i; r < i + 4; r++) {
                rowTail(r, j, width, kFrom, kTo, a, aStrideI, aStrideK, b, ldb, c, ldc);
            }
        }
        for (; i < iEnd; i++) {
            rowTail(i, 0, width, kFrom, kTo, a, aStrideI, aStrideK, b, ldb, c, ldc);
        }
    }

    private static void tile4x4(int i, int j, int kFrom, int kTo, float[] a, int aStrideI, int aStrideK, float[] b, int ldb,
            float[] c, int ldc) {
        int lanes = F.length();
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        int a0 = i * aStrideI;
        int a1 = a0 + aStrideI;
        int a2 = a1 + aStrideI;
        int a3 = a2 + aStrideI;
        for (int k = kFrom; k < kTo; k++) {
            int bo = k * ldb + j;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + lanes);
            FloatVector b2 = FloatVector.fromArray(F, b, bo + 2 * lanes);
            FloatVector b3 = FloatVector.fromArray(F, b, bo + 3 * lanes);
            int ko = k * aStrideK;
            FloatVector s = FloatVector.broadcast(F, a[a0 + ko]);
            c00 = b0.fma(s, c00);
            c01 = b1.fma(s, c01);
            c02 = b2.fma(s, c02);
            c03 = b3.fma(s, c03);
            s = FloatVector.broadcast(F, a[a1 + ko]);
            c10 = b0.fma(s, c10);
            c11 = b1.fma(s, c11);
            c12 = b2.fma(s, c12);
            c13 = b3.fma(s, c13);
            s = FloatVector.broadcast(F, a[a2 + ko]);
            c20 = b0.fma(s, c20);
            c21 = b1.fma(s, c21);
            c22 = b2.fma(s, c22);
            c23 = b3.fma(s, c23);
            s = FloatVector.broadcast(F, a[a3 + ko]);
            c30 = b0.fma(s, c30);
            c31 = b1.fma(s, c31);
            c32 = b2.fma(s, c32);
            c33 = b3.fma(s, c33);
        }
        // each accumulator is added into C where it is, never passed to a method (a vector argument of a method
        // that is not inlined is boxed on the heap)
        int o = i * ldc + j;
        FloatVector.fromArray(F, c, o).add(c00).intoArray(c, o);
        FloatVector.fromArray(F, c, o + lanes).add(c01).intoArray(c, o + lanes);
        FloatVector.fromArray(F, c, o + 2 * lanes).add(c02).intoArray(c, o + 2 * lanes);
        FloatVector.fromArray(F, c, o + 3 * lanes).add(c03).intoArray(c, o + 3 * lanes);
        o += ldc;
        FloatVector.fromArray(F, c, o).add(c10).intoArray(c, o);
        FloatVector.fromArray(F, c, o + lanes).add(c11).intoArray(c, o + lanes);
        FloatVector.fromArray(F, c, o + 2 * lanes).add(c12).intoArray(c, o + 2 * lanes);
        FloatVector.fromArray(F, c, o + 3 * lanes).add(c13).intoArray(c, o + 3 * lanes);
        o += ldc;
        FloatVector.fromArray(F, c, o).add(c20).intoArray(c, o);
        FloatVector.fromArray(F, c, o + lanes).add(c21).intoArray(c, o + lanes);
        FloatVector.fromArray(F, c, o + 2 * lanes).add(c22).intoArray(c, o + 2 * lanes);
        FloatVector.fromArray(F, c, o + 3 * lanes).add(c23).intoArray(c, o + 3 * lanes);
        o += ldc;
        FloatVector.fromArray(F, c, o).add(c30).intoArray(c, o);
        FloatVector.fromArray(F, c, o + lanes).add(c31).intoArray(c, o + lanes);
        FloatVector.fromArray(F, c, o + 2 * lanes).add(c32).intoArray(c, o + 2 * lanes);
        FloatVector.fromArray(F, c, o + 3 * lanes).add(c33).intoArray(c, o + 3 * lanes);
    }

    /** Four rows of C by one vector of columns: each loaded B vector serves four rows. */
    private static void tile4x1(int i, int j, int kFrom, int kTo, float[] a, int aStrideI, int aStrideK, float[] b, int ldb,
            float[] c, int ldc) {
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        int a0 = i * aStrideI;
        int a1 = a0 + aStrideI;
        int a2 = a1 + aStrideI;
        int a3 = a2 + aStrideI;
        for (int k = kFrom; k < kTo; k++) {
            FloatVector bv = FloatVector.fromArray(F, b, k * ldb + j);
            int ko = k * aStrideK;
            c0 = bv.fma(FloatVector.broadcast(F, a[a0 + ko]), c0);
            c1 = bv.fma(FloatVector.broadcast(F, a[a1 + ko]), c1);
            c2 = bv.fma(FloatVector.broadcast(F, a[a2 + ko]), c2);
            c3 = bv.fma(FloatVector.broadcast(F, a[a3 + ko]), c3);
        }
        int o = i * ldc + j;
        FloatVector.fromArray(F, c, o).add(c0).intoArray(c, o);
        FloatVector.fromArray(F, c, o + ldc).add(c1).intoArray(c, o + ldc);
        FloatVector.fromArray(F, c, o + 2 * ldc).add(c2).intoArray(c, o + 2 * ldc);
        FloatVector.fromArray(F, c, o + 3 * ldc).add(c3).intoArray(c, o + 3 * ldc);
    }

    /** One row of C from column {@code from} on: a vector at a time, then scalars. */
    private static void rowTail(int i, int from, int width, int kFrom, int kTo, float[] a, int aStrideI, int aStrideK,
            float[] b, int ldb, float[] c, int ldc) {
        int lanes = F.length();
        int j = from;
        for (; j + lanes <= width; j += lanes) {
            FloatVector acc = FloatVector.zero(F);
            for (int k = kFrom; k < kTo; k++) {
                acc = FloatVector.fromArray(F, b, k * ldb + j).fma(FloatVector.broadcast(F, a[i * aStrideI + k * aStrideK]), acc);
            }
            FloatVector.fromArray(F, c, i * ldc + j).add(acc).intoArray(c, i * ldc + j);
        }
        for (; j < width; j++) {
            float sum = 0;
            for (int k = kFrom; k < kTo; k++) {
                sum += a[i * aStrideI + k * aStrideK] * b[k * ldb + j];
            }
            c[i * ldc + j] += sum;
        }
    }

    /** The scalar reference of {@link #accumulate}, with double sums. */
    static void accumulateReference(int iStart, int iEnd, int width, int depth, float[] a, int aStrideI, int aStrideK,
            float[] b, int ldb, float[] c, int ldc) {
        accumulateReference(iStart, iEnd, width, 0, depth, a, aStrideI, aStrideK, b, ldb, c, ldc);
    }

    static void accumulateReference(int iStart, int iEnd, int width, int kFrom, int kTo, float[] a, int aStrideI,
            int aStrideK, float[] b, int ldb, float[] c, int ldc) {
        for (int i = iStart; i < iEnd; i++) {
            for (int j = 0; j < width; j++) {
                double sum = 0;
                for (int k = kFrom; k < kTo; k++) {
                    sum += (double) a[i * aStrideI + k * aStrideK] * b[k * ldb + j];
                }
                c[i * ldc + j] += (float) sum;
            }
        }
    }
}
