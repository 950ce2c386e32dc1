package org.qtale.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.qtale.cli.CliTest.assertCleanError;
import static org.qtale.cli.CliTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.adaptive.RouterConfig;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.LlamaConfig;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;

/** qtale eval on aidreams260K: the JSON contract, the report files, routed execution, and one-sentence refusals. */
class EvalCliTest {
    private static String data(String relative) {
        return SharedData.file(relative).toString();
    }

    @Test
    void multipleChoiceAndPerplexityTasksGiveTheJsonContract(@TempDir Path dir) throws IOException {
        Path broken = dir.resolve("broken.jsonl");
        Files.writeString(broken, """
                {"query": "The robot dreamed of", "choices": ["sheep.", "stones."], "gold": 0}
                {"query": "no choices here", "gold": 0}
                {"query": "In the dream there was", "choices": ["light.", "a long night."], "gold": 1}
                """);
        Path text = dir.resolve("dream.txt");
        Files.writeString(text, "the machine dreams of numbers and light, and of the sea. ".repeat(10));
        Path out = dir.resolve("report");
        CliTest.Run r = run("eval", "--model", CliTest.aidreams(), "--task",
                "piqa=" + data("eval/commonsense_llm_adapters/piqa/test.json"), "--task", "mine=" + broken,
                "--task", "dream=" + text, "--task", "lambada=" + data("eval/mosaic_gauntlet/lambada_openai_small.jsonl"),
                "--limit", "12", "--context", "64", "--stride", "32", "--threads", "1",
                "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertTrue(json.get("model_bytes").asLong() > 900_000);
        assertTrue(json.get("threshold").isNull(), "no routers, no θ");
        assertEquals(1, json.get("skipped_rows").asInt());
        assertEquals(2, json.get("skipped_examples").get(0).get("line").asInt());
        JsonNode piqa = json.get("tasks").get(0);
        assertEquals("piqa", piqa.get("name").asText());
        assertEquals("multiple_choice", piqa.get("kind").asText());
        assertEquals(12, piqa.get("examples").asInt());
        for (String field : new String[] {"accuracy", "accuracy_stderr", "acc_norm", "acc_norm_stderr", "chance",
            "execution_ratio", "routed_execution_ratio", "flops_ratio", "tokens_per_second", "seconds"}) {
            assertTrue(piqa.get(field).isNumber(), field);
        }
        assertEquals(0.5, piqa.get("chance").asDouble(), 1e-12);
        assertEquals(1.0, piqa.get("execution_ratio").asDouble());
        JsonNode mine = json.get("tasks").get(1);
        assertEquals(2, mine.get("examples").asInt());
        assertEquals(1, mine.get("skipped").asInt());
        JsonNode dream = json.get("tasks").get(2);
        assertEquals("perplexity", dream.get("kind").asText());
        assertEquals(64, dream.get("context").asInt());
        assertEquals(32, dream.get("stride").asInt());
        assertTrue(dream.get("perplexity").asDouble() > 1 && dream.get("perplexity").asDouble() < 512);
        JsonNode lambada = json.get("tasks").get(3);
        assertEquals("completion", lambada.get("kind").asText());
        assertEquals(8, lambada.get("examples").asInt());
        assertTrue(lambada.get("accuracy").isNumber() && lambada.get("perplexity").asDouble() > 1);
        assertEquals(r.out().strip(), Files.readString(out.resolve("eval.json")).strip(), "the file is the JSON printed");
        String markdown = Files.readString(out.resolve("eval.md"));
        assertTrue(markdown.contains("| piqa | 12 | 0 |"), markdown);
        assertTrue(markdown.contains("| dream |"), markdown);
    }

    @Test
    void aRoutedModelReportsTheExecutionOfItsThreshold(@TempDir Path dir) {
        LlamaConfig c;
        try (var loaded = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            c = loaded.config();
        }
        Path model = dir.resolve("routed");
        RoutedModels.writeAidreams(RoutedModels.gaussian(c, RouterConfig.defaults(c.dim()), 7, 1f), model);
        double previous = 0;
        double previousFlops = 0;
        for (String theta : new String[] {"0.9", "0.5", "0.1"}) {
            CliTest.Run r = run("eval", "--model", model.toString(), "--task", "toy=toyworld", "--limit", "5",
                    "--threshold", theta, "--threads", "1", "--json");
            assertEquals(0, r.status(), r.err());
            JsonNode json;
            try {
                json = Json.MAPPER.readTree(r.out());
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(Double.parseDouble(theta), json.get("threshold").asDouble(), 1e-6);
            double ratio = json.get("tasks").get(0).get("routed_execution_ratio").asDouble();
            assertTrue(ratio >= previous, "a lower θ runs more layers: " + ratio + " after " + previous);
            double flops = json.get("tasks").get(0).get("flops_ratio").asDouble();
            assertTrue(flops >= previousFlops, "operations follow the layers run (the routers cost a little)");
            if (theta.equals("0.9")) {
                assertTrue(flops < 1.0, "a high θ skips layers: " + flops);
            }
            previous = ratio;
            previousFlops = flops;
        }
        assertTrue(previous > 0.5, "θ = 0.1 runs most routed layers: " + previous);
    }

    @Test
    void badInputIsOneSentence(@TempDir Path dir) {
        assertCleanError(run("eval", "--model", CliTest.aidreams(), "--task", "x=" + dir.resolve("missing.json")),
                "does not exist");
        assertCleanError(run("eval", "--model", CliTest.aidreams(), "--task", "toy=toyworld", "--threshold", "0.5"),
                "has no routers");
        assertCleanError(run("eval", "--model", CliTest.aidreams(), "--task", "toy=toyworld", "--threshold", "1.5"),
                "--threshold must be in [0, 1]");
        assertCleanError(run("eval", "--model", CliTest.aidreams(), "--task", "a=toyworld", "--task", "a=toyworld"),
                "Two tasks are named a");
        assertCleanError(run("eval", "--model", CliTest.aidreams(), "--task", "wiki=" + data(
                "corpora/wikitext-2-raw/wiki.test.raw"), "--context", "4096"), "exceeds the model's context");
    }
}
