package org.qtale.train.pretrain;

import org.qtale.QtaleException;

/**
 * How a pretraining run goes.
 *
 * @param steps          optimizer updates
 * @param batch          sequences per micro-batch
 * @param seqLen         tokens per sequence
 * @param learningRate   peak learning rate
 * @param warmupSteps    linear warm-up steps before the cosine decay
 * @param minLrRatio     the final learning rate as a fraction of the peak
 * @param weightDecay    AdamW's decoupled decay on matrices
 * @param gradClip       maximum global gradient norm (0: no clipping)
 * @param accumulation   micro-batches whose gradients are summed per update
 * @param seed           seeds initialization and batch sampling
 * @param evalEvery      steps between held-out evaluations (0: only at the end)
 * @param evalWindows    held-out windows of {@code seqLen} tokens per evaluation
 * @param checkpointEvery steps between checkpoints (0: none)
 */
public record PretrainSettings(int steps, int batch, int seqLen, float learningRate, int warmupSteps, float minLrRatio,
        float weightDecay, float gradClip, int accumulation, long seed, int evalEvery, int evalWindows,
        int checkpointEvery) {

    public PretrainSettings {
        require(steps >= 1, "The number of steps must be at least 1, got " + steps + ".");
        require(batch >= 1, "The batch size must be at least 1, got " + batch + ".");
        require(seqLen >= 2, "The sequence length must be at least 2, got " + seqLen + ".");
        require(learningRate > 0 && learningRate < 1, "The learning rate must be in (0, 1), got " + learningRate + ".");
        require(warmupSteps >= 0 && warmupSteps <= steps, "The warm-up must be between 0 and the step count, got "
                + warmupSteps + ".");
        require(minLrRatio >= 0 && minLrRatio <= 1, "The minimum learning-rate ratio must be in [0, 1], got " + minLrRatio + ".");
        require(weightDecay >= 0, "The weight decay must not be negative, got " + weightDecay + ".");
        require(gradClip >= 0, "The gradient clip must not be negative, got " + gradClip + ".");
        require(accumulation >= 1, "Gradient accumulation must be at least 1, got " + accumulation + ".");
        require(evalEvery >= 0 && evalWindows >= 0 && checkpointEvery >= 0, "Evaluation and checkpoint intervals must not be negative.");
    }

    /** Defaults for a short run: AdamW (0.9, 0.95), decay 0.1, clip 1, 10% warm-up, decay to a tenth. */
    public static PretrainSettings defaults(int steps, int batch, int seqLen, float learningRate, long seed) {
        return new PretrainSettings(steps, batch, seqLen, learningRate, Math.max(1, steps / 10), 0.1f, 0.1f, 1f, 1, seed,
                Math.max(1, steps / 10), 16, 0);
    }

    public PretrainSettings withCheckpointEvery(int every) {
        return new PretrainSettings(steps, batch, seqLen, learningRate, warmupSteps, minLrRatio, weightDecay, gradClip,
                accumulation, seed, evalEvery, evalWindows, every);
    }

    public PretrainSettings withAccumulation(int micro) {
        return new PretrainSettings(steps, batch, seqLen, learningRate, warmupSteps, minLrRatio, weightDecay, gradClip,
                micro, seed, evalEvery, evalWindows, checkpointEvery);
    }

    public PretrainSettings withEvaluation(int every, int windows) {
        return new PretrainSettings(steps, batch, seqLen, learningRate, warmupSteps, minLrRatio, weightDecay, gradClip,
                accumulation, seed, every, windows, checkpointEvery);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new QtaleException(message);
        }
    }
}
