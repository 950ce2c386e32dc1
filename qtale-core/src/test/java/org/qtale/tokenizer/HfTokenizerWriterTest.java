package org.qtale.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.testing.SharedData;

/** A tokenizer.json written from a llama2.c tokenizer.bin must encode exactly as llama2.c does. */
class HfTokenizerWriterTest {
    private static final List<String> SENTENCES = List.of(
            "Echoes of vectors unfold, a gentle hum of precision.",
            "I believe the meaning of life is",
            "  two leading spaces, then\ttabs\tand\nnewlines\n\n",
            "Ünïcödé, ελληνικά, 日本語 and 🦙 emoji",
            "<s> is not special in llama2.c text but </s> stays text too");

    @TempDir
    Path dir;

    private HfTokenizer writeAndLoad(Llama2cTokenizer source) {
        HfTokenizerWriter.write(source, dir);
        return HfTokenizer.load(dir.resolve(HfTokenizerWriter.TOKENIZER_FILE));
    }

    private static List<Llama2cTokenizerTest.TestVector> spmVectors() throws IOException {
        return Llama2cTokenizerTest.vectors("tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf.inp",
                "tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf.out");
    }

    @Test
    void llama2VocabularyEncodesEveryTestVectorLikeLlama2c() throws IOException {
        Llama2cTokenizer bin = Llama2cTokenizer.load(SharedData.file("models/llama2c/tokenizer.bin"), 32000);
        HfTokenizer json = writeAndLoad(bin);
        List<Llama2cTokenizerTest.TestVector> vectors = spmVectors();
        assertEquals(46, vectors.size());
        for (Llama2cTokenizerTest.TestVector v : vectors) {
            assertArrayEquals(v.ids(), json.encode(v.text(), false), "ids of '" + v.text() + "'");
            assertArrayEquals(bin.encode(v.text(), true), json.encode(v.text(), true), "with BOS: '" + v.text() + "'");
            int[] withBos = json.encode(v.text(), true);
            assertEquals(bin.decode(withBos), json.decode(withBos), "decoding of '" + v.text() + "'");
        }
        assertEquals(1, json.bos());
        assertEquals(2, json.eos());
        assertEquals(32000, json.vocabSize());
    }

    @Test
    void tinyVocabularyEncodesLikeLlama2c() throws IOException {
        Llama2cTokenizer bin = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), -1);
        HfTokenizer json = writeAndLoad(bin);
        List<String> texts = new ArrayList<>(SENTENCES);
        spmVectors().forEach(v -> texts.add(v.text()));
        for (String text : texts) {
            if (text.contains("<s>")) {
                continue; // the HF tokenizer treats <s> in text as the control token; llama2.c does not
            }
            int[] ids = bin.encode(text, true);
            assertArrayEquals(ids, json.encode(text, true), "ids of '" + text + "'");
            assertEquals(bin.decode(ids), json.decode(ids), "decoding of '" + text + "'");
        }
    }

    /** Beyond the test vectors: a few hundred lines of Wikipedia text, cut into sentence-sized pieces. */
    @Test
    void llama2VocabularyAgreesOnWikipediaText() throws IOException {
        Llama2cTokenizer bin = Llama2cTokenizer.load(SharedData.file("models/llama2c/tokenizer.bin"), 32000);
        HfTokenizer json = writeAndLoad(bin);
        String text = Files.readString(SharedData.file("corpora/wiki_demo/wiki_demo.txt"), StandardCharsets.UTF_8);
        int checked = 0;
        for (int start = 0; start + 200 <= text.length() && checked < 250; start += 4001, checked++) {
            String chunk = text.substring(start, start + 200);
            assertArrayEquals(bin.encode(chunk, true), json.encode(chunk, true), "ids of '" + chunk + "'");
        }
        assertEquals(250, checked);
    }

    @Test
    void writesAValidLlama2StyleFileAndNoTemporaryFiles() throws IOException {
        Llama2cTokenizer bin = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), -1);
        HfTokenizerWriter.write(bin, dir);
        HfTokenizerWriter.write(bin, dir); // overwriting works
        JsonNode root = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile());
        JsonNode model = root.get("model");
        assertEquals("BPE", model.get("type").asText());
        assertTrue(model.get("byte_fallback").asBoolean());
        assertTrue(model.get("fuse_unk").asBoolean());
        assertEquals("<unk>", model.get("unk_token").asText());
        assertEquals(512, model.get("vocab").size());
        assertEquals(0, model.get("vocab").get("<unk>").asInt());
        assertEquals(13, model.get("vocab").get("<0x0A>").asInt());
        assertEquals(3, root.get("added_tokens").size());
        assertEquals("</s>", root.get("added_tokens").get(2).get("content").asText());
        assertTrue(model.get("merges").size() > 0);
        JsonNode config = new ObjectMapper().readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals("<s>", config.get("bos_token").asText());
        assertEquals("</s>", config.get("eos_token").asText());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("tokenizer.json", "tokenizer_config.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void mergesAreRankedByTheScoreOfTheMergedPiece() {
        String[] pieces = {"<unk>", "<s>", "</s>", "a", "b", "ab", "abb", "bb"};
        float[] scores = {0, 0, 0, 0, 0, -2, -1, -3};
        List<HfTokenizerWriter.Merge> merges = HfTokenizerWriter.merges(pieces, scores);
        assertEquals(List.of("ab+b", "a+bb", "a+b", "b+b"),
                merges.stream().map(m -> m.left() + "+" + m.right()).toList());
    }

    @Test
    void unwritableTargetIsAClearError() throws IOException {
        Llama2cTokenizer bin = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), -1);
        Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
        QtaleException e = assertThrows(QtaleException.class, () -> HfTokenizerWriter.write(bin, file));
        assertTrue(e.getMessage().contains("not-a-folder"), e.getMessage());
        assertFalse(Files.exists(file.resolve("tokenizer.json")));
    }
}
