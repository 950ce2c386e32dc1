package org.qtale.eval;

import java.util.BitSet;

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
 * @param correct               which examples {@code acc} got right
 */
public record TaskResult(String task, String source, int examples, int skipped, double chance, double accuracy,
        double normalizedAccuracy, double executionRatio, double routedExecutionRatio, double flopsRatio, long tokens,
        double seconds, BitSet correct) implements EvalResult {
    public TaskResult {
        correct = (BitSet) correct.clone();
    }

    /**
     * This accuracy minus {@code other}'s on the same examples, with the standard error of that paired difference
     * (the spread of the per-example differences over √n).
     */
    public double[] accuracyGap(TaskResult other) {
        if (other.examples != examples) {
            throw new IllegalArgumentException("a paired gap needs the same examples: " + examples + " and " + other.examples);
        }
        double mean = accuracy - other.accuracy;
        double squares = 0;
        for (int i = 0; i < examples; i++) {
            double d = (correct.get(i) ? 1 : 0) - (other.correct.get(i) ? 1 : 0) - mean;
            squares += d * d;
        }
        return new double[] {mean, examples < 2 ? Double.NaN : Math.sqrt(squares / ((double) examples * (examples - 1)))};
    }

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
