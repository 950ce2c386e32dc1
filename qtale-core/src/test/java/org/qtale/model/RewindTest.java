package org.qtale.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.RouterConfig;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.tensor.Parallel;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;

/** A rewound state continues a prefix exactly as a fresh state that ran prefix and continuation together. */
class RewindTest {
    private static int[] tokens(int from, int count) {
        int[] t = new int[count];
        for (int i = 0; i < count; i++) {
            t[i] = 1 + (from + 37 * i) % 500;
        }
        return t;
    }

    private static float[] fresh(LlamaModel model, Parallel parallel, int[] prefix, int[] continuation) {
        int[] whole = Arrays.copyOf(prefix, prefix.length + continuation.length);
        System.arraycopy(continuation, 0, whole, prefix.length, continuation.length);
        InferenceState state = model.newState(parallel, whole.length, 64);
        if (state.trace() != null) {
            state.setPolicy(ExecutionPolicy.threshold(0.5f));
        }
        float[] logits = new float[continuation.length * model.config().vocabSize()];
        model.forward(state, whole, 0, prefix.length, false);
        model.forwardAll(state, whole, prefix.length, continuation.length, logits);
        return logits;
    }

    @Test
    void aRewoundStateContinuesLikeAFreshOne() {
        try (LlamaModel dense = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(2)) {
            LlamaModel routed = new LlamaModel(dense.config(), dense.weights(), null,
                    RoutedModels.gaussian(dense.config(), RouterConfig.defaults(dense.config().dim()), 7, 1f));
            for (LlamaModel model : new LlamaModel[] {dense, routed}) {
                int[] prefix = tokens(3, 40);
                int[] first = tokens(11, 9);
                int[] second = tokens(29, 6);
                InferenceState state = model.newState(parallel, 64, 64);
                if (state.trace() != null) {
                    state.setPolicy(ExecutionPolicy.threshold(0.5f));
                }
                int vocab = model.config().vocabSize();
                model.forward(state, prefix, 0, prefix.length, false);
                model.forwardAll(state, first, 0, first.length, new float[first.length * vocab]);
                state.rewind(prefix.length);
                float[] logits = new float[second.length * vocab];
                model.forwardAll(state, second, 0, second.length, logits);
                assertArrayEquals(fresh(model, parallel, prefix, second), logits, 1e-5f);
                assertEquals(prefix.length + second.length, state.position());
                if (state.trace() != null) {
                    assertEquals(prefix.length + first.length + second.length, state.trace().tokens(),
                            "the trace keeps what was forgotten");
                }
                assertThrows(QtaleException.class, () -> state.rewind(state.position() + 1));
            }
        }
    }
}
