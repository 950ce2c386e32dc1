package org.qtale.train.pretrain;

import java.util.List;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.corpus.MultipleChoice;
import org.qtale.train.nn.CrossEntropyOp;
import org.qtale.train.nn.Routing;
import org.qtale.train.nn.RoutingStats;
import org.qtale.train.nn.TrainingModel;

/**
 * Zero-shot multiple choice by log-likelihood, as lm-evaluation-harness scores it: each choice is the continuation
 * of the prompt, and the choice whose tokens get the highest summed log-probability wins. All choices of a question
 * run as one batch, padded at the end (causal attention leaves earlier positions untouched).
 */
public final class ChoiceScorer {
    /** Accuracy over a question set, with its standard error and the chance level. */
    public record Accuracy(int correct, int total, double chance) {
        public double value() {
            return total == 0 ? 0 : (double) correct / total;
        }

        public double standardError() {
            double p = value();
            return total <= 1 ? 0 : Math.sqrt(p * (1 - p) / (total - 1));
        }
    }

    private final TrainingModel model;
    private final Tokenizer tokenizer;
    private final int contextLength;
    private RoutingStats routing;

    public ChoiceScorer(TrainingModel model, Tokenizer tokenizer, int contextLength) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
    }

    public Accuracy accuracy(List<MultipleChoice> questions) {
        return accuracy(questions, null);
    }

    /**
     * {@link #accuracy(List)}, adding the routing statistics of every scored sequence (prompt and choice, padding
     * excluded) to {@code routing} when it is not null and the model routes.
     */
    public Accuracy accuracy(List<MultipleChoice> questions, RoutingStats routing) {
        RoutingStats previous = this.routing;
        this.routing = routing;
        try {
            return score(questions);
        } finally {
            this.routing = previous;
        }
    }

    private Accuracy score(List<MultipleChoice> questions) {
        int correct = 0;
        double chance = 0;
        for (MultipleChoice q : questions) {
            if (best(q) == q.answer()) {
                correct++;
            }
            chance += q.chance();
        }
        return new Accuracy(correct, questions.size(), questions.isEmpty() ? 0 : chance / questions.size());
    }

    /** The index of the choice with the highest log-likelihood. */
    public int best(MultipleChoice q) {
        double[] scores = logLikelihoods(q);
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Summed log-probability of each choice's tokens after the prompt (the prompt is cut from the left to fit). */
    public double[] logLikelihoods(MultipleChoice q) {
        int[] prompt = tokenizer.encode(q.prompt(), true);
        int choices = q.choices().size();
        int[][] continuations = new int[choices][];
        int longest = 0;
        for (int c = 0; c < choices; c++) {
            continuations[c] = tokenizer.encode(q.choices().get(c), false);
            longest = Math.max(longest, continuations[c].length);
        }
        if (longest >= contextLength) {
            throw new IllegalArgumentException("A choice of " + longest + " tokens does not fit a context of " + contextLength);
        }
        int keep = Math.min(prompt.length, contextLength - longest);
        int promptStart = prompt.length - keep;
        int seqLen = keep + longest;
        int[] tokens = new int[choices * seqLen];
        for (int c = 0; c < choices; c++) {
            System.arraycopy(prompt, promptStart, tokens, c * seqLen, keep);
            System.arraycopy(continuations[c], 0, tokens, c * seqLen + keep, continuations[c].length);
        }
        float[] logits = model.forward(tokens, choices, seqLen);
        if (routing != null && model.routers() != null && !(model.routing() instanceof Routing.Dense)) {
            int[] lengths = new int[choices];
            for (int c = 0; c < choices; c++) {
                lengths[c] = keep + continuations[c].length;
            }
            routing.addAll(model.routingStats(lengths));
        }
        int vocab = model.parameters().config().vocabSize();
        double[] scores = new double[choices];
        for (int c = 0; c < choices; c++) {
            for (int i = 0; i < continuations[c].length; i++) {
                // the token at position keep + i is predicted by the logits at the position before it
                int row = c * seqLen + keep + i - 1;
                scores[c] -= CrossEntropyOp.exactLoss(logits, row * vocab, vocab, continuations[c][i]);
            }
        }
        return scores;
    }
}
