package org.qtale.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.ExecutionTrace;
import org.qtale.adaptive.RouterConfig;
import org.qtale.adaptive.RouterSet;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.tensor.Parallel;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;

/** The logits of every position of a prefill, against decoding the same tokens one at a time. */
class ForwardAllTest {
    private static final int LENGTH = 37;

    /** Runs {@code tokens} one at a time and keeps every position's logits. */
    private static float[] decodeOneByOne(LlamaModel model, InferenceState s, int[] tokens) {
        int vocab = model.config().vocabSize();
        float[] all = new float[tokens.length * vocab];
        for (int p = 0; p < tokens.length; p++) {
            System.arraycopy(model.forward(s, tokens, p, 1, true), 0, all, p * vocab, vocab);
        }
        return all;
    }

    private static void assertSameLogits(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance, what + ": logit " + i);
        }
    }

    private static void checkDense(String checkpoint) {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file(checkpoint)); Parallel parallel = new Parallel(2)) {
            int vocab = model.config().vocabSize();
            int[] tokens = Arrays.copyOf(org.qtale.model.Aidreams260KTest.GOLDEN, LENGTH);
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] %= vocab;
            }
            float[] decoded = decodeOneByOne(model, model.newState(parallel, 64, 1), tokens);
            for (int batch : new int[] {1, 8, LENGTH}) {
                InferenceState s = model.newState(parallel, 64, batch);
                float[] all = new float[LENGTH * vocab];
                model.forwardAll(s, tokens, 0, LENGTH, all);
                assertEquals(LENGTH, s.position());
                if (batch == 1) {
                    assertArrayEquals(decoded, all, checkpoint + ": batches of one are decoding, bit for bit");
                } else {
                    // the same tolerance as batched prefill against token by token (Aidreams260KTest)
                    assertSameLogits(decoded, all, 1e-4f, checkpoint + ", batch " + batch);
                }
                float[] last = model.forward(model.newState(parallel, 64, batch), tokens, 0, LENGTH, true);
                assertSameLogits(last, Arrays.copyOfRange(all, (LENGTH - 1) * vocab, LENGTH * vocab), 1e-5f,
                        "the last row is forward's logits");
            }
        }
    }

    @Test
    void everyPositionMatchesDecodingOnAidreams260K() {
        checkDense("models/aidreams260K/aidreams260K.bin");
    }

    @Test
    void everyPositionMatchesDecodingOnStories260KWithGroupedQueries() {
        checkDense("models/stories260K-plctlab-unverified/stories260K.bin");
    }

    /**
     * With routers that send tokens different ways, the all-position prefill must skip the same (token, layer) pairs
     * as decoding and give the same logits at every position, continuing after earlier tokens too.
     */
    @Test
    void routedPrefillMatchesRoutedDecodingAtEveryPosition() {
        try (LlamaModel dense = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(2)) {
            LlamaConfig c = dense.config();
            RouterSet routers = RoutedModels.gaussian(c, RouterConfig.defaults(c.dim()), 7, 1f);
            LlamaModel model = new LlamaModel(c, dense.weights(), null, routers);
            int vocab = c.vocabSize();
            int[] tokens = Arrays.copyOf(Aidreams260KTest.GOLDEN, LENGTH);
            ExecutionPolicy policy = ExecutionPolicy.threshold(0.6f);
            InferenceState one = model.newState(parallel, 64, 1);
            one.setPolicy(policy);
            float[] decoded = decodeOneByOne(model, one, tokens);
            double ratio = one.trace().executionRatio(true);
            assertTrue(ratio > 0.2 && ratio < 0.9, "the routers must mix decisions, got a routed ratio of " + ratio);

            for (int batch : new int[] {1, 6, LENGTH}) {
                InferenceState s = model.newState(parallel, 64, batch);
                s.setPolicy(policy);
                float[] all = new float[LENGTH * vocab];
                model.forwardAll(s, tokens, 0, 20, all);
                float[] rest = new float[(LENGTH - 20) * vocab];
                model.forwardAll(s, tokens, 20, LENGTH - 20, rest);
                System.arraycopy(rest, 0, all, 20 * vocab, rest.length);
                assertSameDecisions(one.trace(), s.trace(), "batch " + batch);
                if (batch == 1) {
                    assertArrayEquals(decoded, all, "batches of one are decoding, bit for bit");
                } else {
                    assertSameLogits(decoded, all, 1e-4f, "routed, batch " + batch);
                }
                assertEquals(one.trace().flopsRatio(), s.trace().flopsRatio(), 1e-12);
            }
        }
    }

    private static void assertSameDecisions(ExecutionTrace expected, ExecutionTrace actual, String what) {
        assertEquals(expected.tokens(), actual.tokens(), what);
        for (int t = 0; t < expected.tokens(); t++) {
            for (int l = 0; l < expected.layers(); l++) {
                assertEquals(expected.executed(t, l), actual.executed(t, l), what + ": token " + t + ", layer " + l);
            }
        }
    }

    @Test
    void aTooSmallBufferOrContextIsRefused() {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(1)) {
            int[] tokens = {1, 2, 3, 4};
            int vocab = model.config().vocabSize();
            assertThrows(QtaleException.class, () -> model.forwardAll(model.newState(parallel, 8, 4), tokens, 0, 4,
                    new float[4 * vocab - 1]));
            assertThrows(QtaleException.class, () -> model.forwardAll(model.newState(parallel, 3, 4), tokens, 0, 4,
                    new float[4 * vocab]));
        }
    }
}
