package org.qtale.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.qtale.cli.CliTest.assertCleanError;
import static org.qtale.cli.CliTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pretrain and bench train from the command line: outputs, JSON contracts, bad input. */
class TrainCliTest {
    private static final String SMALL_CORPUS = "toyworld:seed=3,docs=400,heldout=40";

    @Test
    void pretrainWritesALoadableModelWithItsLossCurve(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("model");
        CliTest.Run r = run("pretrain", "--corpus", SMALL_CORPUS, "--shape", "tiny", "--steps", "6", "--batch", "2",
                "--seq-len", "32", "--vocab-size", "300", "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        for (String field : new String[] {"first_loss", "final_loss", "held_out_loss", "held_out_perplexity",
            "tokens_per_s", "mc_accuracy", "mc_chance"}) {
            assertTrue(json.get(field).isNumber(), field);
        }
        assertTrue(json.get("final_loss").asDouble() < json.get("first_loss").asDouble(), r.out());
        assertEquals(300, json.get("vocab_size").asInt());
        for (String file : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "training.json", "loss.png"}) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file);
        }
        byte[] png = Files.readAllBytes(out.resolve("loss.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        CliTest.Run generated = run("generate", "--model", out.toString(), "--prompt", "the fox", "--max-tokens", "5",
                "--temperature", "0", "--json");
        assertEquals(0, generated.status(), generated.err());
        assertEquals(5, Json.MAPPER.readTree(generated.out()).get("generated_tokens").asInt());
    }

    @Test
    void pretrainRefusesBadInputAndLeavesAnExistingDirectoryAlone(@TempDir Path dir) throws IOException {
        assertCleanError(run("pretrain", "--corpus", SMALL_CORPUS, "--steps", "0", "--out", dir.resolve("a").toString()),
                "--steps");
        assertCleanError(run("pretrain", "--corpus", SMALL_CORPUS, "--shape", "huge", "--steps", "1", "--out",
                dir.resolve("a").toString()), "Unknown training shape");
        assertCleanError(run("pretrain", "--corpus", dir.resolve("missing.txt").toString(), "--steps", "1", "--out",
                dir.resolve("a").toString()), "not found");
        assertCleanError(run("pretrain", "--corpus", SMALL_CORPUS, "--steps", "1", "--seq-len", "4096", "--out",
                dir.resolve("a").toString()), "context");
        assertFalse(Files.exists(dir.resolve("a")), "nothing written");
        Path existing = Files.createDirectories(dir.resolve("existing"));
        Files.writeString(existing.resolve("keep.txt"), "mine");
        assertCleanError(run("pretrain", "--corpus", SMALL_CORPUS, "--steps", "1", "--out", existing.toString()),
                "not empty");
        assertEquals("mine", Files.readString(existing.resolve("keep.txt")));
    }

    @Test
    void aGivenTokenizerFileIsCopiedAndACheckpointNeverReplacesForeignFiles(@TempDir Path dir) throws IOException {
        Path first = dir.resolve("first");
        assertEquals(0, run("pretrain", "--corpus", SMALL_CORPUS, "--steps", "2", "--batch", "2", "--seq-len", "16",
                "--vocab-size", "300", "--out", first.toString()).status());
        Path tokenizer = Files.createDirectories(dir.resolve("tok")).resolve("my-tokenizer.json");
        Files.copy(first.resolve("tokenizer.json"), tokenizer);
        Path second = dir.resolve("second");
        CliTest.Run r = run("pretrain", "--corpus", SMALL_CORPUS, "--steps", "2", "--batch", "2", "--seq-len", "16",
                "--tokenizer", tokenizer.toString(), "--checkpoint", dir.resolve("ckpt").toString(),
                "--checkpoint-every", "1", "--out", second.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        assertEquals(Files.readString(tokenizer), Files.readString(second.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(dir.resolve("ckpt").resolve("training_state.json")));
        CliTest.Run generated = run("generate", "--model", second.toString(), "--max-tokens", "2", "--temperature", "0");
        assertEquals(0, generated.status(), generated.err());

        Path foreign = Files.createDirectories(dir.resolve("foreign"));
        Files.writeString(foreign.resolve("notes.txt"), "keep me");
        assertCleanError(run("pretrain", "--corpus", SMALL_CORPUS, "--steps", "2", "--checkpoint", foreign.toString(),
                "--out", dir.resolve("third").toString()), "no training checkpoint");
        assertEquals("keep me", Files.readString(foreign.resolve("notes.txt")));
        assertFalse(Files.exists(dir.resolve("third")));
    }

    @Test
    void benchTrainReportsStepAndKernelRates(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("train.json");
        CliTest.Run r = run("bench", "train", "--shape", "tiny", "--steps", "1", "--batch", "2", "--seq-len", "16",
                "--vocab", "300", "--threads", "1", "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals(json, Json.MAPPER.readTree(out.toFile()));
        for (String field : new String[] {"tokens_per_s", "step_gflops", "kernel_gflops", "step_vs_kernel"}) {
            assertTrue(json.get(field).asDouble() > 0, field);
        }
    }

    @Test
    void demoCachesItsModelAndGivesTheSameNumbersTwice(@TempDir Path dir) throws IOException {
        String[] args = {"demo", "--steps", "4", "--finetune-docs", "40", "--calib-samples", "2", "--questions", "12",
            "--cache", dir.toString(), "--json"};
        CliTest.Run first = run(args);
        assertEquals(0, first.status(), first.err());
        JsonNode a = Json.MAPPER.readTree(first.out());
        assertFalse(a.get("cached").asBoolean());
        for (String field : new String[] {"mc_accuracy", "mc_accuracy_stderr", "mc_chance"}) {
            assertTrue(a.get(field).isNumber(), field);
        }
        assertEquals(7, a.get("mc_families").size());
        assertTrue(a.get("sample").isTextual());
        assertTrue(Files.isRegularFile(Path.of(a.get("loss_chart").asText())));
        JsonNode comparison = a.get("comparison");
        assertEquals(15, comparison.size(), "dense FP; D-LLM and QTALE at θ 0.5 and calibrated; and per bits the dense "
                + "AWQ model and both routed ones at θ 0.5 and calibrated");
        for (JsonNode row : comparison) {
            for (String field : new String[] {"execution_ratio", "flops_ratio", "accuracy", "accuracy_stderr"}) {
                assertTrue(row.get(field).isNumber(), row + " " + field);
            }
            boolean routedQuantized = !row.get("method").asText().equals("fp") && !row.get("weights").asText().equals("fp");
            assertEquals(routedQuantized, row.has("gap_to_quantization_only"), row.toString());
        }
        assertTrue(Files.isRegularFile(Path.of(a.get("report").asText())));
        assertTrue(Files.isRegularFile(Path.of(a.get("chart").asText())));
        assertTrue(a.get("sample_layers_per_token").size() > 0);
        assertEquals(4, a.get("chart_lines").size(), "D-LLM and QTALE at 4 and 3 bits");
        assertEquals(5, a.get("chart_lines").get(0).get("accuracies").size());
        CliTest.Run second = run(args);
        assertEquals(0, second.status(), second.err());
        JsonNode b = Json.MAPPER.readTree(second.out());
        assertTrue(b.get("cached").asBoolean());
        assertEquals(a.get("mc_accuracy").asDouble(), b.get("mc_accuracy").asDouble(), "same model, same score");
        assertEquals(a.get("sample").asText(), b.get("sample").asText());
        assertEquals(comparison, b.get("comparison"), "same models, same table");
        assertEquals(a.get("model").asText(), b.get("model").asText());
    }
}
