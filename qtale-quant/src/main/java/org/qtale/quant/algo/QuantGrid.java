package org.qtale.quant.algo;

/**
 * The uniform grid of one group: {@code code = clamp(rint(x / scale) + zero, 0, maxCode)} and
 * {@code value = scale · (code − zero)}, the {@code quantize} function shared by GPTQ, MagR and AWQ (AWQ's symmetric
 * signed codes are the same grid shifted by {@code zero = 2^(bits−1)}).
 *
 * <p>{@code x / scale} is a float division, as the fp32 reference; {@link Math#rint} rounds half to even, as
 * {@code torch.round}.
 */
public record QuantGrid(float scale, int zero, int maxCode) {
    public int code(float x) {
        double code = Math.rint(x / scale) + zero;
        return (int) Math.max(0, Math.min(maxCode, code));
    }

    public float value(int code) {
        return scale * (code - zero);
    }

    /** {@code value(code(x))}. */
    public float roundTrip(float x) {
        return value(code(x));
    }
}
