package org.qtale.quant.algo;

import org.qtale.QtaleException;

/**
 * The AWQ grid rule ({@code pseudo_quantize_tensor} of mit-han-lab/llm-awq, identical in AutoAWQ):
 *
 * <pre>
 * zero point (asymmetric, the default):  maxInt = 2^bits − 1
 *     scale = max(max − min, 1e-5) / maxInt
 *     zero  = clamp(−rint(min / scale), 0, maxInt)          (the range is NOT forced through 0)
 * no zero point (symmetric):  maxInt = 2^(bits−1) − 1
 *     scale = max(max(|min|, |max|), 1e-5) / maxInt;  q = clamp(rint(x / scale), −2^(bits−1), maxInt)
 * </pre>
 *
 * The symmetric signed code {@code q} is stored shifted, {@code code = q + 2^(bits−1)} with {@code zero =
 * 2^(bits−1)}, which is the same grid as {@link QuantGrid}. Quirk kept: when every value of a group is positive the
 * zero clamps to 0 and the grid covers {@code [0, max − min]}, so the top of the group is clipped.
 *
 * <p>Deviation: the reference usually runs on fp16 weights, so its scales are rounded to fp16 before use; here they
 * are computed and used in float (checkpoint writers round them to fp16 when packing).
 */
public record AwqGrid(int bits, boolean zeroPoint) implements GridRule {
    private static final float MIN_RANGE = 1e-5f;

    public AwqGrid {
        if (bits < 2 || bits > 8) {
            throw new QtaleException("Quantization needs 2 to 8 bits, got " + bits + ".");
        }
    }

    @Override
    public QuantGrid fit(float min, float max) {
        if (zeroPoint) {
            int maxInt = maxCode();
            float scale = Math.max(max - min, MIN_RANGE) / maxInt;
            int zero = (int) Math.max(0, Math.min(maxInt, -Math.rint(min / scale)));
            return new QuantGrid(scale, zero, maxInt);
        }
        int half = 1 << (bits - 1);
        float scale = Math.max(Math.max(Math.abs(min), Math.abs(max)), MIN_RANGE) / (half - 1);
        return new QuantGrid(scale, half, maxCode());
    }
}
