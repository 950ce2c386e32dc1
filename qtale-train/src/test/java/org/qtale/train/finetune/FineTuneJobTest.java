package org.qtale.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.RouterConfig;
import org.qtale.format.HfCheckpoint;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.testing.RoutedModels;

/** A whole fine-tuning run on the real aidreams260K checkpoint, and what it writes. */
class FineTuneJobTest {
    @TempDir
    static Path dir;
    static Path base;

    @BeforeAll
    static void writeBase() {
        base = dir.resolve("base");
        RoutedModels.writeAidreams(null, base);
    }

    private static FineTuneSettings settings(double targetRatio, double entropyWeight) {
        return new FineTuneSettings(targetRatio, 10, entropyWeight, 4, 0.05f, 3, 2e-2f, 0.1, 8, 128, 0.02f, 5);
    }

    @Test
    void routersLearnToSkipTowardsTheTargetAndTheStoredModelRunsAsTrained() throws Exception {
        Path out = dir.resolve("dllm");
        FineTuneJob.Request request = new FineTuneJob.Request(base, "toyworld:docs=120,heldout=24,seed=3",
                settings(0.6, 0), 0, 2, 2, out, false, 2, 20);
        FineTuneJob.Outcome outcome = FineTuneJob.run(request, new FineTuneJob.Reporter() {
        });
        // 4 layers, 2 always on: the routed layers start executing ~87% and the rate loss pulls them down
        List<EpochReport> epochs = outcome.epochs();
        assertEquals(3, epochs.size());
        double firstRatio = outcome.curve().get(0).stats().executionRatio();
        double lastRatio = epochs.get(2).train().executionRatio();
        assertTrue(firstRatio > 0.85, "routers start execute-biased: " + firstRatio);
        assertTrue(lastRatio < firstRatio - 0.1, "the execution ratio falls towards 0.6: " + firstRatio + " -> " + lastRatio);
        assertEquals(1 + FineTuneJob.THRESHOLDS.length, outcome.sweep().size());
        assertNotNull(outcome.dense().accuracy(), "toyworld data scores its questions");
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", FineTuneJob.SUMMARY_FILE)) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file);
        }
        try (LlamaModel tuned = HfCheckpoint.load(out); LlamaModel original = HfCheckpoint.load(base);
                Parallel parallel = new Parallel(2)) {
            assertNotNull(tuned.routers(), "the routers are stored");
            assertEquals(2, tuned.routers().config().startLayer());
            assertEquals(0.5f, tuned.routers().config().defaultThreshold());
            // LoRA is merged into q, k, v only; every other weight is the base model's
            float[] rowTuned = new float[original.config().dim()];
            float[] rowBase = new float[original.config().dim()];
            tuned.weights().layers().get(0).wq().copyRow(3, rowTuned, 0);
            original.weights().layers().get(0).wq().copyRow(3, rowBase, 0);
            assertFalse(java.util.Arrays.equals(rowTuned, rowBase), "q carries the merged adapter");
            tuned.weights().layers().get(0).wo().copyRow(3, rowTuned, 0);
            original.weights().layers().get(0).wo().copyRow(3, rowBase, 0);
            assertArrayEquals(rowBase, rowTuned, "o is frozen and has no adapter");
            // the engine, skipping for real, measures the held-out loss and ratio the job reported at θ = 0.5
            FineTuneData data = FineTuneData.load("toyworld:docs=120,heldout=24,seed=3",
                    TokenizerFiles.open(out, null, tuned.config().vocabSize()), 128);
            ThresholdCalibration.Evaluation engine = new ThresholdCalibration(tuned, data.heldOut(), parallel)
                    .evaluate(ExecutionPolicy.threshold(0.5f));
            FineTuneJob.SweepPoint reported = outcome.argmax();
            assertEquals(reported.executionRatio(), engine.executionRatio(), 1e-9);
            assertEquals(reported.loss(), engine.loss(), 1e-3);
        }
    }

    @Test
    void anExistingOutputIsRefusedBeforeAnyWork() throws Exception {
        Path out = dir.resolve("taken");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        FineTuneJob.Request request = new FineTuneJob.Request(base, "toyworld:docs=10,heldout=2", settings(0.6, 0), 0, 2,
                2, out, false, 1, 0);
        QtaleException e = assertThrows(QtaleException.class, () -> FineTuneJob.run(request, new FineTuneJob.Reporter() {
        }));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
    }

    @Test
    void settingsOutsideTheirRangeAreOneSentence() {
        QtaleException e = assertThrows(QtaleException.class, () -> settings(1.5, 0));
        assertEquals("--target-ratio must be in (0, 1], got 1.5.", e.getMessage());
        assertThrows(QtaleException.class, () -> settings(0.5, -1));
    }
}
