package org.qtale.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.qtale.model.InferenceState;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.Parallel;

/** Small random models in the llama2.c (interleaved) layout, and a way to record their logits. */
final class TinyModels {
    private TinyModels() {
    }

    /** 16 wide, 4 query heads over 2 key/value heads, 2 layers, 32 tokens. */
    static LlamaConfig config(boolean tied) {
        return LlamaConfig.llama2c(16, 24, 2, 4, 2, 32, 32, tied);
    }

    static LlamaModel random(LlamaConfig c, long seed) {
        Random random = new Random(seed);
        LinearWeights embedding = matrix(random, c.vocabSize(), c.dim());
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(new LayerWeights(norm(random, c.dim()), matrix(random, c.qDim(), c.dim()),
                    matrix(random, c.kvDim(), c.dim()), matrix(random, c.kvDim(), c.dim()), matrix(random, c.dim(), c.qDim()),
                    norm(random, c.dim()), matrix(random, c.hiddenDim(), c.dim()), matrix(random, c.hiddenDim(), c.dim()),
                    matrix(random, c.dim(), c.hiddenDim())));
        }
        LinearWeights output = c.tiedEmbeddings() ? embedding : matrix(random, c.vocabSize(), c.dim());
        return new LlamaModel(c, new LlamaWeights(embedding, layers, norm(random, c.dim()), output, false), null);
    }

    private static LinearWeights matrix(Random random, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
        }
        return F32Weights.of(v, rows, cols);
    }

    private static float[] norm(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 1 + (float) (random.nextGaussian() * 0.1);
        }
        return v;
    }

    /**
     * The logits after a batched prefill of {@code prompt} (batches of 8), then after each of {@code decode} fed one
     * at a time.
     */
    static List<float[]> logits(LlamaModel model, int[] prompt, int[] decode) {
        List<float[]> out = new ArrayList<>();
        try (Parallel parallel = new Parallel(2)) {
            InferenceState state = model.newState(parallel, prompt.length + decode.length, 8);
            out.add(model.forward(state, prompt, 0, prompt.length, true).clone());
            for (int token : decode) {
                out.add(model.forward(state, new int[] {token}, 0, 1, true).clone());
            }
        }
        return out;
    }

    /**
     * Asserts that two models that compute the same function give bitwise identical logits. The engine is
     * deterministic for a fixed compiled state, but the JIT's vector {@code EXP} (softmax, SiLU) may differ from the
     * interpreter's by an ulp; so {@code b} runs between two runs of {@code a}, and the comparison counts only when those
     * two agree (no compilation changed the result in between).
     */
    /** The engine is deterministic in every JIT tier (see VectorOps.exp), so one run of each must agree bit for bit. */
    static void assertIdenticalLogits(LlamaModel a, LlamaModel b, int[] prompt, int[] decode) {
        List<float[]> expected = logits(a, prompt, decode);
        List<float[]> actual = logits(b, prompt, decode);
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), 0f, "logits after step " + i);
        }
    }

    static float maxAbsDifference(List<float[]> a, List<float[]> b) {
        float max = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).length; j++) {
                max = Math.max(max, Math.abs(a.get(i)[j] - b.get(i)[j]));
            }
        }
        return max;
    }
}
