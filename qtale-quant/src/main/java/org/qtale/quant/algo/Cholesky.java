package org.qtale.quant.algo;

import java.util.Arrays;
import org.qtale.QtaleException;
import org.qtale.tensor.Parallel;

/**
 * Cholesky factorization of symmetric positive definite matrices (row-major {@code n × n} double arrays), and the
 * factor GPTQ needs: the upper {@code U} with {@code A⁻¹ = Uᵀ U}, computed as the reference does
 * ({@code torch.linalg.cholesky}, {@code torch.cholesky_inverse}, {@code torch.linalg.cholesky(upper=True)}).
 *
 * <ul>
 *   <li>{@code A = L Lᵀ}: {@code L_jj = √(A_jj − Σ_{k<j} L_jk²)},
 *       {@code L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj}.</li>
 *   <li>{@code M = L⁻¹} by forward substitution: {@code M_ii = 1/L_ii},
 *       {@code M_i,:i = −(Σ_{k<i} L_ik M_k,:i) / L_ii}; then {@code A⁻¹ = Mᵀ M}.</li>
 *   <li>{@code U = (chol(A⁻¹))ᵀ}.</li>
 * </ul>
 *
 * Each step is blocked so that its bulk is a product {@link MatrixKernels#multiplySubtract} over contiguous rows,
 * split across the threads of a {@link Parallel}; the split does not change the result. The plain loops are kept as
 * {@code *Reference} methods for the tests.
 */
public final class Cholesky {
    /** Columns per block: the panel below the block is solved row by row with dot products of this length. */
    private static final int BLOCK = 128;
    /** Rows per product in the inverse's {@code Mᵀ M}: a block reuses each cached block of M across its rows. */
    private static final int ROW_BLOCK = 128;

    private Cholesky() {
    }

    /**
     * The lower factor {@code L} of {@code A = L Lᵀ}; {@code a} is not modified and only its lower triangle is read.
     *
     * @throws QtaleException when A is not positive definite
     */
    public static double[] lower(double[] a, int n) {
        return lower(a, n, MatrixKernels.SEQUENTIAL);
    }

