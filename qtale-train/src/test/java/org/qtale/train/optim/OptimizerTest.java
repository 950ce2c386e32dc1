package org.qtale.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.qtale.train.nn.Param;

class OptimizerTest {
    @Test
    void firstAdamWStepByHand() {
        Param matrix = new Param("w", 2, 1, new float[] {1f, 1f});
        Param vector = new Param("n", 1, 2, new float[] {1f, 1f});
        matrix.grad()[0] = 0.5f;
        vector.grad()[0] = 0.5f;
        new AdamW(List.of(matrix, vector), 0.9f, 0.95f, 1e-8f, 0.1f).step(0.1f);
        // m̂ = 0.5, v̂ = 0.25, so the Adam direction is 1; decay adds 0.1 · 1 on matrices only
        assertEquals(1 - 0.1f * (1 + 0.1f), matrix.value()[0], 1e-6);
        assertEquals(1 - 0.1f * 0.1f, matrix.value()[1], 1e-6, "zero gradient: decay alone");
        assertEquals(0.9f, vector.value()[0], 1e-6);
        assertEquals(1f, vector.value()[1], "no gradient and no decay on a vector");
    }

    @Test
    void warmupThenCosineToTheFloor() {
        LearningRateSchedule s = new LearningRateSchedule(1e-3f, 10, 110, 0.1f);
        assertEquals(1e-4f, s.at(0), 1e-9);
        assertEquals(1e-3f, s.at(9), 1e-9);
        assertEquals(1e-3f, s.at(10), 1e-9);
        assertEquals(0.55e-3f, s.at(10 + 99 / 2) , 1e-5);
        assertEquals(1e-4f, s.at(109), 1e-9);
        for (int step = 11; step < 110; step++) {
            assertTrue(s.at(step) <= s.at(step - 1));
        }
    }

    @Test
    void clippingScalesAllGradientsTogether() {
        Param a = new Param("a", 1, 2, new float[2]);
        Param b = new Param("b", 1, 1, new float[1]);
        a.grad()[0] = 3;
        a.grad()[1] = 0;
        b.grad()[0] = 4;
        assertEquals(5, GradientClipping.clip(List.of(a, b), 1), 1e-9);
        assertEquals(0.6f, a.grad()[0], 1e-6);
        assertEquals(0.8f, b.grad()[0], 1e-6);
        assertEquals(1, GradientClipping.norm(List.of(a, b)), 1e-6);
        assertEquals(1, GradientClipping.clip(List.of(a, b), 2), 1e-6);
        assertEquals(0.6f, a.grad()[0], 1e-6, "under the limit nothing changes");
    }
}
