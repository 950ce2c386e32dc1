package org.qtale.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.qtale.testing.SharedData;

/** The Llama 3 tokenizer.json against llama.cpp's llama-bpe test vectors and Llama 3's special tokens. */
class HfTokenizerTest {
    private static final String LLAMA3 = "tokenizers/llama3-npm-lenml/tokenizer.json.gz";
    private static final int BEGIN_OF_TEXT = 128000;
    private static final int END_OF_TEXT = 128001;
    private static final int EOT = 128009;
    private static final int START_HEADER = 128006;
    private static final int END_HEADER = 128007;

    private static HfTokenizer llama3;

    @BeforeAll
    static void loadLlama3() {
        long start = System.nanoTime();
        llama3 = HfTokenizer.load(SharedData.file(LLAMA3));
        System.out.printf("Llama 3 tokenizer.json.gz (9 MB of JSON) loaded in %d ms%n",
                (System.nanoTime() - start) / 1_000_000);
    }

    @Test
    void allLlamaCppLlama3VectorsMatchAndRoundTrip() throws IOException {
        List<Llama2cTokenizerTest.TestVector> vectors = Llama2cTokenizerTest.vectors(
                "tokenizers/llamacpp-vocab/ggml-vocab-llama-bpe.gguf.inp",
                "tokenizers/llamacpp-vocab/ggml-vocab-llama-bpe.gguf.out");
        assertEquals(46, vectors.size());
        for (Llama2cTokenizerTest.TestVector v : vectors) {
            int[] ids = llama3.encode(v.text(), false);
            assertArrayEquals(v.ids(), ids, "ids of '" + v.text() + "'");
            assertEquals(v.text(), llama3.decode(ids), "round trip of '" + v.text() + "'");
        }
    }

    /**
     * Ids computed by Hugging Face tokenizers 0.23.2 (the Rust library, through its Node binding) with the same
     * tokenizer.json, for strings made to be hard: Unicode whitespace (U+0085, U+00A0, U+2028, U+3000, U+001C..),
     * case folding (ſ, K, İ), digits of other scripts, combining marks, emoji with ZWJ, surrogate pairs.
     */
    @Test
    void matchesHuggingFaceTokenizersOnTrickyUnicode() throws IOException {
        ObjectMapper json = new ObjectMapper();
        int checked = 0;
        try (InputStream in = getClass().getResourceAsStream("llama3-hf-reference.jsonl")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                JsonNode row = json.readTree(line);
                int[] expected = json.treeToValue(row.get("ids"), int[].class);
                String text = row.get("text").asText();
                assertArrayEquals(expected, llama3.encode(text, false), "ids of " + json.writeValueAsString(text));
                checked++;
            }
        }
        assertEquals(311, checked);
    }

    @Test
    void vocabularyAndSpecialTokensComeFromTheFiles() {
        assertEquals(128256, llama3.vocabSize(), "128000 pieces plus 256 added tokens");
        assertEquals(280147, llama3.mergeCount());
        assertEquals(BEGIN_OF_TEXT, llama3.bos());
        assertEquals(END_OF_TEXT, llama3.eos());
        assertEquals(Set.of(END_OF_TEXT, EOT), llama3.stopTokens(), "Llama 3.0 has no <|eom_id|> (3.1 added it)");
        assertEquals("<|eot_id|>", llama3.piece(EOT));
        assertEquals("Ġworld", llama3.piece(llama3.tokenId("Ġworld")));
        assertArrayEquals(new int[] {BEGIN_OF_TEXT, 9906, 1917}, llama3.encode("Hello world", true));
    }

    @Test
    void specialTokensInTextAreRecognisedUnlessDisabled() {
        assertArrayEquals(new int[] {87, BEGIN_OF_TEXT, 88}, llama3.encode("x<|begin_of_text|>y", false));
        assertArrayEquals(new int[] {9906, EOT}, llama3.encode("Hello<|eot_id|>", false));
        int[] plain = llama3.encode("Hello<|eot_id|>", false, false);
        assertFalse(Arrays.stream(plain).anyMatch(id -> id >= BEGIN_OF_TEXT), Arrays.toString(plain));
        assertEquals("Hello<|eot_id|>", llama3.decode(plain));
        assertEquals("Hello", llama3.decode(new int[] {BEGIN_OF_TEXT, 9906, EOT}), "control tokens decode to nothing");
        assertTrue(llama3.isControl(EOT));
    }

    @Test
    void chatPromptUsesTheLlama3Headers() {
        String prompt = llama3.chatPrompt(" Hi there \n").orElseThrow();
        assertArrayEquals(new int[] {BEGIN_OF_TEXT, START_HEADER, 882, END_HEADER, 271, 13347, 1070, EOT, START_HEADER,
                78191, END_HEADER, 271}, llama3.encode(prompt, true));
        assertTrue(llama3.chatTemplate().orElseThrow().contains("<|start_header_id|>"));
    }

    @Test
    void loadsFromAGzipStreamWithoutTheConfig() throws IOException {
        HfTokenizer fromStream;
        try (InputStream in = Files.newInputStream(SharedData.file(LLAMA3))) {
            fromStream = HfTokenizer.load(in, "llama3 stream");
        }
        assertEquals(BEGIN_OF_TEXT, fromStream.bos(), "found by its well-known name");
        assertEquals(END_OF_TEXT, fromStream.eos());
        assertTrue(fromStream.chatTemplate().isEmpty());
        String text = "Streams work too: 3.14159 🦙";
        assertArrayEquals(llama3.encode(text, true), fromStream.encode(text, true));
    }

    @Test
    void streamingDecodeOfSplitCharacters() {
        int[] ids = llama3.encode("🦙 and 日本語", false);
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        int previous = -1;
        for (int id : ids) {
            out.append(decoder.feed(llama3.tokenBytes(id, previous)));
            previous = id;
        }
        out.append(decoder.flush());
        assertEquals("🦙 and 日本語", out.toString());
    }
}
