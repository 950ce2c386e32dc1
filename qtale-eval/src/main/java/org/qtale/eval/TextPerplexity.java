package org.qtale.eval;

import java.util.function.IntConsumer;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.CrossEntropyOp;

/**
 * Perplexity of a token stream by a sliding window: windows of {@code context} tokens start every {@code stride}
 * tokens, and each scores only the tokens the previous window did not, so every token is predicted at most once: in
 * the first window from the tokens before it, later from between {@code context − stride} and {@code context − 1}
 * tokens before it (with disjoint windows the first token of each window has nothing before it and is not scored) (Hugging Face's strided
 * perplexity; stride = context gives disjoint windows). Each window runs from an empty cache through the engine's
 * batched prefill with the model's execution policy.
 */
public final class TextPerplexity {
    /**
     * Summed negative log-likelihood over the predicted tokens, the window settings, and the execution of every token
     * read (as in {@link TaskResult}).
     */
    public record Result(double negativeLogLikelihood, long predicted, int windows, int context, int stride,
            long tokensRead, double executionRatio, double routedExecutionRatio, double flopsRatio, double seconds) {
        public double perplexity() {
            return Math.exp(negativeLogLikelihood / predicted);
        }

        public double tokensPerSecond() {
            return seconds > 0 ? tokensRead / seconds : Double.NaN;
        }
    }

    private TextPerplexity() {
    }

    /**
     * @param policy how routed layers decide (null: the model's stored threshold); ignored by a model without routers
     */
    public static Result of(LlamaModel model, int[] tokens, int context, int stride, Parallel parallel,
            ExecutionPolicy policy) {
        return of(model, tokens, context, stride, parallel, policy, done -> { });
    }

    /** The number of windows {@link #of} runs over {@code n} tokens. */
    public static int windows(int n, int context, int stride) {
        int count = 0;
        for (int begin = 0, scoredUpTo = 1; scoredUpTo < n && Math.min(begin + context, n) - begin >= 2; begin += stride) {
            scoredUpTo = Math.min(begin + context, n);
            count++;
        }
        return count;
    }

    /** Like {@link #of(LlamaModel, int[], int, int, Parallel, ExecutionPolicy)}, calling {@code progress} with the
     * windows done after each one. */
    public static Result of(LlamaModel model, int[] tokens, int context, int stride, Parallel parallel,
            ExecutionPolicy policy, IntConsumer progress) {
        if (context < 2 || stride < 1 || stride > context) {
            throw new IllegalArgumentException("need context ≥ 2 and 1 ≤ stride ≤ context, got " + context + " and " + stride);
        }
        long start = System.nanoTime();
        int vocab = model.config().vocabSize();
        double nll = 0;
        long predicted = 0;
        ExecutionTotals totals = new ExecutionTotals();
        int windows = 0;
        int scoredUpTo = 1; // token 0 has nothing before it
        for (int begin = 0; scoredUpTo < tokens.length; begin += stride) {
            int end = Math.min(begin + context, tokens.length);
            if (end - begin < 2) {
                break;
            }
            // input row r predicts tokens[begin + r + 1]; the rows before firstRow predict tokens scored already (with
            // disjoint windows, a window's first token has nothing before it and goes unscored)
            int firstRow = Math.max(0, scoredUpTo - begin - 1);
            int length = end - begin - 1;
            InferenceState state = model.newState(parallel, length, Math.min(64, length));
            if (state.trace() != null && policy != null) {
                state.setPolicy(policy);
            }
            int rows = length - firstRow;
            model.forward(state, tokens, begin, firstRow, false);
            // the rows' logits a batch at a time: a long window over a large vocabulary would not fit at once
            int batch = Math.min(64, rows);
            float[] logits = new float[batch * vocab];
            for (int done = 0; done < rows; done += batch) {
                int count = Math.min(batch, rows - done);
                model.forwardAll(state, tokens, begin + firstRow + done, count, logits);
                for (int r = 0; r < count; r++) {
                    nll += CrossEntropyOp.exactLoss(logits, r * vocab, vocab, tokens[begin + firstRow + done + r + 1]);
                }
            }
            predicted += rows;
            totals.add(state.trace(), length);
            windows++;
            scoredUpTo = end;
            progress.accept(windows);
        }
        return new Result(nll, predicted, windows, context, stride, totals.tokens, totals.executionRatio(false),
                totals.executionRatio(true), totals.flopsRatio(), (System.nanoTime() - start) / 1e9);
    }
}
