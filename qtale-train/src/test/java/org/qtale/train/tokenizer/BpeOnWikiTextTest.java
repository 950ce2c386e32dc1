package org.qtale.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.testing.SharedData;
import org.qtale.tokenizer.HfTokenizer;

/** Training on real text (the WikiText-2 test split): exact size, determinism, and agreement with the engine. */
class BpeOnWikiTextTest {
    private static String wikiText;

    @BeforeAll
    static void readWikiText() throws IOException {
        wikiText = Files.readString(SharedData.file("corpora/wikitext-2-raw/wiki.test.raw"));
    }

    @Test
    void engineEncodesTheTrainingTextExactlyAsTrainingSegmentedIt() {
        WordCounts counts = new WordCounts();
        counts.add(wikiText);
        long start = System.nanoTime();
        MergeLearner learner = new MergeLearner(counts.words(), counts.frequencies());
        learner.learn(4096 - BpeTrainer.SPECIAL_TOKENS.size());
        System.out.printf("learned %d merges on %.1f MB (%d distinct pieces) in %d ms%n", learner.merges().size(),
                counts.inputBytes() / 1e6, counts.distinctWords(), (System.nanoTime() - start) / 1_000_000);
        TrainedBpe bpe = new TrainedBpe(learner.pieces(), learner.merges(), BpeTrainer.SPECIAL_TOKENS,
                counts.inputBytes());
        assertEquals(4096, bpe.vocabSize());

        List<String> words = counts.words();
        Map<String, Integer> index = new HashMap<>();
        IntStream.range(0, words.size()).forEach(i -> index.put(words.get(i), i));
        IntStream.Builder expected = IntStream.builder();
        new TextSplitter(BpeTrainer.SPECIAL_TOKENS).split(wikiText,
                piece -> IntStream.of(learner.segmentation(index.get(piece))).forEach(expected::add),
                special -> expected.add(bpe.piece(bpe.bos()).equals(special) ? bpe.bos() : bpe.eos()));
        int[] engine = bpe.tokenizer().encode(wikiText, false);
        assertArrayEquals(expected.build().toArray(), engine);
        System.out.printf("%d tokens, %.2f bytes per token%n", engine.length, (double) counts.inputBytes() / engine.length);
    }

    @Test
    void sameTextSameFilesBitForBit(@TempDir Path dir) throws IOException {
        List<String> documents = wikiText.lines().limit(800).toList();
        new BpeTrainer(1500).train(documents).write(dir.resolve("first"));
        new BpeTrainer(1500).train(documents).write(dir.resolve("second"));
        for (String file : List.of(TrainedBpe.TOKENIZER_FILE, TrainedBpe.CONFIG_FILE)) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("first").resolve(file)),
                    Files.readAllBytes(dir.resolve("second").resolve(file)), file);
        }
    }

    @Test
    void vocabularyHasExactlyTheRequestedSize() {
        TrainedBpe bpe = new BpeTrainer(3000).train(List.of(wikiText));
        assertEquals(3000, bpe.vocabSize());
        assertEquals(3000 - 258, bpe.mergeCount());
        HfTokenizer tokenizer = bpe.tokenizer();
        assertEquals(3000, tokenizer.vocabSize());
        assertEquals(2999, tokenizer.eos());
        assertTrue(tokenizer.tokenId("Ġthe") > 255, "a frequent English word is one token");
    }
}
