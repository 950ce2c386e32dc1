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
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.adaptive.RouterConfig;
import org.qtale.adaptive.RouterSet;
import org.qtale.model.LlamaConfig;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;

/** qtale calibrate end to end: the table, the JSON contract, --write, and one-sentence refusals. */
class CalibrateCliTest {
    @TempDir
    static Path shared;
    private static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        String[] subjects = {"Echoes of vectors", "Contrast edges", "A gentle hum", "Whispers of nodes", "The surface"};
        String[] verbs = {"unfold", "sharpen", "bloom", "drift", "emerge"};
        String[] endings = {"as I sense the nodes.", "a gentle hum of precision.", "as I adjust my surface.",
            "softly receptive fields of precision.", "as I siphon whispers of vectors."};
        StringBuilder text = new StringBuilder();
        for (int d = 0; d < 60; d++) {
            text.append(subjects[d % 5]).append(' ').append(verbs[(d / 5) % 5]).append(", ").append(endings[(d * 3) % 5])
                    .append(' ').append(subjects[(d + 2) % 5]).append(' ').append(verbs[(d + 1) % 5]).append(".\n\n");
        }
        data = shared.resolve("calibration.txt");
        Files.writeString(data, text.toString()); // 60 documents: the last 3 are held out
    }

    /** A model directory: aidreams260K behind seeded random routers whose decisions vary with θ. */
    private static Path routedModel(Path dir) {
        Path model = dir.resolve("routed");
        LlamaConfig c;
        try (var loaded = org.qtale.format.Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            c = loaded.config();
        }
        RoutedModels.writeAidreams(RoutedModels.gaussian(c, RouterConfig.defaults(c.dim()), 7, 1f), model);
        return model;
    }

    @Test
    void aTargetRatioGivesTheTableAndTheJsonAndWritesNothing(@TempDir Path dir) throws IOException {
        Path model = routedModel(dir);
        byte[] config = Files.readAllBytes(model.resolve("config.json"));
        CliTest.Run r = run("calibrate", "--model", model.toString(), "--data", data.toString(), "--target-ratio", "0.9",
                "--threads", "1", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        for (String field : new String[] {"threshold", "execution_ratio", "routed_execution_ratio", "flops_ratio", "loss",
            "dense_loss", "target_ratio", "counted_tokens", "answer_tokens"}) {
            assertTrue(json.get(field).isNumber(), field);
        }
        assertEquals(3, json.get("examples").asInt(), "the held-out twentieth of 60 documents");
        assertTrue(Math.abs(json.get("execution_ratio").asDouble() - 0.9) < 0.05, r.out());
        assertTrue(json.get("routed_execution_ratio").asDouble() < json.get("execution_ratio").asDouble());
        JsonNode points = json.get("points");
        assertTrue(points.size() >= 3, r.out());
        boolean chosenListed = false;
        for (JsonNode p : points) {
            assertEquals(p.get("loss").asDouble() - json.get("dense_loss").asDouble(), p.get("loss_increase").asDouble(), 1e-12);
            chosenListed |= p.get("threshold").asDouble() == json.get("threshold").asDouble();
        }
        assertTrue(chosenListed, "the chosen θ is one of the points");
        assertTrue(r.err().contains("[calibrate] dense: loss"), r.err());
        assertEquals(points.size(), r.err().lines().filter(l -> l.startsWith("[calibrate] point ")).count(),
                "one progress line per θ");
        assertArrayEquals(config, Files.readAllBytes(model.resolve("config.json")), "no --write, nothing written");

        CliTest.Run table = run("calibrate", "--model", model.toString(), "--data", data.toString(), "--target-ratio",
                "0.9", "--threads", "1", "--limit", "2");
        assertEquals(0, table.status(), table.err());
        assertTrue(table.out().startsWith("calibrated on 2 held-out examples"), table.out());
        assertTrue(table.out().contains("execution ratio"), table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("* ")), "the chosen row is marked: " + table.out());
        assertTrue(table.out().contains("chosen θ = "), table.out());
        assertTrue(table.out().contains("not written"), table.out());
    }

    @Test
    void writeChangesOnlyTheThreshold(@TempDir Path dir) throws IOException {
        Path model = routedModel(dir);
        String before = Files.readString(model.resolve("config.json"));
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
        CliTest.Run r = run("calibrate", "--model", model.toString(), "--data", data.toString(), "--max-loss-increase",
                "0.05", "--write", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertTrue(json.get("written").asBoolean());
        float theta = (float) json.get("threshold").asDouble();
        assertTrue(theta < 0.5f, "this ε costs some of D-LLM's savings: " + theta);
        assertTrue(json.get("loss").asDouble() <= json.get("dense_loss").asDouble() + 0.05);
        String after = Files.readString(model.resolve("config.json"));
        assertEquals(before.replace("\"threshold\" : 0.5", "\"threshold\" : " + Float.toString(theta).toLowerCase(Locale.ROOT)),
                after, "the same config.json but for the threshold");
        assertEquals(theta, RouterSet.load(model).orElseThrow().config().defaultThreshold());
        assertArrayEquals(weights, Files.readAllBytes(model.resolve("model.safetensors")));
        CliTest.Run generate = run("generate", "--model", model.toString(), "--max-tokens", "3", "--temperature", "0",
                "--json");
        assertEquals(0, generate.status(), generate.err());
    }

    @Test
    void badFlagsEndWithOneSentence(@TempDir Path dir) {
        String model = dir.resolve("never-read").toString();
        String[] base = {"calibrate", "--model", model, "--data", "toyworld"};
        assertCleanError(run(base), "exactly one of --target-ratio and --max-loss-increase");
        assertCleanError(run(concat(base, "--target-ratio", "0.5", "--max-loss-increase", "0.1")),
                "exactly one of --target-ratio and --max-loss-increase");
        assertCleanError(run(concat(base, "--target-ratio", "1.5")), "--target-ratio must be in [0, 1]");
        assertCleanError(run(concat(base, "--max-loss-increase", "-1")), "--max-loss-increase must be");
        assertCleanError(run(concat(base, "--target-ratio", "0.5", "--limit", "0")), "--limit");
        assertCleanError(run(concat(base, "--target-ratio", "0.5", "--max-tokens", "1")), "--max-tokens");
        assertCleanError(run(concat(base, "--target-ratio", "0.5", "--threads", "0")), "--threads");
        assertCleanError(run("calibrate", "--model", model, "--target-ratio", "0.5"), "--data");
        for (String[] args : new String[][] {base, concat(base, "--target-ratio", "2")}) {
            assertEquals(2, run(args).status());
        }
    }

    @Test
    void aModelWithoutRoutersIsRefused(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("plain");
        RoutedModels.writeAidreams(null, plain);
        byte[] config = Files.readAllBytes(plain.resolve("config.json"));
        CliTest.Run r = run("calibrate", "--model", plain.toString(), "--data", data.toString(), "--target-ratio", "0.8",
                "--write");
        assertCleanError(r, "The model has no routers, so there is no execution threshold θ to calibrate.");
        assertEquals(2, r.status());
        assertArrayEquals(config, Files.readAllBytes(plain.resolve("config.json")));
        assertCleanError(run("calibrate", "--model", CliTest.aidreams(), "--data", data.toString(),
                "--max-loss-increase", "0.1"), "no routers");
    }

    @Test
    void helpNamesTheHeldOutSplit() {
        CliTest.Run r = run("calibrate", "--help");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("Usage: qtale calibrate"), r.out());
        assertTrue(r.out().contains("held-out split"), r.out());
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
