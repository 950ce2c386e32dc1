package org.qtale.quant;

import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.CrossEntropyOp;
import org.qtale.train.pretrain.TokenDataset;

/**
 * Perplexity of a model (any weight format) on a held-out token stream: consecutive non-overlapping windows of
 * {@code length} tokens, each run from an empty cache through the engine's batched prefill; each position predicts
 * the next token of the stream from the tokens before it in its window (the held-out loss pretraining reports).
 */
public final class Perplexity {
    /** Mean cross-entropy per predicted token (nats) and its exponential. */
    public record Result(double loss, long predicted, int windows, int length) {
        public double perplexity() {
            return Math.exp(loss);
        }
    }

    private Perplexity() {
    }

    /** Over at most {@code maxWindows} windows (all that fit when it is 0 or less). */
    public static Result heldOut(LlamaModel model, TokenDataset stream, int length, int maxWindows, Parallel parallel) {
        int windows = stream.heldOutWindows(length, maxWindows <= 0 ? Integer.MAX_VALUE : maxWindows);
        int vocab = model.config().vocabSize();
        int[] tokens = new int[length];
        int[] targets = new int[length];
        float[] logits = new float[length * vocab];
        double total = 0;
        long predicted = 0;
        for (int w = 0; w < windows; w++) {
            stream.heldOutBatch(w, 1, length, tokens, targets);
            InferenceState state = model.newState(parallel, length, Math.min(length, 64));
            state.setPolicy(ExecutionPolicy.dense());
            model.forwardAll(state, tokens, 0, length, logits);
            for (int i = 0; i < length; i++) {
                total += CrossEntropyOp.exactLoss(logits, i * vocab, vocab, targets[i]);
                predicted++;
            }
        }
        return new Result(predicted == 0 ? Double.NaN : total / predicted, predicted, windows, length);
    }
}
