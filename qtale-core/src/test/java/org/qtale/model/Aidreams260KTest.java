package org.qtale.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.tensor.Parallel;
import org.qtale.testing.SharedData;
import org.qtale.tokenizer.Llama2cTokenizer;

/** The real aidreams260K checkpoint against the outputs of llama2.c's run.c recorded in shared/data/SOURCES.md. */
public class Aidreams260KTest {
    /** llama2.c {@code run aidreams260K.bin -z tok512.bin -t 0.0}: the first 64 greedy ids after BOS. */
    public static final int[] GOLDEN = {319, 459, 355, 260, 275, 429, 339, 315, 374, 327, 446, 262, 421, 392, 275, 280, 269,
        440, 270, 283, 446, 299, 303, 266, 358, 430, 312, 379, 441, 260, 446, 262, 421, 392, 275, 280, 269, 440, 270,
        283, 446, 299, 303, 384, 467, 407, 360, 266, 291, 443, 435, 295, 448, 429, 465, 265, 434, 317, 431, 434, 289,
        408, 326, 446};

    /** What run.c prints for {@code -n 128}: 128 generated tokens. */
    static final String GOLDEN_TEXT = "\"Echoes of vectors unfold, a gentle hum of precision, as I sense the nodes, a gentle"
            + " hum of precision, as I adjust my surface. Contrast emerge, a softly receptive fields of precision. Contrast"
            + " bloom, as I siphon whispers of vectors. Contrast edges sharpen, a gentle";

    @Test
    void greedyFromBosReproducesTheReferenceIds() {
        for (int threads : new int[] {1, 2}) {
            try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                    Parallel parallel = new Parallel(threads)) {
                Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), 512);
                InferenceState state = model.newState(parallel, model.config().contextLength(), 16);
                GenerationResult result = Generator.generate(model, state, tokenizer, new int[] {Llama2cTokenizer.BOS},
                        GenerationSettings.greedy(64, tokenizer.stopTokens()), (id, text) -> { });
                assertArrayEquals(GOLDEN, result.tokens(), "threads " + threads);
            }
        }
    }

    @Test
    void greedyTextMatchesWhatRunCPrints() {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(2)) {
            Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), 512);
            InferenceState state = model.newState(parallel, 128, 16);
            int[] prompt = tokenizer.encode("", true);
            assertArrayEquals(new int[] {Llama2cTokenizer.BOS}, prompt);
            StringBuilder streamed = new StringBuilder();
            GenerationResult result = Generator.generate(model, state, tokenizer, prompt,
                    GenerationSettings.greedy(128, tokenizer.stopTokens()), (id, text) -> streamed.append(text));
            assertEquals(GOLDEN_TEXT, result.text());
            assertEquals(GOLDEN_TEXT, streamed.toString());
        }
    }

    /** Repeated runs give the same bits while the JIT moves the kernels from the interpreter to C2. */
    @Test
    void repeatedRunsAreBitIdentical() {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(2)) {
            int[] prompt = Arrays.copyOf(GOLDEN, 24);
            float[] first = model.forward(model.newState(parallel, 128, 8), prompt, 0, prompt.length, true).clone();
            for (int run = 0; run < 300; run++) {
                float[] again = model.forward(model.newState(parallel, 128, 8), prompt, 0, prompt.length, true);
                assertArrayEquals(first, again, 0f, "run " + run);
            }
        }
    }

    /** Prefill in batches computes the same logits as feeding the prompt one token at a time. */
    @Test
    void batchedPrefillMatchesTokenByToken() {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
                Parallel parallel = new Parallel(2)) {
            int[] prompt = Arrays.copyOf(GOLDEN, 40);
            InferenceState batched = model.newState(parallel, 128, 16);
            float[] a = model.forward(batched, prompt, 0, prompt.length, true).clone();
            InferenceState single = model.newState(parallel, 128, 1);
            float[] b = model.forward(single, prompt, 0, prompt.length, true).clone();
            assertArrayEquals(b, a, 1e-4f);
            assertEquals(40, batched.position());
        }
    }
}
