package org.qtale.adaptive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.Parallel;
import org.qtale.testing.SharedData;

/** Layer skipping in the engine: a skipped layer is the identity, and the KV cache records who executed what. */
class LayerSkippingTest {
    private static final int[] TOKENS = {1, 403, 261, 389, 265, 297, 376, 259, 290, 333, 268, 301};

    /**
     * With θ = 1 D-LLM's initial routers (p_exec ≈ 0.87) skip every routed layer for every token past the two
     * reserved ones, so those tokens must come out of the model exactly as from a model of its first two layers.
     */
    @Test
    void skippingEveryRoutedLayerEqualsTheTruncatedModelBitForBit() {
        try (LlamaModel dense = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(2)) {
            LlamaConfig c = dense.config();
            assertTrue(c.nLayers() > 2);
            LlamaModel routed = new LlamaModel(c, dense.weights(), null, RouterSet.initial(c, RouterConfig.defaults(c.dim())));
            LlamaConfig two = new LlamaConfig(c.architecture(), c.dim(), c.hiddenDim(), 2, c.nHeads(), c.nKvHeads(),
                    c.vocabSize(), c.contextLength(), c.headDim(), c.normEps(), c.ropeTheta(), c.ropeScaling(),
                    c.tiedEmbeddings());
            LlamaWeights w = dense.weights();
            LlamaModel truncated = new LlamaModel(two, new LlamaWeights(w.tokenEmbedding(), w.layers().subList(0, 2),
                    w.finalNorm(), w.output(), w.qkHalfSplit()), null);
            for (int batch : new int[] {1, 5}) {
                InferenceState a = routed.newState(parallel, 32, batch);
                a.setPolicy(ExecutionPolicy.threshold(1f));
                InferenceState b = truncated.newState(parallel, 32, batch);
                for (int p = 0; p < TOKENS.length; p += batch) {
                    int n = Math.min(batch, TOKENS.length - p);
                    float[] x = routed.forward(a, TOKENS, p, n, true).clone();
                    float[] y = truncated.forward(b, TOKENS, p, n, true);
                    if (p + n - 1 >= 2) {
                        assertArrayEquals(y, x, "logits after position " + (p + n - 1) + ", batch " + batch);
                    }
                }
                ExecutionTrace trace = a.trace();
                assertEquals(TOKENS.length, trace.tokens());
                assertEquals(c.nLayers(), trace.layersRun(0), "reserved positions run everything");
                assertEquals(2, trace.layersRun(5), "later ones only the unrouted layers");
                assertEquals(2.0 / TOKENS.length, trace.executionRatio(true), 1e-12, "routed layers: only the 2 reserved");
            }
        }
    }

    @Test
    void theCacheRemembersWhichPositionsExecutedEachLayer() {
        try (LlamaModel dense = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(1)) {
            LlamaConfig c = dense.config();
            LlamaModel routed = new LlamaModel(c, dense.weights(), null, RouterSet.initial(c, RouterConfig.defaults(c.dim())));
            InferenceState skip = routed.newState(parallel, 16, 4);
            skip.setPolicy(ExecutionPolicy.threshold(1f));
            routed.forward(skip, TOKENS, 0, 6, false);
            InferenceState run = routed.newState(parallel, 16, 4);
            run.setPolicy(ExecutionPolicy.argmax());
            float[] withRouters = routed.forward(run, TOKENS, 0, 6, true).clone();
            float[] withoutRouters = dense.forward(dense.newState(parallel, 16, 4), TOKENS, 0, 6, true);
            assertArrayEquals(withoutRouters, withRouters, "p_exec 0.87 >= 0.5: every layer runs, as dense");
            assertEquals(1.0, run.trace().executionRatio(false), 1e-12);
            assertEquals(2.0 * (c.nLayers() - 2) / (6.0 * (c.nLayers() - 2)), skip.trace().executionRatio(true), 1e-12);
            assertFalse(skip.trace().executed(4, c.nLayers() - 1));
            assertTrue(skip.trace().executed(1, c.nLayers() - 1));
            assertEquals(1.0 - (6.0 * 2 + 2.0 * (c.nLayers() - 2)) / (6.0 * c.nLayers()), skip.trace().kvSavedRatio(), 1e-12);
        }
    }

    /**
     * Routers that execute a layer iff the first component of the incoming residual stream is positive (width-1
     * routers: RMSNorm of one value is its sign). Tokens then skip and execute layers in a data-dependent mix.
     */
    private static RouterSet signRouters(LlamaConfig c) {
        Router[] routers = new Router[c.nLayers()];
        for (int l = 2; l < c.nLayers(); l++) {
            float[] w1 = new float[c.dim()];
            w1[0] = 1f;
            routers[l] = new Router(w1, new float[1], new float[] {1f}, new float[] {0f, 10f}, new float[] {0f, -3f},
                    c.dim(), c.normEps());
        }
        return new RouterSet(new RouterConfig(1, 2, 2, 0.5f), routers);
    }

    @Test
    void laterQueriesNeverReadTheKeysOfTokensThatSkippedTheLayer() {
        try (LlamaModel dense = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(1)) {
            LlamaConfig c = dense.config();
            LlamaModel routed = new LlamaModel(c, dense.weights(), null, signRouters(c));
            InferenceState s = routed.newState(parallel, 32, 1);
            int kvDim = c.kvDim();
            boolean skippedThenExecuted = false;
            float[][] decoded = new float[TOKENS.length][];
            for (int p = 0; p < TOKENS.length; p++) {
                decoded[p] = routed.forward(s, TOKENS, p, 1, true).clone();
                for (float v : decoded[p]) {
                    assertTrue(Float.isFinite(v), "position " + p + " read a poisoned key or value");
                }
                for (int l = 2; l < c.nLayers(); l++) {
                    if (!s.trace().executed(p, l)) {
                        // poison what the skipped token left in the cache: reading it would make NaN logits
                        java.util.Arrays.fill(s.cache().keys(l), p * kvDim, (p + 1) * kvDim, Float.NaN);
                        java.util.Arrays.fill(s.cache().values(l), p * kvDim, (p + 1) * kvDim, Float.NaN);
                        assertFalse(s.cache().executed(l, p));
                    } else {
                        for (int q = 2; q < p; q++) {
                            skippedThenExecuted |= !s.trace().executed(q, l);
                        }
                    }
                }
            }
            assertTrue(skippedThenExecuted, "the case needs a token that executes a layer an earlier token skipped");
            double ratio = s.trace().executionRatio(true);
            assertTrue(ratio > 0.2 && ratio < 0.9, "a mix of decisions: " + ratio);

            // prefill in one batch must apply the same rule inside the batch
            InferenceState batched = routed.newState(parallel, 32, TOKENS.length);
            float[] last = routed.forward(batched, TOKENS, 0, TOKENS.length, true);
            for (int v = 0; v < last.length; v++) {
                assertEquals(decoded[TOKENS.length - 1][v], last[v], 1e-4, "token " + v);
            }
            for (int p = 0; p < TOKENS.length; p++) {
                for (int l = 0; l < c.nLayers(); l++) {
                    assertEquals(s.trace().executed(p, l), batched.trace().executed(p, l), "decision " + p + "/" + l);
                }
            }
        }
    }
}
