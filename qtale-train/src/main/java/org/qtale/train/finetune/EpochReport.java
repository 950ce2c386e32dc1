package org.qtale.train.finetune;

import org.qtale.train.nn.RoutingStats;

/**
 * One epoch of router fine-tuning: the mean training losses and routing statistics under Gumbel noise, and the
 * held-out loss and execution ratio with the engine's rule at θ = 0.5 (no noise).
 *
 * @param crossEntropy     mean cross-entropy per answer token
 * @param rateLoss         mean |r_n − target|
 * @param entropyLoss      mean negative router entropy (−H, in nats; −ln 2 is the most uncertain)
 * @param rateWeight       α at the end of the epoch (sine ramp)
 * @param train            routing statistics over the epoch's training tokens
 * @param heldOutLoss      mean cross-entropy per answer token on held-out examples at θ = 0.5
 * @param heldOut          routing statistics on the held-out examples at θ = 0.5
 */
public record EpochReport(int epoch, double crossEntropy, double rateLoss, double entropyLoss, double rateWeight,
        RoutingStats train, double heldOutLoss, RoutingStats heldOut, double tokensPerSecond) {
}
