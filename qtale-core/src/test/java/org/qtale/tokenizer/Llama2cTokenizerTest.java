package org.qtale.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.qtale.testing.SharedData;

/** llama2.c's tokenizer.bin against llama.cpp's Llama 2 test vectors. */
class Llama2cTokenizerTest {

    /** Reads llama.cpp's {@code .inp}/{@code .out} pair: inputs separated by a marker line, expected ids per line. */
    public static List<TestVector> vectors(String inp, String out) throws IOException {
        String inputs = Files.readString(SharedData.file(inp), StandardCharsets.UTF_8);
        String[] texts = inputs.split("\n__ggml_vocab_test__\n", -1);
        texts = Arrays.copyOf(texts, texts.length - 1); // the file ends with a marker
        String outputs = Files.readString(SharedData.file(out), StandardCharsets.UTF_8);
        if (outputs.endsWith("\n")) {
            outputs = outputs.substring(0, outputs.length() - 1);
        }
        String[] lines = outputs.split("\n", -1);
        assertEquals(texts.length, lines.length, "inputs and expected outputs pair up");
        TestVector[] result = new TestVector[texts.length];
        for (int i = 0; i < texts.length; i++) {
            String line = lines[i].trim();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
            result[i] = new TestVector(texts[i], ids);
        }
        return List.of(result);
    }

    public record TestVector(String text, int[] ids) {
    }

    @Test
    void allLlamaCppLlama2VectorsMatch() throws IOException {
        Path bin = SharedData.file("models/llama2c/tokenizer.bin");
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(bin, 32000);
        List<TestVector> vectors = vectors("tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf.inp",
                "tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf.out");
        assertEquals(46, vectors.size(), "the files hold 46 input/output pairs (one of them the empty string)");
        for (TestVector v : vectors) {
            assertArrayEquals(v.ids(), tokenizer.encode(v.text(), false), "ids of '" + v.text() + "'");
        }
    }

    /** The heap-ordered merge against llama2.c's rescanning loop, on real paragraphs and on random bytes. */
    @Test
    void mergingByHeapGivesTheRescanningLoopsTokens() throws IOException {
        Llama2cTokenizer llama = Llama2cTokenizer.load(SharedData.file("models/llama2c/tokenizer.bin"), 32000);
        Llama2cTokenizer tiny = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), 512);
        List<String> texts = new java.util.ArrayList<>();
        String wiki = Files.readString(SharedData.file("corpora/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8);
        for (String paragraph : wiki.substring(0, 40_000).split("\n")) {
            if (paragraph.length() > 200) {
                texts.add(paragraph);
            }
        }
        java.util.Random random = new java.util.Random(5);
        for (int i = 0; i < 20; i++) {
            StringBuilder b = new StringBuilder();
            for (int k = random.nextInt(300); k > 0; k--) {
                String[] pieces = {"a", "a", "a", "b", " ", " ", "e", "é", "€", "😀"};
                b.append(random.nextInt(4) == 0 ? String.valueOf((char) (0x20 + random.nextInt(0x250)))
                        : pieces[random.nextInt(pieces.length)]);
            }
            texts.add(b.toString());
        }
        assertTrue(texts.size() > 25, "paragraphs and random strings: " + texts.size());
        for (String text : texts) {
            for (Llama2cTokenizer t : List.of(llama, tiny)) {
                assertArrayEquals(t.encodeByRescanning(text, true), t.encode(text, true), text);
            }
        }
    }

    @Test
    void llama2cOwnTestCaseWithBos() {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.file("models/llama2c/tokenizer.bin"), 32000);
        assertArrayEquals(new int[] {1, 306, 4658, 278, 6593, 310, 2834, 338},
                tokenizer.encode("I believe the meaning of life is", true));
    }

    @Test
    void decodeRoundTripsAndStripsTheDummyPrefix() {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.file("models/llama2c/tokenizer.bin"), 32000);
        String text = "Hello, wörld! 🦙 tabs\tand\nnewlines";
        int[] ids = tokenizer.encode(text, true);
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void vocabularySizeIsReadToTheEndWhenNotGiven() {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), -1);
        assertEquals(512, tokenizer.vocabSize());
    }
}
