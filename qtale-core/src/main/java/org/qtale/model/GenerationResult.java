package org.qtale.model;

/**
 * What a generation produced.
 *
 * @param promptTokens the ids fed to the model
 * @param tokens       the generated ids (a stop token is not included)
 * @param text         the generated text
 * @param prefillNanos time to process the prompt, including the first token's logits
 * @param decodeNanos  time to generate the rest
 * @param stopReason   why generation ended
 */
public record GenerationResult(int[] promptTokens, int[] tokens, String text, long prefillNanos, long decodeNanos,
        StopReason stopReason) {

    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL }

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens.length * 1e9 / prefillNanos;
    }

    /** Decode rate: each generated token after the first costs one forward step. */
    public double decodeTokensPerSecond() {
        int steps = Math.max(0, tokens.length - 1);
        return decodeNanos == 0 ? 0 : steps * 1e9 / decodeNanos;
    }
}
