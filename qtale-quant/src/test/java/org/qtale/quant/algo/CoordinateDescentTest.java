package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;
import org.qtale.quant.QuantizedMatrix;

class CoordinateDescentTest {
    private static final int ROWS = 8;
    private static final int COLS = 48;

    /**
     * The released code's matrix formulation, transcribed step by step: {@code S_d = S + 0.75·mean(diag S)·I},
     * {@code N = S_d / (diag(S_d) + 0.1)} column-wise, {@code P = Ŵ N}, {@code N ← (N with zero diagonal)ᵀ},
     * {@code Δ = Qᵀ}, {@code P̂ = (N Δ)ᵀ}; for each column j: {@code u = P_j − P̂_j + N_{j,:j} Δ_{:j}}, quantize,
     * {@code Δ_j −= q_j}.
     */
    private static float[][] referenceFormulation(QuantizedMatrix start, float[][] target, double[] s, int passes) {
        int k = COLS;
        double mean = 0;
        for (int j = 0; j < k; j++) {
            mean += s[j * k + j] / k;
        }
        double[] damped = s.clone();
        for (int j = 0; j < k; j++) {
            damped[j * k + j] += 0.75 * mean;
        }
        double[] normalized = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                normalized[i * k + j] = damped[i * k + j] / (damped[j * k + j] + 0.1);
            }
        }
        double[][] p = new double[ROWS][k];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < k; j++) {
                for (int i = 0; i < k; i++) {
                    p[r][j] += target[r][i] * normalized[i * k + j];
                }
            }
        }
        double[] n = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                n[j * k + i] = i == j ? 0 : normalized[i * k + j];
            }
        }
        float[][] q = Weights.dequantize(start);
        for (int pass = 0; pass < passes; pass++) {
            double[][] delta = new double[k][ROWS];
            for (int i = 0; i < k; i++) {
                for (int r = 0; r < ROWS; r++) {
                    delta[i][r] = q[r][i];
                }
            }
            double[][] pHat = new double[ROWS][k];
            for (int j = 0; j < k; j++) {
                for (int r = 0; r < ROWS; r++) {
                    for (int i = 0; i < k; i++) {
                        pHat[r][j] += n[j * k + i] * delta[i][r];
                    }
                }
            }
            for (int j = 0; j < k; j++) {
                for (int r = 0; r < ROWS; r++) {
                    double u = p[r][j] - pHat[r][j];
                    for (int i = 0; i < j; i++) {
                        u += n[j * k + i] * delta[i][r];
                    }
                    q[r][j] = Weights.grid(start, r, start.group(j)).roundTrip((float) u);
                    delta[j][r] -= q[r][j];
                }
            }
        }
        return q;
    }

    @Test
    void matchesTheReferenceMatrixFormulation() {
        float[][] x = SyntheticLayer.unevenLowRankInputs(256, COLS, 32, 0.05, 1, 31);
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 0.02, 32);
        Hessian h = SyntheticLayer.hessian(x, 64);
        for (int passes : new int[] {1, 3}) {
            QuantizedMatrix start = Gptq.quantize(w, h, GptqGrid.asymmetric(3), GptqOptions.of(16)).matrix();
            QuantizedMatrix refined = CoordinateDescent.refine(start, w, h.gram(), passes);
            float[][] expected = referenceFormulation(start, w, h.gram(), passes);
            float[][] actual = Weights.dequantize(refined);
            for (int r = 0; r < ROWS; r++) {
                assertArrayEquals(expected[r], actual[r], "row " + r + ", " + passes + " passes");
            }
            assertSame(start.scales(), refined.scales());
            assertSame(start.zeros(), refined.zeros());
        }
    }

    @Test
    void withoutInputCorrelationsItRoundsTheTargetToNearest() {
        // S = 10⁶·I: u_j = ŵ_j·(1 + 0.75)/(1 + 0.75 + 10⁻⁷), the nearest code of ŵ_j
        float[][] w = SyntheticLayer.gaussian(ROWS, COLS, 1, 33);
        double[] s = new double[COLS * COLS];
        for (int j = 0; j < COLS; j++) {
            s[j * COLS + j] = 1e6;
        }
        QuantizedMatrix rtn = Rtn.quantize(w, GptqGrid.asymmetric(4), 16);
        QuantizedMatrix start = Rtn.quantize(SyntheticLayer.gaussian(ROWS, COLS, 1, 34), GptqGrid.asymmetric(4), 16);
        QuantizedMatrix withRtnGrids = new QuantizedMatrix(ROWS, COLS, 4, 16, start.codes(), rtn.scales(), rtn.zeros(),
                null);
        assertArrayEquals(rtn.codes(), CoordinateDescent.refine(withRtnGrids, w, s, 1).codes());
    }
}
