package org.qtale.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.qtale.cli.CliTest.assertCleanError;
import static org.qtale.cli.CliTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.adaptive.RouterConfig;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.LlamaConfig;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;

/** qtale sweep over a routed and a dense model: points, files, and refusals. */
class SweepCliTest {
    @Test
    void aRoutedModelGetsAPointPerThresholdAndADenseOneAReference(@TempDir Path dir) throws IOException {
        LlamaConfig c;
        try (var loaded = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            c = loaded.config();
        }
        Path routed = dir.resolve("routed");
        RoutedModels.writeAidreams(RoutedModels.gaussian(c, RouterConfig.defaults(c.dim()), 7, 1f), routed);
        Path dense = dir.resolve("dense");
        RoutedModels.writeAidreams(null, dense);
        Path out = dir.resolve("sweep");
        CliTest.Run r = run("sweep", "--models", routed.toString(), dense.toString(), "--task", "toy=toyworld",
                "--task", "copa=" + SharedData.file("eval/mosaic_gauntlet/copa.jsonl"), "--thresholds", "0.9,0.5,0.1",
                "--limit", "4", "--threads", "1", "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode points = Json.MAPPER.readTree(r.out()).get("points");
        assertEquals(4, points.size(), "three thresholds and the dense model");
        assertEquals("routed", points.get(0).get("model").asText());
        assertEquals(0.9, points.get(0).get("threshold").asDouble(), 1e-6);
        assertTrue(points.get(3).get("threshold").isNull());
        assertEquals(1.0, points.get(3).get("execution_ratio").asDouble());
        assertTrue(points.get(0).get("execution_ratio").asDouble() < points.get(2).get("execution_ratio").asDouble());
        assertEquals(2, points.get(0).get("tasks").size());
        assertEquals(4, points.get(0).get("tasks").get(1).get("examples").asInt());
        // the dense point is what qtale eval gives on the same model
        CliTest.Run eval = run("eval", "--model", dense.toString(), "--task", "toy=toyworld", "--limit", "4",
                "--threads", "1", "--json");
        assertEquals(Json.MAPPER.readTree(eval.out()).get("tasks").get(0).get("accuracy").asDouble(),
                points.get(3).get("tasks").get(0).get("accuracy").asDouble());
        byte[] png = Files.readAllBytes(out.resolve("sweep-toy.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
        assertTrue(Files.exists(out.resolve("sweep-copa.png")));
        String table = Files.readString(out.resolve("sweep.md"));
        assertTrue(table.contains("| dense | dense |"), table);
        assertTrue(table.contains("| routed | 0.500 |"), table);
        assertEquals(r.out().strip(), Files.readString(out.resolve("sweep.json")).strip());
    }

    @Test
    void textAndBadThresholdsAreRefused(@TempDir Path dir) {
        assertCleanError(run("sweep", "--models", CliTest.aidreams(), "--task", "wiki=" + SharedData.file(
                "corpora/wikitext-2-raw/wiki.test.raw"), "--out", dir.toString()), "is not a multiple-choice task");
        assertCleanError(run("sweep", "--models", CliTest.aidreams(), "--task", "toy=toyworld", "--thresholds", "0.5,2",
                "--out", dir.toString()), "in [0, 1]");
        assertCleanError(run("sweep", "--models", dir.resolve("nothing").toString(), "--task", "toy=toyworld",
                "--out", dir.toString()), "does not exist");
    }
}
