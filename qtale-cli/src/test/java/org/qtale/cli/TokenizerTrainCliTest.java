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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.testing.SharedData;

/** {@code qtale tokenizer train}: its files, its JSON contract, and one-sentence errors that leave nothing behind. */
class TokenizerTrainCliTest {
    private static String wikiText() {
        return SharedData.file("corpora/wikitext-2-raw/wiki.test.raw").toString();
    }

    private static String c4Jsonl() {
        return SharedData.file("corpora/c4_demo/c4_demo.jsonl").toString();
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.toList();
        }
    }

    @Test
    void trainsOnTextAndJsonlAndTheTokenizerLoads(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("tok");
        CliTest.Run r = run("tokenizer", "train", "--input", wikiText(), c4Jsonl(), "--vocab-size", "1000", "--out",
                out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals(1000, json.get("vocab_size").asInt());
        assertEquals(1000 - 258, json.get("merges").asInt());
        assertTrue(json.get("input_bytes").asLong() > Files.size(Path.of(wikiText())), "both inputs were read");
        assertTrue(json.get("seconds").isNumber());
        assertEquals(out.toString(), json.get("out").asText());
        assertEquals(List.of(out), list(dir), "no staging directory left behind");
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("tokenizer_config.json")));

        CliTest.Run tokens = run("tokenize", "--tokenizer", out.resolve("tokenizer.json").toString(), "--text",
                "The tower is 300 metres tall.", "--bos", "--json");
        assertEquals(0, tokens.status(), tokens.err());
        JsonNode encoded = Json.MAPPER.readTree(tokens.out());
        assertEquals(998, encoded.get("ids").get(0).asInt(), "<|begin_of_text|> follows the learned tokens");
        assertEquals("<|begin_of_text|>", encoded.get("pieces").get(0).asText());
        assertEquals("The", encoded.get("pieces").get(1).asText(), "a frequent word is one token");
        assertTrue(encoded.get("pieces").toString().contains("\"Ġis\""), encoded.toString());
    }

    @Test
    void printsASummaryAndNotesAnEarlyStop(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("tiny.txt");
        Files.writeString(text, "abc abc abd");
        Path out = dir.resolve("tok");
        CliTest.Run r = run("tokenizer", "train", "--input", text.toString(), "--vocab-size", "300", "--out",
                out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("trained 263 tokens (5 merges)"), r.out());
        assertTrue(r.err().startsWith("note: the text ran out of pairs"), r.err());
    }

    @Test
    void overwriteWritesIntoAnExistingDirectoryAndKeepsItsFiles(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), "{}");
        String[] train = {"tokenizer", "train", "--input", c4Jsonl(), "--vocab-size", "500", "--out", model.toString()};
        assertCleanError(run(train), "--overwrite");
        assertEquals(1, list(model).size());
        CliTest.Run r = run(Stream.concat(Stream.of(train), Stream.of("--overwrite")).toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        assertEquals("{}", Files.readString(model.resolve("config.json")));
        assertEquals(3, list(model).size());
    }

    @Test
    void badInputEndsWithOneSentenceAndWritesNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("never");
        String missing = dir.resolve("absent.txt").toString();
        assertCleanError(run("tokenizer", "train", "--input", missing, "--vocab-size", "500", "--out",
                out.toString()), "not found");
        assertCleanError(run("tokenizer", "train", "--input", c4Jsonl(), "--vocab-size", "257", "--out",
                out.toString()), "between 258");
        assertCleanError(run("tokenizer", "train", "--input", c4Jsonl(), "--vocab-size", "2000000000", "--out",
                out.toString()), "1048576");
        assertCleanError(run("tokenizer", "train", "--input", c4Jsonl(), "--vocab-size", "lots", "--out",
                out.toString()), "lots");

        Path jsonl = dir.resolve("bad.jsonl");
        Files.writeString(jsonl, "{\"text\": \"fine\"}\n{\"content\": \"no text field\"}\n");
        assertCleanError(run("tokenizer", "train", "--input", jsonl.toString(), "--vocab-size", "500", "--out",
                out.toString()), "line 2 has no \"text\"");
        Files.writeString(jsonl, "{\"text\": \"fine\"}\n{not json\n");
        assertCleanError(run("tokenizer", "train", "--input", jsonl.toString(), "--vocab-size", "500", "--out",
                out.toString()), "line 2 is not valid JSON");

        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        assertCleanError(run("tokenizer", "train", "--input", empty.toString(), "--vocab-size", "500", "--out",
                out.toString()), "no text");
        Path binary = dir.resolve("binary.txt");
        Files.write(binary, new byte[] {'a', (byte) 0xFF, (byte) 0xFE, 'b'});
        assertCleanError(run("tokenizer", "train", "--input", binary.toString(), "--vocab-size", "500", "--out",
                out.toString()), "not UTF-8");
        assertCleanError(run("tokenizer", "train", "--input", c4Jsonl(), "--vocab-size", "500", "--out",
                empty.toString()), "not a directory");

        assertFalse(Files.exists(out));
        assertEquals(3, list(dir).size(), "only the inputs remain");
    }

    @Test
    void helpAndAMissingSubcommand() {
        CliTest.Run help = run("tokenizer", "train", "--help");
        assertEquals(0, help.status(), help.err());
        assertTrue(help.out().startsWith("Usage: qtale tokenizer train"), help.out());
        CliTest.Run bare = run("tokenizer");
        assertCleanError(bare, "train");
        assertTrue(bare.err().contains("Run 'qtale tokenizer --help'"), bare.err());
    }
}
