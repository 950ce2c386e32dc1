package org.qtale.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.tensor.Parallel;
import org.qtale.testing.SharedData;

/** The GQA-shaped real checkpoint (8 query heads sharing 4 key/value heads). */
class Stories260KGqaTest {
    @Test
    void loadsAndRunsWithGroupedQueryAttention() {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/stories260K-plctlab-unverified/stories260K.bin"));
                Parallel parallel = new Parallel(2)) {
            LlamaConfig c = model.config();
            assertEquals(8, c.nHeads());
            assertEquals(4, c.nKvHeads());
            assertEquals(5, c.nLayers());
            int[] prompt = {1, 461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435};
            float[] batched = model.forward(model.newState(parallel, 64, 8), prompt, 0, prompt.length, true).clone();
            float[] single = model.forward(model.newState(parallel, 64, 1), prompt, 0, prompt.length, true).clone();
            assertArrayEquals(single, batched, 1e-4f);
            for (float v : batched) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    /** SOURCES.md records the first greedy ids from BOS of this file (computed with llama2.c's algorithm). */
    @Test
    void greedyFromBosMatchesTheRecordedIds() {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/stories260K-plctlab-unverified/stories260K.bin"));
                Parallel parallel = new Parallel(1)) {
            InferenceState state = model.newState(parallel, 64, 1);
            int token = 1;
            int[] expected = {461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264, 283, 452, 288,
                13, 431, 431};
            int[] actual = new int[expected.length];
            for (int i = 0; i < expected.length; i++) {
                float[] logits = model.forward(state, new int[] {token}, 0, 1, true);
                token = org.qtale.tensor.VectorOps.argmax(logits, logits.length);
                actual[i] = token;
            }
            assertArrayEquals(expected, actual);
        }
    }
}
