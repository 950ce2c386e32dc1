package org.qtale.eval;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntConsumer;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.nn.CrossEntropyOp;

/**
 * Scores multiple-choice tasks on the engine: each choice's context and continuation run through the model's batched
 * prefill (its weights as stored, quantized or not, and its execution policy, so skipped layers are skipped), and the
 * continuation's tokens are scored by their log-probabilities. Encoding follows lm-evaluation-harness: trailing
 * spaces move from the context to the continuation, the pair is encoded whole, and the continuation is what the whole
 * adds to the context's tokens; sequences longer than the context window lose tokens on the left (and a continuation
 * longer than the window is scored on the tokens that fit, where the harness refuses it). The beginning-of-sequence
 * token starts every sequence that is not cut (the models here are trained with it).
 */
public final class ChoiceEvaluator {
    private static final int PREFILL_BATCH = 64;

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Parallel parallel;
    private final ExecutionPolicy policy;

    /**
     * @param policy how routed layers decide (null: the model's stored threshold); ignored by a model without routers
     */
    public ChoiceEvaluator(LlamaModel model, Tokenizer tokenizer, Parallel parallel, ExecutionPolicy policy) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.parallel = parallel;
        this.policy = policy;
    }

    /** Scores every example of {@code task}, calling {@code progress} with the count done after each one. */
    public TaskResult evaluate(ChoiceTask task, IntConsumer progress) {
        long start = System.nanoTime();
        ExecutionTotals totals = new ExecutionTotals();
        int correct = 0;
        int correctNormalized = 0;
        BitSet right = new BitSet();
        List<ChoiceExample> examples = task.examples();
        for (int i = 0; i < examples.size(); i++) {
            ChoiceExample example = examples.get(i);
            double[] logLikelihoods = logLikelihoods(example, totals);
            int[] characters = new int[logLikelihoods.length];
            for (int c = 0; c < logLikelihoods.length; c++) {
                characters[c] = example.choices().get(c).answerLength();
            }
            if (ChoiceRules.pick(logLikelihoods) == example.gold()) {
                correct++;
                right.set(i);
            }
            correctNormalized += ChoiceRules.pickNormalized(logLikelihoods, characters) == example.gold() ? 1 : 0;
            progress.accept(i + 1);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int n = examples.size();
        return new TaskResult(task.name(), task.source(), n, task.skipped().size(), task.chance(),
                n == 0 ? Double.NaN : (double) correct / n, n == 0 ? Double.NaN : (double) correctNormalized / n,
                totals.executionRatio(false), totals.executionRatio(true), totals.flopsRatio(), totals.tokens, seconds, right);
    }

    /** The summed log-probability of the choice's continuation tokens after its context. */
    public double logLikelihood(Choice choice) {
        return score(choice, new ExecutionTotals()).logLikelihood();
    }

    /**
     * Every choice's log-likelihood. Choices that continue one context share it: the context runs once, and each
     * continuation runs from a state rewound to its end (the same tokens at the same positions as a run of its own).
     */
    double[] logLikelihoods(ChoiceExample example, ExecutionTotals totals) {
        List<Choice> choices = example.choices();
        double[] result = new double[choices.size()];
        String shared = choices.getFirst().context();
        if (!choices.stream().allMatch(c -> c.context().equals(shared))) {
            for (int c = 0; c < choices.size(); c++) {
                result[c] = score(choices.get(c), totals).logLikelihood();
            }
            return result;
        }
        String trimmed = shared.stripTrailing();
        int[] context = tokenizer.encode(trimmed, true);
        int[][] continuations = new int[choices.size()][];
        int longest = 0;
        for (int c = 0; c < choices.size(); c++) {
            continuations[c] = continuationTokens(context, trimmed,
                    shared.substring(trimmed.length()) + choices.get(c).continuation());
            longest = Math.max(longest, continuations[c].length);
        }
        if (longest == 0 || context.length - 1 + longest > model.config().contextLength()) {
            for (int c = 0; c < choices.size(); c++) {
                result[c] = score(choices.get(c), totals).logLikelihood();
            }
            return result;
        }
        int prefix = context.length - 1; // the context's last token goes with each continuation: it predicts the first
        InferenceState state = model.newState(parallel, prefix + longest, Math.min(PREFILL_BATCH, prefix + longest));
        if (state.trace() != null && policy != null) {
            state.setPolicy(policy);
        }
        model.forward(state, context, 0, prefix, false);
        int read = prefix;
        for (int c = 0; c < choices.size(); c++) {
            int[] continuation = continuations[c];
            if (continuation.length == 0) {
                continue;
            }
            state.rewind(prefix);
            int[] input = new int[continuation.length];
            input[0] = context[prefix];
            System.arraycopy(continuation, 0, input, 1, continuation.length - 1);
            result[c] = scoreRows(state, input, 0, continuation).logLikelihood();
            read += continuation.length;
        }
        totals.add(state.trace(), read);
        return result;
    }

    /**
     * Runs {@code input[from, input.length)} through {@code state} (which holds everything before it) and scores
     * {@code targets}, the tokens its rows predict, a batch of rows at a time.
     */
    private Scored scoreRows(InferenceState state, int[] input, int from, int[] targets) {
        int vocab = model.config().vocabSize();
        int rows = input.length - from;
        int batch = Math.min(PREFILL_BATCH, rows);
        float[] logits = new float[batch * vocab];
        double sum = 0;
        boolean greedy = true;
        for (int done = 0; done < rows; done += batch) {
            int count = Math.min(batch, rows - done);
            model.forwardAll(state, input, from + done, count, logits);
            for (int r = 0; r < count; r++) {
                int target = targets[targets.length - rows + done + r];
                sum -= CrossEntropyOp.exactLoss(logits, r * vocab, vocab, target);
                greedy &= VectorOps.argmax(logits, r * vocab, vocab) == target;
            }
        }
        return new Scored(sum, greedy);
    }

    /**
     * A continuation's summed log-probability, and whether greedy decoding would have produced it (every token the
     * most likely one after the tokens before it; ties go to the lower id).
     */
    record Scored(double logLikelihood, boolean greedy) {
    }

    Scored score(Choice choice, ExecutionTotals totals) {
        int[][] pair = encodePair(choice.context(), choice.continuation());
        int[] context = pair[0];
        int[] continuation = pair[1];
        if (continuation.length == 0) {
            return new Scored(0, true);
        }
        int[] whole = new int[context.length + continuation.length];
        System.arraycopy(context, 0, whole, 0, context.length);
        System.arraycopy(continuation, 0, whole, context.length, continuation.length);
        int window = model.config().contextLength();
        // the model reads every token but the last, at most a window of them, cut on the left; input row r predicts
        // whole[inputStart + r + 1], and the rows before firstRow predict context tokens only
        int inputStart = Math.max(0, whole.length - 1 - window);
        int[] input = Arrays.copyOfRange(whole, inputStart, whole.length - 1);
        int firstRow = Math.max(0, whole.length - continuation.length - 1 - inputStart);
        InferenceState state = model.newState(parallel, input.length, Math.min(PREFILL_BATCH, input.length));
        if (state.trace() != null && policy != null) {
            state.setPolicy(policy);
        }
        model.forward(state, input, 0, firstRow, false);
        Scored scored = scoreRows(state, input, firstRow, continuation);
        totals.add(state.trace(), input.length);
        return scored;
    }

    /**
     * Scores a completion task: the share of continuations greedy decoding reproduces ({@code acc}, as
     * lm-evaluation-harness scores LAMBADA) and the perplexity {@code exp(−mean over examples of the log-likelihood)}.
     */
    public CompletionResult evaluate(CompletionTask task, IntConsumer progress) {
        long start = System.nanoTime();
        ExecutionTotals totals = new ExecutionTotals();
        int greedy = 0;
        double logLikelihood = 0;
        List<Choice> examples = task.examples();
        for (int i = 0; i < examples.size(); i++) {
            Scored s = score(examples.get(i), totals);
            greedy += s.greedy() ? 1 : 0;
            logLikelihood += s.logLikelihood();
            progress.accept(i + 1);
        }
        int n = examples.size();
        return new CompletionResult(task.name(), task.source(), n, task.skipped().size(),
                n == 0 ? Double.NaN : (double) greedy / n, n == 0 ? Double.NaN : Math.exp(-logLikelihood / n),
                totals.executionRatio(false), totals.executionRatio(true), totals.flopsRatio(), totals.tokens,
                (System.nanoTime() - start) / 1e9);
    }

    /** The context's tokens (with the sequence start) and the tokens the continuation adds to them. */
    int[][] encodePair(String context, String continuation) {
        String trimmed = context.stripTrailing();
        int[] contextTokens = tokenizer.encode(trimmed, true);
        return new int[][] {contextTokens, continuationTokens(contextTokens, trimmed,
                context.substring(trimmed.length()) + continuation)};
    }

    /**
     * What encoding {@code trimmedContext + continuation} adds to {@code contextTokens} (the encoding of the context,
     * whose trailing spaces moved to the continuation), as the harness takes a continuation's tokens.
     */
    private int[] continuationTokens(int[] contextTokens, String trimmedContext, String continuation) {
        int[] whole = tokenizer.encode(trimmedContext + continuation, true);
        return Arrays.copyOfRange(whole, Math.min(contextTokens.length, whole.length), whole.length);
    }
}
