package org.qtale.tensor;

/**
 * Weights stored as low-bit integer codes with a scale and a zero point per group of columns: {@code W[r][c] =
 * scale · (code − zero)}. The formats live in {@code org.qtale.quant}. This interface is the one non-sealed branch of
 * {@link LinearWeights}, because Java lets a sealed type of the unnamed module permit classes of its own package only.
 */
public non-sealed interface QuantizedLinearWeights extends LinearWeights {
    /** Bits per code (2, 3, 4 or 8). */
    int bits();

    /** Columns per group; {@link #cols()} when there is one group per row (per-channel). */
    int groupSize();

    @Override
    default String storageName() {
        return dtype().name() + (groupSize() == cols() ? "_PER_CHANNEL" : "_G" + groupSize());
    }
}
