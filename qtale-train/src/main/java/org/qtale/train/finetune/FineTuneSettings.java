package org.qtale.train.finetune;

/**
 * How routers are fine-tuned (D-LLM's recipe unless noted).
 *
 * @param targetRatio   the execution ratio the rate loss aims at: the mean over tokens of the fraction of all layers
 *                      run (the always-on first layers count as run), D-LLM's {@code dynamic_active_target}
 * @param rateWeight    α, the rate loss's weight at the end of the sine ramp {@code α(e) = α·sin(π/2 · e/E)}
 * @param entropyWeight λ2, QTALE's entropy regularizer (0 is D-LLM)
 * @param loraRank      rank of the adapters on q, k and v (0 for none: routers only)
 * @param loraDropout   dropout on the adapters' output (D-LLM 0.05)
 * @param epochs        passes over the training examples
 * @param learningRate  AdamW peak rate, for adapters and routers alike
 * @param warmupEpochs  linear warm-up, in epochs (may be fractional), then half a cosine to 0
 * @param batch         examples per step, padded to the longest
 * @param maxTokens     longest sequence (examples are cut to it)
 * @param weightDecay   AdamW's decoupled decay on matrices (D-LLM 0.02)
 * @param seed          shuffling, Gumbel noise, dropout and new routers
 */
public record FineTuneSettings(double targetRatio, double rateWeight, double entropyWeight, int loraRank,
        float loraDropout, int epochs, float learningRate, double warmupEpochs, int batch, int maxTokens,
        float weightDecay, long seed) {
    public static final int DEFAULT_LORA_RANK = 8;
    public static final float DEFAULT_LORA_DROPOUT = 0.05f;
    public static final float DEFAULT_WEIGHT_DECAY = 0.02f;

    public FineTuneSettings {
        require(targetRatio > 0 && targetRatio <= 1, "--target-ratio must be in (0, 1], got " + targetRatio);
        require(rateWeight >= 0 && Double.isFinite(rateWeight), "--rate-weight must be a non-negative number");
        require(entropyWeight >= 0 && Double.isFinite(entropyWeight), "--entropy-weight must be a non-negative number");
        require(loraRank >= 0, "--lora-rank must be at least 0");
        require(loraDropout >= 0 && loraDropout < 1, "LoRA dropout must be in [0, 1)");
        require(epochs >= 1, "--epochs must be at least 1");
        require(learningRate > 0 && Float.isFinite(learningRate), "--lr must be a positive number");
        require(warmupEpochs >= 0 && warmupEpochs <= epochs, "the warm-up must be between 0 and the number of epochs");
        require(batch >= 1, "--batch must be at least 1");
        require(maxTokens >= 8, "--max-tokens must be at least 8");
        require(weightDecay >= 0, "weight decay must be non-negative");
    }

    /** The same settings with examples cut to {@code tokens} (the model's context, when it is shorter). */
    public FineTuneSettings withMaxTokens(int tokens) {
        return new FineTuneSettings(targetRatio, rateWeight, entropyWeight, loraRank, loraDropout, epochs, learningRate,
                warmupEpochs, batch, tokens, weightDecay, seed);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new org.qtale.QtaleException(Character.toUpperCase(message.charAt(0)) + message.substring(1) + ".");
        }
    }
}
