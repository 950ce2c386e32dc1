package org.qtale.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.qtale.testing.SharedData;

/** The Llama 3 tokenizer.json against llama.cpp's llama-bpe test vectors. */
class HfTokenizerTest {
    private static HfTokenizer llama3;

    @BeforeAll
    static void loadLlama3() {
        long start = System.nanoTime();
        llama3 = HfTokenizer.load(SharedData.file("tokenizers/llama3-npm-lenml/tokenizer.json.gz"));
        System.out.printf("Llama 3 tokenizer.json.gz loaded in %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }

    @Test
    void allLlamaCppLlama3VectorsMatch() throws IOException {
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
}
