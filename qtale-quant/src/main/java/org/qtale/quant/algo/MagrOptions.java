package org.qtale.quant.algo;

import org.qtale.QtaleException;

/**
 * MagR settings.
 *
 * @param alpha      weight α of the ℓ∞ penalty (relative to the normalized Gram matrix, whose largest eigenvalue is 1)
 * @param iterations proximal-gradient iterations
 * @param groupSize  columns per ℓ∞ group, or {@link Weights#PER_CHANNEL} for one per row
 */
public record MagrOptions(double alpha, int iterations, int groupSize) {
    public MagrOptions {
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new QtaleException("MagR's alpha must be a positive number, got " + alpha + ".");
        }
        if (iterations < 0) {
            throw new QtaleException("MagR's iteration count must not be negative, got " + iterations + ".");
        }
        if (groupSize != Weights.PER_CHANNEL && groupSize < 1) {
            throw new QtaleException("The group size must be positive or -1 (per channel), got " + groupSize + ".");
        }
    }

    /**
     * The released code's defaults: per channel α = 1e-3 ({@code W_proximal_preprocess}), per group α = 1e-4
     * ({@code W_proximal_preprocess_groupwise}), 200 iterations.
     */
    public static MagrOptions reference(int groupSize) {
        return new MagrOptions(groupSize == Weights.PER_CHANNEL ? 1e-3 : 1e-4, 200, groupSize);
    }
}
