package org.qtale.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.format.TokenizerFiles;
import org.qtale.testing.SharedData;
import org.qtale.tokenizer.HfTokenizer;
import org.qtale.tokenizer.Tokenizer;

/** The written tokenizer.json and tokenizer_config.json load in the engine and round-trip any text. */
class BpeTokenizerFilesTest {
    private static final List<String> TEXTS = List.of("", "Hello, world!", " leading and trailing spaces  ",
            "naïve café, Straße, Ελληνικά, русский", "日本語のテキストと中文", "emoji 🚀 and a family 👩‍👩‍👧 ok",
            "tabs\tand\r\nWindows lines\n\n\nthree newlines", "numbers 1234567 and 3.14159", "it's they'LL WE'VE",
            "\u00a0non-breaking\u3000ideographic space", "control \u0001\u007f bytes", "= = Heading = =");

    private static TrainedBpe bpe;

    @BeforeAll
    static void train() throws IOException {
        String text = Files.readString(SharedData.file("corpora/wikitext-2-raw/wiki.test.raw"));
        bpe = new BpeTrainer(1200).train(List.of(text.substring(0, 300_000)));
    }

    @Test
    void writtenFilesLoadThroughTokenizerFilesAndRoundTrip(@TempDir Path dir) {
        bpe.write(dir);
        Tokenizer tokenizer = TokenizerFiles.openFile(dir, -1);
        assertEquals(1200, tokenizer.vocabSize());
        assertEquals(bpe.bos(), tokenizer.bos());
        assertEquals(bpe.eos(), tokenizer.eos());
        assertEquals(BpeTrainer.BEGIN_OF_TEXT, tokenizer.piece(tokenizer.bos()));
        for (String text : TEXTS) {
            int[] ids = tokenizer.encode(text, true);
            assertEquals(bpe.bos(), ids[0]);
            assertEquals(text, tokenizer.decode(ids), "round trip of " + text);
        }
        assertEquals(TokenizerFiles.openFile(dir.resolve(TrainedBpe.TOKENIZER_FILE), -1).vocabSize(), 1200);
    }

    @Test
    void randomTextRoundTrips() {
        HfTokenizer tokenizer = bpe.tokenizer();
        Random random = new Random(42);
        for (int n = 0; n < 300; n++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(40); i > 0; i--) {
                int cp = switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(0x80);
                    case 1 -> 0x80 + random.nextInt(0x800 - 0x80);
                    case 2 -> 0x800 + random.nextInt(0xD800 - 0x800);
                    default -> 0x1F300 + random.nextInt(0x400);
                };
                text.appendCodePoint(cp);
            }
            String s = text.toString();
            assertEquals(s, tokenizer.decode(tokenizer.encode(s, false, false)), "round trip of " + s.codePoints()
                    .mapToObj(Integer::toHexString).toList());
        }
    }

    @Test
    void inMemoryTokenizerMatchesTheWrittenOne(@TempDir Path dir) {
        bpe.write(dir);
        Tokenizer fromFile = TokenizerFiles.openFile(dir, -1);
        HfTokenizer inMemory = bpe.tokenizer();
        for (String text : TEXTS) {
            assertArrayEquals(fromFile.encode(text, true), inMemory.encode(text, true), text);
        }
    }

    @Test
    void filesHaveTheLlama3Layout(@TempDir Path dir) throws IOException {
        bpe.write(dir);
        ObjectMapper json = new ObjectMapper();
        JsonNode root = json.readTree(dir.resolve(TrainedBpe.TOKENIZER_FILE).toFile());
        JsonNode model = root.get("model");
        assertEquals("BPE", model.get("type").asText());
        assertEquals(false, model.get("ignore_merges").asBoolean(true));
        assertEquals(false, model.get("byte_fallback").asBoolean(true));
        assertEquals(1200 - 2, model.get("vocab").size());
        assertEquals(bpe.mergeCount(), model.get("merges").size());
        JsonNode steps = root.get("pre_tokenizer").get("pretokenizers");
        assertEquals("Split", steps.get(0).get("type").asText());
        assertEquals(TextSplitter.LLAMA3_PATTERN, steps.get(0).get("pattern").get("Regex").asText());
        assertEquals("Isolated", steps.get(0).get("behavior").asText());
        assertEquals("ByteLevel", steps.get(1).get("type").asText());
        assertEquals(false, steps.get(1).get("use_regex").asBoolean(true));
        assertEquals("ByteLevel", root.get("decoder").get("type").asText());
        JsonNode template = root.get("post_processor").get("processors").get(1);
        assertEquals(bpe.bos(), template.get("special_tokens").get(BpeTrainer.BEGIN_OF_TEXT).get("ids").get(0).asInt());
        assertEquals(BpeTrainer.END_OF_TEXT, root.get("added_tokens").get(1).get("content").asText());
        assertEquals(bpe.eos(), root.get("added_tokens").get(1).get("id").asInt());
        JsonNode config = json.readTree(dir.resolve(TrainedBpe.CONFIG_FILE).toFile());
        assertEquals(BpeTrainer.BEGIN_OF_TEXT, config.get("bos_token").asText());
        assertEquals(BpeTrainer.END_OF_TEXT, config.get("eos_token").asText());
    }

    @Test
    void writingIntoAModelDirectoryKeepsItsOtherFiles(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.writeString(dir.resolve(TrainedBpe.TOKENIZER_FILE), "an older tokenizer");
        bpe.write(dir);
        bpe.write(dir);
        assertEquals("{}", Files.readString(dir.resolve("config.json")));
        assertTrue(Files.readString(dir.resolve(TrainedBpe.TOKENIZER_FILE)).contains("\"BPE\""));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(3, files.count(), "no temporary files left behind");
        }
    }
}
