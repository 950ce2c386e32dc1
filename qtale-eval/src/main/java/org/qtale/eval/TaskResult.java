package org.qtale.eval;

/**
 * A task's scores on one model and policy.
 *
 * @param examples              examples scored
 * @param skipped               rows of the file that did not parse
 * @param chance                mean accuracy of guessing
 * @param accuracy              share picked right by summed log-likelihood ({@code acc})
 * @param normalizedAccuracy    share picked right by log-likelihood per character ({@code acc_norm})
 * @param executionRatio        share of (token, layer) pairs that ran, over every token the model read
 * @param routedExecutionRatio  the same over the routed layers only
 * @param flopsRatio            operations spent over the dense model's (the layers' matrices and the routers)
 * @param tokens                tokens the model read
 * @param seconds               wall time
 */
public record TaskResult(String task, String source, int examples, int skipped, double chance, double accuracy,
        double normalizedAccuracy, double executionRatio, double routedExecutionRatio, double flopsRatio, long tokens,
        double seconds) {

    public double accuracyStandardError() {
        return ChoiceRules.standardError(accuracy, examples);
    }

    public double normalizedAccuracyStandardError() {
        return ChoiceRules.standardError(normalizedAccuracy, examples);
    }

    public double tokensPerSecond() {
        return seconds > 0 ? tokens / seconds : Double.NaN;
    }
}
