package org.qtale.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.model.Aidreams260KTest;
import org.qtale.model.GenerationResult;
import org.qtale.model.GenerationSettings;
import org.qtale.model.Generator;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.BF16Weights;
import org.qtale.tensor.DType;
import org.qtale.tensor.Parallel;
import org.qtale.testing.SharedData;
import org.qtale.tokenizer.Llama2cTokenizer;

/** Real llama2.c checkpoints converted to Hugging Face directories compute what the originals compute. */
class Llama2cToHfTest {
    private static final String AIDREAMS = "models/aidreams260K/aidreams260K.bin";
    /** 8 query heads sharing 4 key/value heads, tied classifier (positive vocab size in its header). */
    private static final String STORIES = "models/stories260K-plctlab-unverified/stories260K.bin";

    private static final int[] AIDREAMS_PROMPT = prepend(1, Arrays.copyOf(Aidreams260KTest.GOLDEN, 19));
    private static final int[] AIDREAMS_DECODE = Arrays.copyOfRange(Aidreams260KTest.GOLDEN, 19, 27);
    private static final int[] STORIES_PROMPT = {1, 461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409,
        283, 264, 283, 452, 288};
    private static final int[] STORIES_DECODE = {13, 431, 431, 100, 2, 511, 0, 300};

    @TempDir
    Path dir;

    private static int[] prepend(int first, int[] rest) {
        int[] all = new int[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private Path convert(String checkpoint, DType dtype) {
        Path out = dir.resolve(Path.of(checkpoint).getFileName() + "-" + dtype);
        Llama2cToHf.convert(SharedData.file(checkpoint), out, dtype);
        return out;
    }

    private void assertIdenticalLogits(String checkpoint, int[] prompt, int[] decode) {
        Path converted = convert(checkpoint, DType.F32);
        try (LlamaModel original = Llama2cCheckpoint.load(SharedData.file(checkpoint));
                LlamaModel hf = HfCheckpoint.load(converted)) {
            assertEquals(original.config(), hf.config());
            TinyModels.assertIdenticalLogits(original, hf, prompt, decode);
        }
    }

    @Test
    void aidreamsF32ConversionGivesIdenticalLogits() {
        assertIdenticalLogits(AIDREAMS, AIDREAMS_PROMPT, AIDREAMS_DECODE);
    }

    @Test
    void groupedQueryStoriesF32ConversionGivesIdenticalLogits() {
        assertIdenticalLogits(STORIES, STORIES_PROMPT, STORIES_DECODE);
    }

    @Test
    void convertedAidreamsReproducesTheGoldenGreedyIds() {
        Path converted = convert(AIDREAMS, DType.F32);
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), 512);
        try (LlamaModel model = ModelLoader.loadModel(converted); Parallel parallel = new Parallel(2)) {
            InferenceState state = model.newState(parallel, model.config().contextLength(), 16);
            GenerationResult result = Generator.generate(model, state, tokenizer, new int[] {Llama2cTokenizer.BOS},
                    GenerationSettings.greedy(64, tokenizer.stopTokens()), (id, text) -> { });
            assertArrayEquals(Aidreams260KTest.GOLDEN, result.tokens());
        }
    }

    @Test
    void tiedClassifierBecomesTiedEmbeddings() {
        for (String checkpoint : List.of(AIDREAMS, STORIES)) {
            Path converted = convert(checkpoint, DType.F32);
            HfConfig config = HfCheckpoint.readConfig(converted);
            assertTrue(config.llama().tiedEmbeddings());
            assertTrue(config.raw().path("tie_word_embeddings").booleanValue());
            assertEquals("float32", config.torchDtype());
            try (Arena arena = Arena.ofConfined()) {
                assertFalse(Safetensors.openDirectory(converted, arena).contains("lm_head.weight"));
            }
        }
        assertEquals(4, HfCheckpoint.readConfig(dir.resolve("stories260K.bin-F32")).llama().nKvHeads());
    }

    /**
     * Measured max |logit difference| over the prefill and the 8 decode steps: aidreams260K 0.0325 (logits up to about
     * 11), stories260K 0.761 (logits up to about 17; its larger weights amplify the rounding over 5 layers). The
     * greedy choice agreed at every step. The bounds are about 2.5 times the measurements.
     */
    @Test
    void bf16ConversionStaysCloseToF32() {
        assertBf16Close(AIDREAMS, AIDREAMS_PROMPT, AIDREAMS_DECODE, 0.08f);
        assertBf16Close(STORIES, STORIES_PROMPT, STORIES_DECODE, 2.0f);
    }

    private void assertBf16Close(String checkpoint, int[] prompt, int[] decode, float tolerance) {
        try (LlamaModel f32 = HfCheckpoint.load(convert(checkpoint, DType.F32));
                LlamaModel bf16 = HfCheckpoint.load(convert(checkpoint, DType.BF16))) {
            assertTrue(bf16.weights().layers().get(0).wq() instanceof BF16Weights);
            float diff = TinyModels.maxAbsDifference(TinyModels.logits(f32, prompt, decode),
                    TinyModels.logits(bf16, prompt, decode));
            assertTrue(diff > 0 && diff <= tolerance, checkpoint + ": BF16 differs from F32 by " + diff);
        }
    }
}
