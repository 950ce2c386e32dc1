package org.qtale.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.format.HfCheckpoint;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;

/** Layer after layer, then the final norm and the head, the calibration pass computes the engine's logits. */
class DecoderLayerPassTest {
    @Test
    void llama2cCheckpoint() {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/stories260K-plctlab-unverified/stories260K.bin"))) {
            check(model);
        }
    }

    @Test
    void huggingFaceRowOrder(@TempDir Path dir) {
        RoutedModels.writeAidreams(null, dir);
        try (LlamaModel model = HfCheckpoint.load(dir)) {
            org.junit.jupiter.api.Assertions.assertTrue(model.weights().qkHalfSplit(), "the HF layout is exercised");
            check(model);
        }
    }

    private static void check(LlamaModel model) {
        LlamaConfig config = model.config();
        int batch = 2;
        int seqLen = 12;
        int[] tokens = new int[batch * seqLen];
        SplittableRandom random = new SplittableRandom(3);
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = t % seqLen == 0 ? 1 : random.nextInt(config.vocabSize());
        }
        try (Parallel parallel = new Parallel(2)) {
            DecoderLayerPass pass = new DecoderLayerPass(config, batch, seqLen, parallel);
            float[] x = new float[tokens.length * config.dim()];
            for (int t = 0; t < tokens.length; t++) {
                model.weights().tokenEmbedding().copyRow(tokens[t], x, t * config.dim());
            }
            Map<DecoderLayerPass.Inputs, Integer> widths = new EnumMap<>(DecoderLayerPass.Inputs.class);
            for (int l = 0; l < config.nLayers(); l++) {
                pass.forward(model.weights().layers().get(l), model.weights().qkHalfSplit(), x,
                        (group, input, n, width) -> widths.put(group, width));
            }
            assertEquals(Map.of(DecoderLayerPass.Inputs.QKV, config.dim(), DecoderLayerPass.Inputs.O, config.qDim(),
                    DecoderLayerPass.Inputs.GATE_UP, config.dim(), DecoderLayerPass.Inputs.DOWN, config.hiddenDim()), widths);
            int vocab = config.vocabSize();
            float[] normed = new float[config.dim()];
            float[] logits = new float[vocab];
            for (int b = 0; b < batch; b++) {
                InferenceState state = model.newState(parallel, seqLen, 1);
                for (int i = 0; i < seqLen; i++) {
                    float[] engine = model.forward(state, tokens, b * seqLen + i, 1, true);
                    VectorOps.rmsNorm(normed, 0, x, (b * seqLen + i) * config.dim(), model.weights().finalNorm(),
                            config.normEps(), config.dim());
                    model.weights().output().apply(parallel, normed, 1, logits);
                    for (int v = 0; v < vocab; v++) {
                        assertEquals(engine[v], logits[v], 1e-4, "sequence " + b + ", position " + i + ", token " + v);
                    }
                }
            }
        }
    }
}
