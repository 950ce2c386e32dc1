package org.qtale.train.pretrain;

/** Hears about a run's progress. */
public interface PretrainListener {
    /** After each update: mean training loss of the step, learning rate, gradient norm before clipping. */
    default void onStep(int step, int steps, double loss, float learningRate, double gradNorm, double tokensPerSecond) {
    }

    /** After a held-out evaluation: mean loss per token (perplexity is its exponential). */
    default void onEvaluation(int step, double heldOutLoss) {
    }

    /** After a checkpoint is written. */
    default void onCheckpoint(int step) {
    }
}
