package org.qtale.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.testing.SharedData;

/** The command line end to end, in process: results, JSON contracts and one-sentence errors. */
class CliTest {
    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(status, out.toString(), err.toString());
    }

    static String aidreams() {
        return SharedData.file("models/aidreams260K/aidreams260K.bin").toString();
    }

    /** An error is one line starting with "error:" (plus a hint for option errors), never a stack trace. */
    static void assertCleanError(Run r, String expectedFragment) {
        assertTrue(r.status() != 0, "non-zero exit status");
        assertTrue(r.err().startsWith("error: "), r.err());
        assertTrue(r.err().contains(expectedFragment), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(r.err().lines().count() <= 2, r.err());
    }

    @Test
    void greedyJsonGenerationReproducesLlama2cIds() throws IOException {
        Run r = run("generate", "--model", aidreams(), "--temperature", "0", "--max-tokens", "16", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        int[] tokens = new int[json.get("tokens").size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = json.get("tokens").get(i).asInt();
        }
        int[] golden = {319, 459, 355, 260, 275, 429, 339, 315, 374, 327, 446, 262, 421, 392, 275, 280};
        assertEquals(Arrays.toString(golden), Arrays.toString(tokens));
        for (String field : new String[] {"text", "prompt_tokens", "generated_tokens", "prefill_tokens_per_s",
            "decode_tokens_per_s"}) {
            assertTrue(json.has(field), field);
        }
        assertEquals(1, json.get("prompt_tokens").asInt());
        assertEquals(16, json.get("generated_tokens").asInt());
        assertTrue(json.get("text").asText().startsWith("\"Echoes of vectors unfold"));
    }

    @Test
    void streamsTextAndSummarizesOnStderr() {
        Run r = run("generate", "--model", aidreams(), "--temperature", "0", "--max-tokens", "8", "--threads", "1");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("\"Echoes of vect"), r.out());
        assertTrue(r.err().contains("prompt tokens: 1, generated tokens: 8"), r.err());
    }

    @Test
    void sameSeedSameSample() {
        String[] args = {"generate", "--model", aidreams(), "--prompt", "The", "--max-tokens", "20", "--seed", "7", "--json"};
        assertEquals(run(args).out().replaceAll("\"(prefill|decode)_tokens_per_s\" : [0-9.E-]+", ""),
                run(args).out().replaceAll("\"(prefill|decode)_tokens_per_s\" : [0-9.E-]+", ""));
    }

    @Test
    void tokenizeMatchesLlama2cTestCase() {
        Run r = run("tokenize", "--tokenizer", SharedData.file("models/llama2c/tokenizer.bin").toString(), "--text",
                "I believe the meaning of life is", "--bos");
        assertEquals(0, r.status(), r.err());
        assertEquals("1 306 4658 278 6593 310 2834 338", r.out().trim());
    }

    @Test
    void tokenizeWithTheLlama3TokenizerJson() {
        Run r = run("tokenize", "--tokenizer", SharedData.file("tokenizers/llama3-npm-lenml/tokenizer.json.gz").toString(),
                "--text", "Hello world", "--bos");
        assertEquals(0, r.status(), r.err());
        assertEquals("128000 9906 1917", r.out().trim()); // llama.cpp's llama-bpe vector for "Hello world", BOS first
    }

    @Test
    void infoDescribesTheModel() throws IOException {
        Run r = run("info", "--model", aidreams(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals(64, json.get("dim").asInt());
        assertEquals(4, json.get("layers").asInt());
        assertEquals(512, json.get("vocab_size").asInt());
        assertEquals(4L * 2 * 64 * 4, json.get("kv_bytes_per_token").asLong());
        assertEquals(json.get("parameters").asLong() * 4, json.get("weight_bytes").asLong());
        assertEquals(json.get("parameters").asLong(), json.get("dtypes").get("F32").asLong());
        assertEquals(json.get("weight_bytes").asLong(), json.get("dtype_bytes").get("F32").asLong());
    }

    @Test
    void convertedDirectoryGeneratesAndTokenizesLikeTheCheckpoint(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("aidreams-hf");
        Run convert = run("convert", "--from", aidreams(), "--to", out.toString());
        assertEquals(0, convert.status(), convert.err());
        for (String file : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file);
        }
        String[] generate = {"generate", "--temperature", "0", "--max-tokens", "24", "--prompt", "Echoes of", "--json"};
        JsonNode fromBin = Json.MAPPER.readTree(run(concat(generate, "--model", aidreams())).out());
        JsonNode fromDir = Json.MAPPER.readTree(run(concat(generate, "--model", out.toString())).out());
        assertEquals(fromBin.get("tokens"), fromDir.get("tokens"));
        assertEquals(fromBin.get("text"), fromDir.get("text"));
        String text = "Contrast edges sharpen, a gentle hum";
        assertEquals(run("tokenize", "--model", aidreams(), "--text", text).out(),
                run("tokenize", "--model", out.toString(), "--text", text).out());
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(1, left.count(), "no staging directory left behind");
        }
    }

    @Test
    void convertRefusesToOverwriteAndLeavesNothingHalfWritten(@TempDir Path dir) throws IOException {
        Path existing = dir.resolve("existing");
        Files.createDirectories(existing);
        Files.writeString(existing.resolve("keep.txt"), "mine");
        assertCleanError(run("convert", "--from", aidreams(), "--to", existing.toString()), "--overwrite");
        assertEquals("mine", Files.readString(existing.resolve("keep.txt")));

        byte[] full = Files.readAllBytes(Path.of(aidreams()));
        Path truncated = dir.resolve("broken.bin");
        Files.write(truncated, Arrays.copyOf(full, full.length - 1000));
        Path target = dir.resolve("never");
        assertCleanError(run("convert", "--from", truncated.toString(), "--tokenizer",
                SharedData.file("models/aidreams260K/tok512.bin").toString(), "--to", target.toString()), "truncated");
        assertFalse(Files.exists(target));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(2, left.count(), "only the two inputs remain");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** The benchmark's JSON contract on the smallest shape (speed itself is never asserted). */
    @Test
    void generateWithRoutersReportsWhatTheThresholdSaved(@TempDir Path dir) throws IOException {
        Path routed = dir.resolve("routed");
        try (org.qtale.model.LlamaModel model = org.qtale.format.Llama2cCheckpoint.load(Path.of(aidreams()))) {
            org.qtale.adaptive.RouterSet routers = org.qtale.adaptive.RouterSet.initial(model.config(),
                    org.qtale.adaptive.RouterConfig.defaults(model.config().dim()));
            org.qtale.format.HfCheckpointWriter.write(model, routed,
                    org.qtale.format.HfCheckpointWriter.Options.of(org.qtale.tensor.DType.F32)
                            .withExtraTensors(routers.tensors()).withExtraConfig(routers.configBlock()));
        }
        org.qtale.tokenizer.HfTokenizerWriter.write(org.qtale.tokenizer.Llama2cTokenizer.load(
                SharedData.file("models/aidreams260K/tok512.bin"), 512), routed);
        String[] base = {"generate", "--model", routed.toString(), "--temperature", "0", "--max-tokens", "8", "--json"};
        JsonNode argmax = Json.MAPPER.readTree(run(concat(base, "--threshold", "0.5")).out());
        assertEquals(1.0, argmax.get("execution_ratio").asDouble(), 1e-12, "initial routers: p_exec 0.87 >= 0.5");
        assertEquals(1.0, argmax.get("flops_ratio").asDouble(), 0.05, "routers cost a little");
        Run skipRun = run(concat(base, "--threshold", "1"));
        assertEquals(0, skipRun.status(), skipRun.err());
        JsonNode skip = Json.MAPPER.readTree(skipRun.out());
        assertTrue(skip.get("execution_ratio").asDouble() < 0.7, skipRun.out());
        assertTrue(skip.get("flops_ratio").asDouble() < 0.7, skipRun.out());
        assertTrue(skip.get("kv_saved_ratio").asDouble() > 0.3, skipRun.out());
        JsonNode dense = Json.MAPPER.readTree(run("generate", "--model", aidreams(), "--temperature", "0",
                "--max-tokens", "4", "--json").out());
        assertEquals(1.0, dense.get("execution_ratio").asDouble());
        assertEquals(0.0, dense.get("kv_saved_ratio").asDouble());
        assertCleanError(run(concat(base, "--threshold", "2")), "--threshold");
        assertEquals(skip.get("prompt_tokens").asInt() + 7, skip.get("layers_per_token").size(),
                "every token that went through the model (the last sampled one did not)");
        assertEquals(2, skip.get("layers_per_token").get(5).asInt(), "past the reserved positions only layers 0 and 1");
        Run shown = run("generate", "--model", routed.toString(), "--temperature", "0", "--max-tokens", "4",
                "--threshold", "1", "--show-layers");
        assertEquals(0, shown.status(), shown.err());
        int layers = argmax.get("layers_per_token").get(0).asInt();
        assertTrue(shown.out().contains("layers run per generated token (of " + layers + "):"), shown.out());
        assertTrue(shown.out().contains(":2"), shown.out());
    }

    /** The quantization benchmark's JSON contract on the tiny shape (4 layers); its times are never asserted. */
    @Test
    void quantizeBenchTimesEveryLayer(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("quantize.json");
        Run r = run("bench", "quantize", "--shape", "tiny", "--method", "gptq", "--bits", "4", "--group-size", "64",
                "--calib-samples", "2", "--calib-len", "32", "--threads", "1", "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals(json, Json.MAPPER.readTree(out.toFile()));
        assertEquals("gptq", json.get("method").asText());
        assertEquals(4, json.get("layers").size());
        for (JsonNode layer : json.get("layers")) {
            assertTrue(layer.get("seconds").asDouble() > 0);
            double error = layer.get("worst_relative_error").asDouble();
            assertTrue(error > 0 && error < 0.1, "4-bit GPTQ error " + error);
        }
        assertTrue(json.get("seconds").asDouble() > 0);
        assertEquals(4, json.get("layers_quantized").asInt());
        Run two = run("bench", "quantize", "--shape", "tiny", "--method", "rtn", "--calib-samples", "1", "--calib-len", "8",
                "--group-size", "64", "--threads", "1", "--layers", "2", "--out", dir.resolve("two.json").toString(),
                "--json");
        assertEquals(0, two.status(), two.err());
        assertEquals(2, Json.MAPPER.readTree(two.out()).get("layers").size());
        assertCleanError(run("bench", "quantize", "--shape", "tiny", "--bits", "5"), "--bits");
        assertCleanError(run("bench", "quantize", "--shape", "tiny", "--method", "best"), "best");
    }

    @Test
    void benchWritesItsJsonReport(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("bench.json");
        Run r = run("bench", "--shape", "tiny", "--dtype", "f32,bf16,q4", "--prompt", "8", "--gen", "4", "--threads", "1",
                "--bandwidth-mib", "16", "--batch", "4", "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals(json, Json.MAPPER.readTree(out.toFile()));
        assertEquals(3, json.get("results").size());
        JsonNode q4 = json.get("results").get(2);
        assertEquals("q4", q4.get("dtype").asText());
        assertTrue(q4.get("bytes_per_token").asDouble() < json.get("results").get(1).get("bytes_per_token").asDouble(),
                "4-bit projections read fewer bytes than BF16 ones");
        for (JsonNode row : json.get("results")) {
            for (String field : new String[] {"prefill_tokens_per_s", "decode_tokens_per_s", "bytes_per_token",
                "effective_gb_per_s", "measured_bandwidth_gb_per_s", "fraction_of_bandwidth_bound",
                "decode_ratio_vs_baseline"}) {
                assertTrue(row.get(field).isNumber(), field);
            }
            assertTrue(row.get("decode_tokens_per_s").asDouble() > 0);
        }
        Path routed = dir.resolve("routed.json");
        Run r2 = run("bench", "--shape", "tiny", "--dtype", "f32", "--prompt", "8", "--gen", "4", "--threads", "1",
                "--bandwidth-mib", "16", "--batch", "4", "--execution-ratio", "0.5", "--out", routed.toString(), "--json");
        assertEquals(0, r2.status(), r2.err());
        JsonNode rows = Json.MAPPER.readTree(r2.out()).get("results");
        assertEquals(2, rows.size());
        JsonNode half = rows.get(1);
        assertEquals(0.5, half.get("execution_ratio").asDouble());
        assertTrue(half.get("predicted_decode_speedup").asDouble() > 1.2, half.toString());
        for (String field : new String[] {"decode_speedup_vs_dense", "prefill_speedup_vs_dense", "decode_speedup_of_predicted"}) {
            assertTrue(half.get(field).asDouble() > 0, field);
        }
        assertCleanError(run("bench", "--shape", "tiny", "--execution-ratio", "1.5"), "--execution-ratio");
        // the tiny shape: 4 layers of dim 256; its norm vectors (2 per layer and a final one) stay float32
        long normBytes = 4L * (2 * 4 + 1) * 256;
        long f32 = json.get("results").get(0).get("bytes_per_token").asLong();
        long bf16 = json.get("results").get(1).get("bytes_per_token").asLong();
        assertEquals(f32 - normBytes, 2 * (bf16 - normBytes), "BF16 reads half the matrix bytes of F32");
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"generate", "tokenize", "info", "convert", "bench"}) {
            Run r = run(command, "--help");
            assertEquals(0, r.status(), command + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: qtale " + command), r.out());
        }
    }

    @Test
    void missingModelFile(@TempDir Path dir) {
        assertCleanError(run("generate", "--model", dir.resolve("absent.bin").toString()), "No model found");
    }

    @Test
    void wrongMagicOrGarbageHeader(@TempDir Path dir) throws IOException {
        Path garbage = dir.resolve("garbage.bin");
        Files.writeString(garbage, "this is certainly not a model checkpoint, just some text");
        assertCleanError(run("generate", "--model", garbage.toString()), "not start with a valid llama2.c header");
        Path export = dir.resolve("v1.bin");
        ByteBuffer header = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN).putInt(0x616b3432).putInt(1);
        Files.write(export, header.array());
        assertCleanError(run("info", "--model", export.toString()), "version 1");
    }

    @Test
    void truncatedTensorData(@TempDir Path dir) throws IOException {
        byte[] full = Files.readAllBytes(Path.of(aidreams()));
        Path truncated = dir.resolve("aidreams260K.bin");
        Files.write(truncated, Arrays.copyOf(full, full.length / 2));
        Files.copy(SharedData.file("models/aidreams260K/tok512.bin"), dir.resolve("tok512.bin"));
        assertCleanError(run("generate", "--model", truncated.toString()), "truncated");
    }

    @Test
    void missingTokenizer(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("model.bin");
        Files.copy(Path.of(aidreams()), model);
        assertCleanError(run("generate", "--model", model.toString()), "--tokenizer");
    }

    @Test
    void chatNeedsChatTokens() {
        assertCleanError(run("generate", "--model", aidreams(), "--chat", "--prompt", "hi"), "--chat");
    }

    @Test
    void unsupportedArchitectureAndDtypeInAModelDirectory(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("m");
        assertEquals(0, run("convert", "--from", aidreams(), "--to", model.toString()).status());
        Path config = model.resolve("config.json");
        String original = Files.readString(config);
        Files.writeString(config, original.replace("LlamaForCausalLM", "GPT2LMHeadModel"));
        assertCleanError(run("info", "--model", model.toString()), "GPT2LMHeadModel");
        Files.writeString(config, original.replace("\"hidden_size\" : 64", "\"hidden_size\" : 96")
                .replace("\"hidden_size\":64", "\"hidden_size\":96"));
        assertCleanError(run("info", "--model", model.toString()), "shape");
        Files.writeString(config, original);
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
        String header = new String(weights, 8, 200, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = header.indexOf("\"F32\"");
        weights[8 + at + 1] = 'I';
        weights[8 + at + 2] = '6';
        weights[8 + at + 3] = '4';
        Files.write(model.resolve("model.safetensors"), weights);
        assertCleanError(run("info", "--model", model.toString()), "I64");
    }

    @Test
    void promptLongerThanTheContext() {
        String prompt = "Echoes of vectors unfold ".repeat(60);
        assertCleanError(run("generate", "--model", aidreams(), "--prompt", prompt), "context");
    }

    @Test
    void outOfRangeOptions() {
        assertCleanError(run("generate", "--model", aidreams(), "--top-p", "1.5"), "--top-p");
        assertCleanError(run("generate", "--model", aidreams(), "--temperature", "-1"), "--temperature");
        assertCleanError(run("generate", "--model", aidreams(), "--max-tokens", "-3"), "--max-tokens");
        assertCleanError(run("generate", "--model", aidreams(), "--threads", "0"), "--threads");
        assertCleanError(run("generate", "--model", aidreams(), "--top-k", "-1"), "--top-k");
        assertCleanError(run("generate", "--model", aidreams(), "--max-tokens", "many"), "many");
        assertCleanError(run("bench", "--dtype", "int7"), "int7");
        assertCleanError(run("bench", "--shape", "llama-9000"), "llama-9000");
    }
}
