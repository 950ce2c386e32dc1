package org.qtale.train.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.model.LlamaConfig;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.Param;
import org.qtale.train.nn.TrainingModel;

class PretrainerTest {
    private static final LlamaConfig TINY = LlamaConfig.llama2c(32, 64, 2, 4, 2, 16, 32, true);

    /** A stream where each token determines the next (a cycle) except after 0, which is followed by a random token. */
    private static TokenDataset patterned() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        int[] train = new int[4000];
        for (int i = 1; i < train.length; i++) {
            train[i] = train[i - 1] == 0 ? 1 + random.nextInt(15) : (train[i - 1] + 1) % 16;
        }
        int[] heldOut = java.util.Arrays.copyOfRange(train, 3000, 4000);
        return new TokenDataset(java.util.Arrays.copyOf(train, 3000), heldOut);
    }

    private static PretrainSettings settings(int steps) {
        return PretrainSettings.defaults(steps, 4, 16, 1e-2f, 11).withEvaluation(10, 8);
    }

    @Test
    void lossFallsOnALearnablePattern() {
        try (Parallel parallel = new Parallel(2)) {
            LlamaParameters params = LlamaParameters.initialize(TINY, 11);
            PretrainResult result = new Pretrainer(params, patterned(), settings(60), parallel).run(null, new PretrainListener() { });
            assertEquals(60, result.trainLosses().size());
            assertTrue(result.firstLoss() > 2.5, "starts near ln 16 = 2.77: " + result.firstLoss());
            assertTrue(result.finalLoss() < 0.6, "the cycle is learned: " + result.finalLoss());
            assertTrue(result.finalHeldOut().loss() < 0.8, "held-out too: " + result.finalHeldOut().loss());
        }
    }

    @Test
    void aResumedRunEndsWithTheSameBitsAsAnUninterruptedOne(@TempDir Path dir) {
        Path checkpoint = dir.resolve("checkpoint");
        PretrainSettings settings = settings(12).withCheckpointEvery(5);
        try (Parallel parallel = new Parallel(2)) {
            // stops during step 7, after the checkpoint of step 5 was written
            new Pretrainer(LlamaParameters.initialize(TINY, 11), patterned(), settings, parallel).run(checkpoint,
                    new PretrainListener() {
                        @Override
                        public void onStep(int step, int steps, double loss, float lr, double norm, double tps) {
                            if (step == 7) {
                                throw new StopRun();
                            }
                        }
                    });
        } catch (StopRun expected) {
            assertTrue(TrainingCheckpoint.exists(checkpoint));
        }
        LlamaParameters resumed = LlamaParameters.initialize(TINY, 999); // every value comes from the checkpoint
        LlamaParameters straight = LlamaParameters.initialize(TINY, 11);
        PretrainResult rest;
        PretrainResult whole;
        try (Parallel one = new Parallel(1); Parallel two = new Parallel(2)) {
            rest = new Pretrainer(resumed, patterned(), settings, one).run(checkpoint, new PretrainListener() { });
            whole = new Pretrainer(straight, patterned(), settings(12), two).run(null, new PretrainListener() { });
        }
        assertEquals(whole.trainLosses(), rest.trainLosses());
        List<Param> a = straight.all();
        List<Param> b = resumed.all();
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).value(), b.get(i).value(), a.get(i).name());
        }
    }

    @Test
    void gradientsAccumulateAcrossCalls() {
        LlamaConfig config = TINY;
        int[] tokens = new int[2 * 8];
        int[] targets = new int[2 * 8];
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = (t * 7) % 16;
            targets[t] = (t * 5 + 3) % 16;
        }
        try (Parallel parallel = new Parallel(2)) {
            LlamaParameters together = LlamaParameters.initialize(config, 3);
            new TrainingModel(together, parallel).lossAndBackward(tokens, targets, 2, 8, 0.5f);
            LlamaParameters apart = LlamaParameters.initialize(config, 3);
            TrainingModel model = new TrainingModel(apart, parallel);
            for (int b = 0; b < 2; b++) {
                model.lossAndBackward(java.util.Arrays.copyOfRange(tokens, b * 8, b * 8 + 8),
                        java.util.Arrays.copyOfRange(targets, b * 8, b * 8 + 8), 1, 8, 0.5f);
            }
            for (int i = 0; i < together.all().size(); i++) {
                float[] x = together.all().get(i).grad();
                float[] y = apart.all().get(i).grad();
                for (int j = 0; j < x.length; j++) {
                    assertEquals(x[j], y[j], 1e-6 + 1e-4 * Math.abs(x[j]));
                }
            }
        }
    }

    private static final class StopRun extends RuntimeException {
    }
}
