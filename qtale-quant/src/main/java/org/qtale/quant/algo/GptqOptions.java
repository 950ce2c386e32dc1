package org.qtale.quant.algo;

import org.qtale.QtaleException;

/**
 * GPTQ settings, named as in the reference {@code fasterquant(blocksize, percdamp, groupsize, actorder,
 * static_groups)}.
 *
 * @param groupSize    columns per group, or {@link Weights#PER_CHANNEL}
 * @param actOrder     quantize columns by descending Hessian diagonal ({@code desc_act})
 * @param staticGroups fit every group's grid up front on the unpermuted, unupdated weights (ignored per-channel)
 * @param dampPercent  damping {@code λ = dampPercent · mean(diag H)} added to the diagonal
 * @param blockSize    columns per lazy-update block
 */
public record GptqOptions(int groupSize, boolean actOrder, boolean staticGroups, double dampPercent, int blockSize) {
    public GptqOptions {
        if (groupSize != Weights.PER_CHANNEL && groupSize < 1) {
            throw new QtaleException("The group size must be positive or -1 (per channel), got " + groupSize + ".");
        }
        if (!(dampPercent >= 0) || Double.isInfinite(dampPercent)) {
            throw new QtaleException("The damping must be a non-negative number, got " + dampPercent + ".");
        }
        if (blockSize < 1) {
            throw new QtaleException("The block size must be positive, got " + blockSize + ".");
        }
    }

    /** The reference defaults: 1% damping, blocks of 128, no act-order. */
    public static GptqOptions of(int groupSize) {
        return new GptqOptions(groupSize, false, false, 0.01, 128);
    }

    public static GptqOptions perChannel() {
        return of(Weights.PER_CHANNEL);
    }

    public GptqOptions withActOrder(boolean value) {
        return new GptqOptions(groupSize, value, staticGroups, dampPercent, blockSize);
    }

    public GptqOptions withStaticGroups(boolean value) {
        return new GptqOptions(groupSize, actOrder, value, dampPercent, blockSize);
    }

    public GptqOptions withDampPercent(double value) {
        return new GptqOptions(groupSize, actOrder, staticGroups, value, blockSize);
    }

    public GptqOptions withBlockSize(int value) {
        return new GptqOptions(groupSize, actOrder, staticGroups, dampPercent, value);
    }
}
