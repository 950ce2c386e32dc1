package org.qtale.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random vocabularies and random texts: the written tokenizer.json must encode as llama2.c does. */
class HfTokenizerWriterFuzzTest {
    private static final String ALPHABET = " abé";

    @TempDir
    Path dir;

    /** {@code <unk>}, BOS, EOS, the 256 byte tokens, then random pieces over a small alphabet with distinct scores. */
    static Llama2cTokenizer randomVocabulary(Random random) {
        Set<String> pieces = new LinkedHashSet<>();
        for (char c : ALPHABET.toCharArray()) {
            pieces.add(String.valueOf(c));
        }
        while (pieces.size() < 60) {
            StringBuilder s = new StringBuilder();
            int length = 2 + random.nextInt(4);
            for (int i = 0; i < length; i++) {
                s.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            pieces.add(s.toString());
        }
        List<byte[]> all = new ArrayList<>(List.of("<unk>".getBytes(), "\n<s>\n".getBytes(), "\n</s>\n".getBytes()));
        for (int b = 0; b < 256; b++) {
            all.add(String.format("<0x%02X>", b).getBytes(StandardCharsets.US_ASCII));
        }
        List<String> shuffled = new ArrayList<>(pieces);
        java.util.Collections.shuffle(shuffled, random);
        shuffled.forEach(p -> all.add(p.getBytes(StandardCharsets.UTF_8)));
        float[] scores = new float[all.size()];
        for (int i = 259; i < scores.length; i++) {
            scores[i] = -(i - 259);
        }
        return new Llama2cTokenizer(all.toArray(new byte[0][]), scores);
    }

    @Test
    void randomVocabulariesEncodeLikeLlama2c() {
        Random random = new Random(42);
        for (int vocabulary = 0; vocabulary < 40; vocabulary++) {
            Llama2cTokenizer bin = randomVocabulary(random);
            Path folder = dir.resolve("v" + vocabulary);
            HfTokenizerWriter.write(bin, folder);
            HfTokenizer json = HfTokenizer.load(folder.resolve(HfTokenizerWriter.TOKENIZER_FILE));
            for (int text = 0; text < 200; text++) {
                StringBuilder s = new StringBuilder();
                int length = random.nextInt(40);
                for (int i = 0; i < length; i++) {
                    s.append((ALPHABET + "xy").charAt(random.nextInt(ALPHABET.length() + 2)));
                }
                String t = s.toString();
                assertArrayEquals(bin.encode(t, true), json.encode(t, true), "vocabulary " + vocabulary + ", '" + t + "'");
            }
        }
    }
}