    /**
     * {@link #lower(double[], int)} by blocks of columns, left-looking: block {@code K} first gets
     * {@code A_{:,K} −= L_{:,<K} L_{K,<K}ᵀ} (rows in parallel), then its diagonal block is factored and the rows below
     * are solved against it.
     */
    public static double[] lower(double[] a, int n, Parallel parallel) {
        checkSquare(a, n);
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n, l, i * n, i + 1);
        }
        for (int k0 = 0; k0 < n; k0 += BLOCK) {
            int k1 = Math.min(n, k0 + BLOCK);
            int width = k1 - k0;
            int start = k0;
            double[] blockRowsT = blockRowsTransposed(l, n, k0, k1);
            MatrixKernels.multiplySubtract(l, k0 * n, n, blockRowsT, 0, width, l, k0 * n + k0, n, width, k0, width);
            factorDiagonalBlock(l, n, k0, k1);
            parallel.forRange(n - k1, 4, (from, to) -> {
                int first = k1 + from;
                MatrixKernels.multiplySubtract(l, first * n, n, blockRowsT, 0, width, l, first * n + start, n,
                        to - from, start, width);
                for (int i = first; i < k1 + to; i++) {
                    solveAgainstDiagonalBlock(l, n, i, start, k1);
                }
            });
        }
        // the products over the diagonal blocks also wrote above the diagonal
        for (int i = 0; i < n; i++) {
            Arrays.fill(l, i * n + i + 1, (i + 1) * n, 0);
        }
        return l;
    }

    /** {@code L_{k0:k1, 0:k0}ᵀ}, {@code k0 × (k1 − k0)}. */
    private static double[] blockRowsTransposed(double[] l, int n, int k0, int k1) {
        int width = k1 - k0;
        double[] t = new double[k0 * width];
        for (int c = 0; c < width; c++) {
            int row = (k0 + c) * n;
            for (int k = 0; k < k0; k++) {
                t[k * width + c] = l[row + k];
            }
        }
        return t;
    }

    /** The unblocked factorization of the diagonal block {@code [k0, k1)}, whose earlier columns are subtracted. */
    private static void factorDiagonalBlock(double[] l, int n, int k0, int k1) {
        for (int i = k0; i < k1; i++) {
            for (int j = k0; j <= i; j++) {
                double s = l[i * n + j] - MatrixKernels.dot(l, i * n + k0, l, j * n + k0, j - k0);
                if (i == j) {
                    if (!(s > 0)) {
                        throw new QtaleException("The matrix is not positive definite (pivot " + i + " is " + s + ").");
                    }
                    l[i * n + i] = Math.sqrt(s);
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
    }

    /** {@code L_ij = (A_ij − Σ_{k0≤k<j} L_ik L_jk) / L_jj} for the columns {@code j} of the block {@code [k0, k1)}. */
    private static void solveAgainstDiagonalBlock(double[] l, int n, int i, int k0, int k1) {
        for (int j = k0; j < k1; j++) {
            double s = l[i * n + j] - MatrixKernels.dot(l, i * n + k0, l, j * n + k0, j - k0);
            l[i * n + j] = s / l[j * n + j];
        }
    }

    /** {@code A⁻¹ = L⁻ᵀ L⁻¹} from the lower factor L of A ({@code torch.cholesky_inverse}). */
    public static double[] inverseFromLower(double[] l, int n) {
        return inverseFromLower(l, n, MatrixKernels.SEQUENTIAL);
    }

    /** {@link #inverseFromLower(double[], int)} with the products split across {@code parallel}. */
    public static double[] inverseFromLower(double[] l, int n, Parallel parallel) {
        checkSquare(l, n);
        double[] m = lowerInverse(l, n, parallel);
        double[] minusMt = MatrixKernels.transpose(m, n, n, -1, parallel);
        double[] inv = new double[n * n];
        // (Mᵀ M)_ij = Σ_{k ≥ max(i, j)} M_ki M_kj; rows [i0, i1) take columns j < i1 (the lower triangle and the
        // upper part of their diagonal block, which the mirroring overwrites)
        parallel.forRange(n, ROW_BLOCK, (from, to) -> {
            for (int i0 = from; i0 < to; i0 += ROW_BLOCK) {
                int i1 = Math.min(to, i0 + ROW_BLOCK);
                MatrixKernels.multiplySubtract(minusMt, i0 * n + i0, n, m, i0 * n, n, inv, i0 * n, n, i1 - i0,
                        n - i0, i1);
            }
        });
        MatrixKernels.mirrorLowerToUpper(inv, n, parallel);
        return inv;
    }

    /** The upper {@code U} with {@code A⁻¹ = Uᵀ U}: GPTQ's {@code Hinv}. */
    public static double[] upperFactorOfInverse(double[] a, int n) {
        return upperFactorOfInverse(a, n, MatrixKernels.SEQUENTIAL);
    }

    /** {@link #upperFactorOfInverse(double[], int)} with the products split across {@code parallel}. */
    public static double[] upperFactorOfInverse(double[] a, int n, Parallel parallel) {
        double[] lowerOfInverse = lower(inverseFromLower(lower(a, n, parallel), n, parallel), n, parallel);
        return MatrixKernels.transpose(lowerOfInverse, n, n, 1, parallel);
    }

    /**
     * {@code M = L⁻¹} by blocks of rows {@code I}: the diagonal block is {@code L_II⁻¹}, and left of it
     * {@code M_{I,:I} = −L_II⁻¹ (L_{I,:I} M_{:I,:I})}, the columns of which are independent (split across threads).
     */
    private static double[] lowerInverse(double[] l, int n, Parallel parallel) {
        double[] m = new double[n * n];
        for (int i0 = 0; i0 < n; i0 += BLOCK) {
            int i1 = Math.min(n, i0 + BLOCK);
            int height = i1 - i0;
            invertDiagonalBlock(l, m, n, i0, i1);
            int first = i0;
            parallel.forRange(i0, 16, (from, to) -> {
                // M_kj = 0 for k < j, so columns [from, to) need only rows k ≥ from of M
                int k = from - from % MatrixKernels.INNER_BLOCK;
                MatrixKernels.multiplySubtract(l, first * n + k, n, m, k * n + from, n, m, first * n + from, n, height,
                        first - k, to - from);
                for (int r = first; r < i1; r++) {
                    MatrixKernels.multiplySubtract(l, r * n + first, n, m, first * n + from, n, m, r * n + from, n, 1,
                            r - first, to - from);
                    double inverseDiagonal = 1 / l[r * n + r];
                    for (int j = r * n + from; j < r * n + to; j++) {
                        m[j] *= inverseDiagonal;
                    }
                }
            });
        }
        return m;
    }

    /** {@code M_II = L_II⁻¹} for the rows and columns {@code [i0, i1)}, row by row. */
    private static void invertDiagonalBlock(double[] l, double[] m, int n, int i0, int i1) {
        for (int i = i0; i < i1; i++) {
            int row = i * n;
            for (int k = i0; k < i; k++) {
                double lik = l[row + k];
                for (int j = i0; j <= k; j++) {
                    m[row + j] -= lik * m[k * n + j];
                }
            }
            double inverseDiagonal = 1 / l[row + i];
            for (int j = i0; j < i; j++) {
                m[row + j] *= inverseDiagonal;
            }
            m[row + i] = inverseDiagonal;
        }
    }

    /** The unblocked single-threaded {@link #lower(double[], int)}: the reference of the tests. */
    static double[] lowerReference(double[] a, int n) {
        checkSquare(a, n);
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j] - MatrixKernels.dotReference(l, i * n, l, j * n, j);
                if (i == j) {
                    if (!(s > 0)) {
                        throw new QtaleException("The matrix is not positive definite (pivot " + i + " is " + s + ").");
                    }
                    l[i * n + i] = Math.sqrt(s);
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        return l;
    }

    /** The unblocked single-threaded {@link #inverseFromLower(double[], int)}. */
    static double[] inverseFromLowerReference(double[] l, int n) {
        checkSquare(l, n);
        double[] m = lowerInverseReference(l, n);
        double[] inv = new double[n * n];
        // (Mᵀ M)_ij = Σ_k M_ki M_kj: add the outer product of each row of M (non-zero on 0..k) to the lower triangle
        for (int k = 0; k < n; k++) {
            for (int i = 0; i <= k; i++) {
                double mki = m[k * n + i];
                if (mki == 0) {
                    continue;
                }
                for (int j = 0; j <= i; j++) {
                    inv[i * n + j] += mki * m[k * n + j];
                }
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                inv[i * n + j] = inv[j * n + i];
            }
        }
        return inv;
    }

    static double[] upperFactorOfInverseReference(double[] a, int n) {
        return MatrixKernels.transpose(lowerReference(inverseFromLowerReference(lowerReference(a, n), n), n), n, n, 1,
                MatrixKernels.SEQUENTIAL);
    }

    /** {@code L⁻¹}, lower triangular, row by row: {@code M_i = (e_i − Σ_{k<i} L_ik M_k) / L_ii}. */
    private static double[] lowerInverseReference(double[] l, int n) {
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) {
            int row = i * n;
            for (int k = 0; k < i; k++) {
                double lik = l[row + k];
                if (lik == 0) {
                    continue;
                }
                for (int j = 0; j <= k; j++) {
                    m[row + j] -= lik * m[k * n + j];
                }
            }
            double inverseDiagonal = 1 / l[row + i];
            for (int j = 0; j < i; j++) {
                m[row + j] *= inverseDiagonal;
            }
            m[row + i] = inverseDiagonal;
        }
        return m;
    }

    private static void checkSquare(double[] a, int n) {
        if (n < 1 || a.length != n * n) {
            throw new QtaleException("Expected a " + n + "x" + n + " matrix, got " + a.length + " values.");
        }
    }
}
