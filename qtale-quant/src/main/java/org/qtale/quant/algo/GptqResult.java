package org.qtale.quant.algo;

import org.qtale.quant.QuantizedMatrix;

/**
 * A quantized matrix and the loss GPTQ reports for it, {@code Σ_rows Σ_i (w_i − q_i)² / U_ii² / 2} over the
 * error-compensated weights {@code w_i} at the time column {@code i} was quantized ({@code U} the upper Cholesky
 * factor of the damped inverse Hessian). Each term is the exact increase of the quadratic objective when one more
 * column is fixed (OBS), so the sum equals {@code ½ Σ_rows (w − q)ᵀ H_λ (w − q)} with {@code H_λ} the damped Hessian
 * (dead columns set to 1); with {@code H = (2/n) Σ_s X_sᵀ X_s} that is {@code ‖X (W − Q)ᵀ‖² / n} plus the damping
 * term.
 */
public record GptqResult(QuantizedMatrix matrix, double loss) {
}
