package org.qtale.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.testing.SharedData;

/** The training forward computes the engine's function: same logits at every position of real checkpoints. */
class EngineParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"models/aidreams260K/aidreams260K.bin", "models/stories260K-plctlab-unverified/stories260K.bin"})
    void trainingLogitsMatchTheEngineAtEveryPosition(String checkpoint) {
        Path path = SharedData.file(checkpoint);
        try (LlamaModel model = Llama2cCheckpoint.load(path); Parallel parallel = new Parallel(2)) {
            LlamaConfig config = model.config();
            int batch = 2;
            int seqLen = 24;
            int[] tokens = new int[batch * seqLen];
            SplittableRandom random = new SplittableRandom(5);
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = t % seqLen == 0 ? 1 : random.nextInt(config.vocabSize());
            }
            TrainingModel training = new TrainingModel(LlamaParameters.copyOf(config, model.weights()), parallel);
            float[] logits = training.forward(tokens, batch, seqLen).clone();
            int vocab = config.vocabSize();
            for (int b = 0; b < batch; b++) {
                InferenceState state = model.newState(parallel, seqLen, 1);
                for (int i = 0; i < seqLen; i++) {
                    float[] engine = model.forward(state, tokens, b * seqLen + i, 1, true);
                    for (int v = 0; v < vocab; v++) {
                        float expected = engine[v];
                        float actual = logits[(b * seqLen + i) * vocab + v];
                        assertEquals(expected, actual, 1e-4, "sequence " + b + ", position " + i + ", token " + v);
                    }
                }
            }
        }
    }
}
