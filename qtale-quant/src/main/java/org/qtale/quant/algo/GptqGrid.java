package org.qtale.quant.algo;

import org.qtale.QtaleException;

/**
 * The GPTQ / MagR grid rule ({@code Quantizer.find_params} of IST-DASLab/gptq and AozhongZhang/MagR), min-max with
 * the range forced through 0, with {@code maxq = 2^bits − 1}:
 *
 * <pre>
 * xmin = min(min, 0);  xmax = max(max, 0)
 * symmetric: xmax = max(|xmin|, xmax);  if xmin &lt; 0: xmin = −xmax
 * if xmin = xmax = 0: xmin = −1, xmax = 1
 * scale = β·(xmax − xmin) / maxq                       (β = 1 except MagR's step shrink)
 * zero  = symmetric ? (maxq + 1) / 2 : rint(−xmin / scale)
 * </pre>
 *
 * Quirks kept from the reference: symmetric codes are unsigned with a fixed zero (4-bit: 8), so the grid is
 * {@code [−8s, 7s]} with {@code s = 2·absmax/15} and a positive absmax is clipped to {@code 7s = 0.933·absmax}; a
 * symmetric group with no negative value keeps {@code xmin = 0}, so {@code s = xmax/15} and every value above
 * {@code 7/15·xmax} is clipped (4-bit figures); with β &lt; 1 the grid stays anchored at {@code xmin} and only the top
 * of the range is clipped.
 *
 * <p>Deviations: the zero point is clamped to {@code [0, maxq]}. The reference leaves it unclamped; it only leaves
 * that range when β &lt; 1 and the group has no positive value ({@code rint(maxq/β) > maxq}), where the reference grid
 * cannot represent 0 and the canonical format cannot store the zero point. The reference's optional MSE range search
 * ({@code mse=True}, off in all LLaMA scripts) is not implemented.
 */
public record GptqGrid(int bits, boolean symmetric, float beta) implements GridRule {
    public GptqGrid {
        if (bits < 2 || bits > 8) {
            throw new QtaleException("Quantization needs 2 to 8 bits, got " + bits + ".");
        }
        if (!(beta > 0 && beta <= 1)) {
            throw new QtaleException("The scale factor beta must be in (0, 1], got " + beta + ".");
        }
    }

    public static GptqGrid asymmetric(int bits) {
        return new GptqGrid(bits, false, 1f);
    }

    public static GptqGrid symmetric(int bits) {
        return new GptqGrid(bits, true, 1f);
    }

    @Override
    public QuantGrid fit(float min, float max) {
        int maxq = maxCode();
        float xmin = Math.min(min, 0f);
        float xmax = Math.max(max, 0f);
        if (symmetric) {
            xmax = Math.max(Math.abs(xmin), xmax);
            if (xmin < 0) {
                xmin = -xmax;
            }
        }
        if (xmin == 0 && xmax == 0) {
            xmin = -1;
            xmax = 1;
        }
        float scale = beta * (xmax - xmin) / maxq;
        int zero = symmetric ? (maxq + 1) / 2 : (int) Math.min(maxq, Math.rint(-xmin / scale));
        return new QuantGrid(scale, zero, maxq);
    }
}
