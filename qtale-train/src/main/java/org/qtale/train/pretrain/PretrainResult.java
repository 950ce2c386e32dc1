package org.qtale.train.pretrain;

import java.util.List;

/**
 * What a run did.
 *
 * @param trainLosses     mean training loss of every step, from the first
 * @param heldOut         held-out evaluations in order
 * @param seconds         wall time of the steps run in this process
 * @param tokensPerSecond training tokens per second over those steps
 */
public record PretrainResult(List<Double> trainLosses, List<Evaluation> heldOut, double seconds, double tokensPerSecond) {
    /** One held-out evaluation after {@code step} updates. */
    public record Evaluation(int step, double loss) {
        public double perplexity() {
            return Math.exp(loss);
        }
    }

    public double firstLoss() {
        return trainLosses.getFirst();
    }

    public double finalLoss() {
        return trainLosses.getLast();
    }

    public Evaluation finalHeldOut() {
        return heldOut.isEmpty() ? null : heldOut.getLast();
    }
}
