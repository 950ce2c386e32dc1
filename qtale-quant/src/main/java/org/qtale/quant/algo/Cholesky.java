package org.qtale.quant.algo;

import org.qtale.QtaleException;

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
 */
public final class Cholesky {
    private Cholesky() {
    }

    /**
     * The lower factor {@code L} of {@code A = L Lᵀ}; {@code a} is not modified and only its lower triangle is read.
     *
     * @throws QtaleException when A is not positive definite
     */
    public static double[] lower(double[] a, int n) {
        checkSquare(a, n);
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j] - dot(l, i * n, l, j * n, j);
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

    /** {@code A⁻¹ = L⁻ᵀ L⁻¹} from the lower factor L of A ({@code torch.cholesky_inverse}). */
    public static double[] inverseFromLower(double[] l, int n) {
        checkSquare(l, n);
        double[] m = lowerInverse(l, n);
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

    /** The upper {@code U} with {@code A⁻¹ = Uᵀ U}: GPTQ's {@code Hinv}. */
    public static double[] upperFactorOfInverse(double[] a, int n) {
        double[] lowerOfInverse = lower(inverseFromLower(lower(a, n), n), n);
        return transpose(lowerOfInverse, n);
    }

    /** {@code L⁻¹}, lower triangular, row by row: {@code M_i = (e_i − Σ_{k<i} L_ik M_k) / L_ii}. */
    private static double[] lowerInverse(double[] l, int n) {
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

    static double[] transpose(double[] a, int n) {
        double[] t = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                t[j * n + i] = a[i * n + j];
            }
        }
        return t;
    }

    private static double dot(double[] a, int aOffset, double[] b, int bOffset, int length) {
        double s = 0;
        for (int k = 0; k < length; k++) {
            s += a[aOffset + k] * b[bOffset + k];
        }
        return s;
    }

    private static void checkSquare(double[] a, int n) {
        if (n < 1 || a.length != n * n) {
            throw new QtaleException("Expected a " + n + "x" + n + " matrix, got " + a.length + " values.");
        }
    }
}
