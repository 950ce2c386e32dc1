package org.qtale.eval;

/**
 * lm-evaluation-harness's multiple-choice rules. {@code acc} picks the choice with the largest summed
 * log-likelihood of its continuation; {@code acc_norm} divides each by the answer's length in characters first
 * (without the space that joins it to the context). Ties go to the first choice (numpy's argmax). An empty continuation has log-likelihood 0, certainty, so it
 * wins {@code acc}; its normalized score 0/0 is NaN, which numpy's argmax also picks first, so it wins {@code
 * acc_norm} too.
 */
public final class ChoiceRules {
    private ChoiceRules() {
    }

    /** The index {@code acc} picks. */
    public static int pick(double[] logLikelihoods) {
        return argmax(logLikelihoods);
    }

    /** The index {@code acc_norm} picks, given each answer's length in characters. */
    public static int pickNormalized(double[] logLikelihoods, int[] characters) {
        double[] normalized = new double[logLikelihoods.length];
        for (int i = 0; i < normalized.length; i++) {
            normalized[i] = logLikelihoods[i] / characters[i];
        }
        return argmax(normalized);
    }

    /** The first index of the largest value, where NaN counts as the largest (numpy's argmax). */
    static int argmax(double[] values) {
        int best = 0;
        for (int i = 0; i < values.length; i++) {
            if (Double.isNaN(values[i])) {
                return i;
            }
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The standard error of an accuracy {@code p} over {@code n} examples: √(p(1−p)/(n−1)), as the harness reports. */
    public static double standardError(double p, int n) {
        return n < 2 ? Double.NaN : Math.sqrt(p * (1 - p) / (n - 1));
    }
}
