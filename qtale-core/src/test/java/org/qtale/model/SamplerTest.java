package org.qtale.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;

class SamplerTest {
    private static float[] logits() {
        return new float[] {0.1f, 2.0f, -1.0f, 1.9f, 0.5f};
    }

    @Test
    void temperatureZeroIsArgmax() {
        assertEquals(1, Sampler.greedy().sample(logits(), 5));
    }

    @Test
    void topKOfOneAndTinyTopPAreArgmax() {
        for (long seed = 1; seed < 50; seed++) {
            assertEquals(1, new Sampler(1.5f, 1f, 1, seed).sample(logits(), 5));
            assertEquals(1, new Sampler(1.5f, 0.01f, 0, seed).sample(logits(), 5));
        }
    }

    @Test
    void topKTwoOnlyDrawsTheTwoMostLikely() {
        for (long seed = 1; seed < 200; seed++) {
            int token = new Sampler(5f, 1f, 2, seed).sample(logits(), 5);
            assertTrue(token == 1 || token == 3, "token " + token);
        }
    }

    @Test
    void sameSeedSameDraws() {
        int[] a = new int[50];
        int[] b = new int[50];
        Sampler s1 = new Sampler(1f, 0.9f, 0, 99);
        Sampler s2 = new Sampler(1f, 0.9f, 0, 99);
        for (int i = 0; i < 50; i++) {
            a[i] = s1.sample(logits(), 5);
            b[i] = s2.sample(logits(), 5);
        }
        assertArrayEquals(a, b);
    }

    /** With a flat distribution over 4 tokens the draws follow the coin: every token appears, roughly uniformly. */
    @Test
    void drawsFollowTheDistribution() {
        Sampler sampler = new Sampler(1f, 1f, 0, 12345);
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) {
            counts[sampler.sample(new float[] {0, 0, 0, 0}, 4)]++;
        }
        for (int c : counts) {
            assertTrue(c > 850 && c < 1150, java.util.Arrays.toString(counts));
        }
    }

    @Test
    void rejectsOutOfRangeSettings() {
        assertThrows(QtaleException.class, () -> new Sampler(-1f, 1f, 0, 1));
        assertThrows(QtaleException.class, () -> new Sampler(1f, 0f, 0, 1));
        assertThrows(QtaleException.class, () -> new Sampler(1f, 1.1f, 0, 1));
        assertThrows(QtaleException.class, () -> new Sampler(1f, 1f, -2, 1));
    }
}
