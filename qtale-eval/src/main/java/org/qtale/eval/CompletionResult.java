package org.qtale.eval;

/**
 * A completion task's scores: {@code accuracy}, the share of continuations greedy decoding reproduces, and
 * {@code perplexity}, {@code exp(−mean log-likelihood per example)} (lm-evaluation-harness's LAMBADA metrics), with
 * the execution of every token read.
 */
public record CompletionResult(String task, String source, int examples, int skipped, double accuracy,
        double perplexity, double executionRatio, double routedExecutionRatio, double flopsRatio, long tokens,
        double seconds) implements EvalResult {
    public double accuracyStandardError() {
        return ChoiceRules.standardError(accuracy, examples);
    }

    public double tokensPerSecond() {
        return seconds > 0 ? tokens / seconds : Double.NaN;
    }
}
