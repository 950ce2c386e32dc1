package org.qtale.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;

/** Small hand-made tokenizer.json files: the BPE rules, the pipeline options, and bad input. */
class HfTokenizerFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A byte-level vocabulary: ids 0-255 are the bytes, then "he", "ll", "hell", "Ġh", "hello", and <|end|>. */
    private static ObjectNode byteLevelTokenizer(boolean ignoreMerges) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "ByteLevel");
        pre.put("add_prefix_space", false).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model").put("type", "BPE").put("ignore_merges", ignoreMerges);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(byteChar(b), b);
        }
        // "hello" is in the vocabulary but no merge makes it: only ignore_merges can produce it
        vocab.put("he", 256).put("ll", 257).put("hell", 258).put("Ġh", 259).put("hello", 260);
        model.putArray("merges").add("h e").add("l l").add("he ll").add("Ġ h");
        root.putArray("added_tokens").addObject().put("id", 261).put("content", "<|end|>").put("special", true);
        return root;
    }

    private static String byteChar(int b) {
        return String.valueOf(ByteLevel.charOf(b));
    }

    private Path write(ObjectNode root, String name) throws IOException {
        Path path = dir.resolve(name);
        JSON.writeValue(path.toFile(), root);
        return path;
    }

    @Test
    void lowestRankMergesFirstWhateverItsPosition() throws IOException {
        HfTokenizer t = HfTokenizer.load(write(byteLevelTokenizer(false), "tokenizer.json"));
        // in " hell", (h,e) has rank 0 and beats (Ġ,h) of rank 3, so Ġh never forms
        assertArrayEquals(new int[] {258, 'o', ' ', 258}, t.encode("hello hell", false));
        assertEquals("hello hell", t.decode(t.encode("hello hell", false)));
    }

    @Test
    void ignoreMergesEmitsAPreTokenThatIsInTheVocabulary() throws IOException {
        ObjectNode root = byteLevelTokenizer(true);
        HfTokenizer t = HfTokenizer.load(write(root, "tokenizer.json"));
        assertArrayEquals(new int[] {260, ' ', 258}, t.encode("hello hell", false));
    }

    @Test
    void addedTokensAreFoundInRawTextAndDecodeToNothing() throws IOException {
        HfTokenizer t = HfTokenizer.load(write(byteLevelTokenizer(false), "tokenizer.json"));
        assertArrayEquals(new int[] {258, 261, 'o'}, t.encode("hell<|end|>o", false));
        assertArrayEquals(new int[] {258, '<', '|'}, java.util.Arrays.copyOf(t.encode("hell<|end|>o", false, false), 3));
        assertEquals("hello", t.decode(new int[] {258, 261, 'o'}));
        assertEquals(262, t.vocabSize());
        assertTrue(t.isControl(261));
    }

    @Test
    void gzipAndStreamsLoadToo() throws IOException {
        byte[] json = JSON.writeValueAsBytes(byteLevelTokenizer(false));
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(json);
        }
        Path gzFile = Files.write(dir.resolve("tokenizer.json.gz"), gz.toByteArray());
        int[] expected = {258, 'o'};
        assertArrayEquals(expected, HfTokenizer.load(gzFile).encode("hello", false));
        assertArrayEquals(expected, HfTokenizer.load(new ByteArrayInputStream(json), "mem").encode("hello", false));
        assertArrayEquals(expected, HfTokenizer.load(new ByteArrayInputStream(gz.toByteArray()), "mem.gz")
                .encode("hello", false));
    }

    @Test
    void mergesMayBeGivenAsPairs() throws IOException {
        ObjectNode root = byteLevelTokenizer(false);
        ArrayNode pairs = JSON.createArrayNode();
        root.with("model").withArray("merges").forEach(m -> {
            String[] ab = m.asText().split(" ");
            pairs.addArray().add(ab[0]).add(ab[1]);
        });
        ((ObjectNode) root.get("model")).set("merges", pairs);
        assertArrayEquals(new int[] {258, 'o'}, HfTokenizer.load(write(root, "tokenizer.json")).encode("hello", false));
    }

    @Test
    void mergesMayComeBeforeTheVocabulary() throws IOException {
        ObjectNode root = byteLevelTokenizer(false);
        ObjectNode model = (ObjectNode) root.get("model");
        ObjectNode reordered = JSON.createObjectNode().put("type", "BPE");
        reordered.set("merges", model.get("merges"));
        reordered.set("vocab", model.get("vocab"));
        root.set("model", reordered);
        assertArrayEquals(new int[] {258, 'o'}, HfTokenizer.load(write(root, "tokenizer.json")).encode("hello", false));
    }

    @Test
    void bosAndEosComeFromTheConfigBesideTheFile() throws IOException {
        ObjectNode root = byteLevelTokenizer(false);
        ArrayNode added = root.withArray("added_tokens");
        added.addObject().put("id", 262).put("content", "<start>").put("special", true);
        Path file = write(root, "tokenizer.json");
        assertEquals(-1, HfTokenizer.load(file).bos());
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), JSON.createObjectNode()
                .put("bos_token", "<start>").set("eos_token", JSON.createObjectNode().put("content", "<|end|>")));
        HfTokenizer t = HfTokenizer.load(file);
        assertEquals(262, t.bos());
        assertEquals(261, t.eos());
        assertEquals(java.util.Set.of(261), t.stopTokens());
        assertArrayEquals(new int[] {262, 258}, t.encode("hell", true));
        assertTrue(t.chatPrompt("hi").isEmpty(), "no Llama 3 header tokens here");
    }

    /** A SentencePiece-style vocabulary with the Metaspace pre-tokenizer instead of the legacy normalizer. */
    @Test
    void metaspaceFirstSchemePrependsOnlyAtTheStart() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "▁")
                .put("prepend_scheme", "first").put("split", false);
        root.putObject("decoder").put("type", "Metaspace").put("replacement", "▁").put("prepend_scheme", "first");
        ObjectNode model = root.putObject("model").put("type", "BPE").put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab").put("<unk>", 0).put("<s>", 1);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), 2 + b);
        }
        vocab.put("▁", 258).put("a", 259).put("▁a", 260);
        model.putArray("merges").add("▁ a");
        root.putArray("added_tokens").addObject().put("id", 1).put("content", "<s>").put("special", true);
        HfTokenizer t = HfTokenizer.load(write(root, "tokenizer.json"));
        assertArrayEquals(new int[] {260, 260, 1, 259, 2 + 'b'}, t.encode("a a<s>ab", false));
        assertEquals("a ab", t.decode(t.encode("a ab", false)));
    }

    // ---- bad input ----

    private QtaleException failure(Path path) {
        return assertThrows(QtaleException.class, () -> HfTokenizer.load(path));
    }

    private static void assertMessage(QtaleException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should mention " + part);
        }
        assertTrue(e.getMessage().endsWith("."), "one sentence: " + e.getMessage());
    }

    @Test
    void missingFile() {
        assertMessage(failure(dir.resolve("absent.json")), "not found", "absent.json");
    }

    @Test
    void invalidJson() throws IOException {
        Path bad = Files.writeString(dir.resolve("broken.json"), "{\"model\": {\"type\": \"BPE\", ");
        assertMessage(failure(bad), "broken.json", "not valid JSON");
        assertMessage(failure(Files.writeString(dir.resolve("array.json"), "[1, 2]")), "array.json", "JSON object");
        Path gz = Files.write(dir.resolve("corrupt.json.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3});
        assertMessage(failure(gz), "corrupt.json.gz");
    }

    @Test
    void unsupportedModels() throws IOException {
        ObjectNode wordPiece = JSON.createObjectNode();
        wordPiece.putObject("model").put("type", "WordPiece").putObject("vocab").put("[UNK]", 0);
        assertMessage(failure(write(wordPiece, "bert.json")), "bert.json", "WordPiece", "does not support");
        ObjectNode unigram = JSON.createObjectNode();
        unigram.putObject("model").put("type", "Unigram").putArray("vocab").addArray().add("<unk>").add(0.0);
        assertMessage(failure(write(unigram, "t5.json")), "t5.json", "Unigram", "does not support");
    }

    @Test
    void unsupportedPipelineStepsAndBrokenModels() throws IOException {
        ObjectNode bert = byteLevelTokenizer(false);
        bert.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        assertMessage(failure(write(bert, "bert-pre.json")), "bert-pre.json", "BertPreTokenizer");
        ObjectNode badMerge = byteLevelTokenizer(false);
        badMerge.with("model").withArray("merges").add("x yz");
        assertMessage(failure(write(badMerge, "merge.json")), "merge.json", "merge 4");
        ObjectNode hugeId = byteLevelTokenizer(false);
        hugeId.withArray("added_tokens").addObject().put("id", 2_000_000_000).put("content", "<big>");
        assertMessage(failure(write(hugeId, "huge.json")), "huge.json", "2000000000");
        ObjectNode noVocab = JSON.createObjectNode();
        noVocab.putObject("model").put("type", "BPE").putArray("merges");
        assertMessage(failure(write(noVocab, "empty.json")), "empty.json", "vocab");
    }
}
