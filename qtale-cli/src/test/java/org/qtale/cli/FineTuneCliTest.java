package org.qtale.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.qtale.cli.CliTest.assertCleanError;
import static org.qtale.cli.CliTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.testing.RoutedModels;

/** qtale train end to end on aidreams260K: the files, the JSON contract, and one-sentence refusals. */
class FineTuneCliTest {
    @TempDir
    static Path shared;
    private static Path base;

    @BeforeAll
    static void writeBase() {
        base = shared.resolve("base");
        RoutedModels.writeAidreams(null, base);
    }

    @Test
    void aShortRunWritesTheModelTheChartAndTheJson(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("qtale");
        CliTest.Run r = run("train", "--model", base.toString(), "--data", "toyworld:docs=40,heldout=8",
                "--target-ratio", "0.75", "--rate-weight", "5", "--entropy-weight", "1", "--epochs", "1",
                "--questions", "7", "--threads", "1", "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertEquals("qtale", json.path("method").asText());
        for (String field : new String[] {"execution_ratio", "routed_execution_ratio", "held_out_loss",
            "dense_held_out_loss", "base_held_out_loss", "flip_probability", "mean_abs_logit_gap", "mc_accuracy",
            "base_mc_accuracy"}) {
            assertTrue(json.path(field).isNumber(), field + " in " + r.out());
        }
        double ratio = json.path("execution_ratio").asDouble();
        assertTrue(ratio > 0 && ratio <= 1, "ratio " + ratio);
        assertEquals(1, json.path("epochs").size());
        assertEquals(9, json.path("sweep").size(), "dense and eight thresholds");
        assertEquals(2, json.path("epochs").get(0).path("layers").size(), "aidreams260K: 4 layers, 2 routed");
        for (String file : new String[] {"config.json", "model.safetensors", "tokenizer.json", "finetune.json",
            "routing.png"}) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file);
        }
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"qtale\""));
        CliTest.Run generated = run("generate", "--model", out.toString(), "--prompt", "once", "--max-tokens", "8",
                "--temperature", "0", "--json");
        assertEquals(0, generated.status(), generated.err());
        assertTrue(generated.out().contains("execution_ratio"));
    }

    @Test
    void badSettingsAreOneSentenceAndWriteNothing(@TempDir Path dir) {
        Path out = dir.resolve("never");
        CliTest.Run r = run("train", "--model", base.toString(), "--data", "toyworld:docs=10", "--target-ratio", "1.5",
                "--rate-weight", "5", "--entropy-weight", "0", "--out", out.toString());
        assertCleanError(r, "--target-ratio must be in (0, 1]");
        assertFalse(Files.exists(out));
        r = run("train", "--model", base.toString(), "--data", dir.resolve("missing.json").toString(),
                "--target-ratio", "0.5", "--rate-weight", "5", "--entropy-weight", "0", "--out", out.toString());
        assertCleanError(r, "not found");
        assertFalse(Files.exists(out));
        r = run("train", "--model", dir.resolve("no-model").toString(), "--data", "toyworld:docs=10",
                "--target-ratio", "0.5", "--rate-weight", "5", "--entropy-weight", "0", "--out", out.toString());
        assertEquals(2, r.status());
        assertFalse(Files.exists(out));
    }
}
