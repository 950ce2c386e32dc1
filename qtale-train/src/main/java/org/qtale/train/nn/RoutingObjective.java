package org.qtale.train.nn;

/**
 * The routing terms added to the cross-entropy, as in D-LLM's code plus QTALE's regularizer:
 * {@code rateWeight · mean_n |r_n − targetRatio| + entropyWeight · (−mean_{n,l} H(p_{n,l}))}, where {@code r_n} is
 * the fraction of all layers (the always-on ones count as executed) that token n executes under the hard Gumbel
 * decisions, and {@code H} is the binary entropy of a router's clean probabilities. Both means run over the tokens
 * that are neither padding nor one of the reserved first positions; the entropy mean also over the routed layers.
 */
public record RoutingObjective(double targetRatio, double rateWeight, double entropyWeight) {
    public RoutingObjective {
        if (!(targetRatio >= 0 && targetRatio <= 1)) {
            throw new IllegalArgumentException("The target execution ratio must be in [0, 1], got " + targetRatio);
        }
        if (!(rateWeight >= 0) || !(entropyWeight >= 0)) {
            throw new IllegalArgumentException("Loss weights must be non-negative");
        }
    }
}
