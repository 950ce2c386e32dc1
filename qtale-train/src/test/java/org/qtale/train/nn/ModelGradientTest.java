package org.qtale.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.qtale.model.LlamaConfig;
import org.qtale.tensor.Parallel;

/** A whole 2-layer model's gradients, every parameter, against finite differences of the double-precision model. */
class ModelGradientTest {
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void everyParameterMatchesFiniteDifferences(boolean tied) {
        LlamaConfig config = LlamaConfig.llama2c(16, 24, 2, 4, 2, 11, 8, tied);
        LlamaParameters params = LlamaParameters.initialize(config, 7);
        SplittableRandom random = new SplittableRandom(3);
        enlarge(params, random);
        int batch = 2;
        int seqLen = 5;
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[batch * seqLen];
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = random.nextInt(config.vocabSize());
            targets[t] = t % 4 == 3 ? CrossEntropyOp.IGNORE : random.nextInt(config.vocabSize());
        }
        try (Parallel parallel = new Parallel(2)) {
            checkStep(new TrainingModel(params, parallel), params.all(), tokens, targets, batch, seqLen, 40);
        }
    }

    @org.junit.jupiter.api.Test
    void loraOnAFrozenModelMatchesFiniteDifferencesAndMergesExactly() {
        LlamaConfig config = LlamaConfig.llama2c(16, 24, 2, 4, 2, 11, 8, false);
        LlamaParameters params = LlamaParameters.initialize(config, 7);
        enlarge(params, new SplittableRandom(5));
        params.addLora(java.util.List.of("q_proj.weight", "k_proj.weight", "v_proj.weight"), 3, 1f, 5);
        params.freezeBase();
        SplittableRandom random = new SplittableRandom(4);
        for (Param p : params.trainable()) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextDouble() - 0.5); // B away from zero, so that A gets a gradient too
            }
        }
        assertEquals(2 * 3 * 2, params.trainable().size(), "A and B of q, k, v in both layers");
        int batch = 2;
        int seqLen = 5;
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[batch * seqLen];
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = random.nextInt(config.vocabSize());
            targets[t] = random.nextInt(config.vocabSize());
        }
        try (Parallel parallel = new Parallel(2)) {
            TrainingModel model = new TrainingModel(params, parallel);
            checkStep(model, params.trainable(), tokens, targets, batch, seqLen, 0);
            org.junit.jupiter.api.Assertions.assertFalse(params.layer(0).wq().trainable());
            float[] before = model.forward(tokens, batch, seqLen).clone();
            params.mergeLora();
            float[] merged = model.forward(tokens, batch, seqLen);
            for (int i = 0; i < before.length; i++) {
                assertEquals(before[i], merged[i], 1e-3, "merged weights compute the same function");
            }
        }
    }

    /**
     * One step's loss against the double-precision reference, and the gradient of each of {@code checked} against its
     * finite differences ({@code samples} entries each; 0 for all).
     */
    private static void checkStep(TrainingModel model, java.util.List<Param> checked, int[] tokens, int[] targets,
            int batch, int seqLen, int samples) {
        LlamaParameters params = model.parameters();
        params.zeroGrad();
        double loss = model.lossAndBackward(tokens, targets, batch, seqLen, 1f);
        assertEquals(Reference.modelLoss(params, tokens, targets, batch, seqLen), loss, 1e-4 * Math.abs(loss));
        for (Param p : checked) {
            Gradients.check(p.name(), p.grad(), p.value(),
                    () -> Reference.modelLoss(params, tokens, targets, batch, seqLen), samples, p.name().hashCode());
        }
    }

    /**
     * Weights larger than pretraining's initialization and norm weights spread around 1, so that every path carries
     * a gradient well above the finite differences' noise.
     */
    private static void enlarge(LlamaParameters params, SplittableRandom random) {
        for (Param p : params.all()) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) {
                v[i] = p.isMatrix() ? v[i] * 15 : 1 + (float) (random.nextDouble() - 0.5);
            }
        }
    }
}
