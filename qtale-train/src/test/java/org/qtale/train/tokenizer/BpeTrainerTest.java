package org.qtale.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.tokenizer.HfTokenizer;

/** Merges small enough to check by hand, the tie rule, early stopping and the size limits. */
class BpeTrainerTest {
    private static final int BYTES_AND_SPECIALS = 256 + 2;

    @Test
    void classicExampleMergesAaThenAbThenAaab() {
        // "aaabdaaabac": aa occurs 4 times; after it, (aa, a) and (a, b) both occur twice and "a" (97) has the smaller
        // id than "aa" (256), so ab comes next; then (aa, ab) occurs twice and every other pair once.
        TrainedBpe bpe = new BpeTrainer(BYTES_AND_SPECIALS + 3).train(List.of("aaabdaaabac"));
        assertEquals(List.of("a a", "a b", "aa ab"), bpe.merges());
        assertEquals(List.of("aa", "ab", "aaab"), List.of(bpe.piece(256), bpe.piece(257), bpe.piece(258)));
        assertEquals(261, bpe.vocabSize());
        assertEquals(259, bpe.bos());
        assertEquals(260, bpe.eos());
        assertEquals(BpeTrainer.BEGIN_OF_TEXT, bpe.piece(259));
        assertEquals(BpeTrainer.END_OF_TEXT, bpe.piece(260));
        HfTokenizer tokenizer = bpe.tokenizer();
        assertArrayEquals(new int[] {259, 258, 'd', 258, 'a', 'c'}, tokenizer.encode("aaabdaaabac", true));
    }

    @Test
    void countsAreWeightedByWordFrequencyAndSpacesAreSpelledG() {
        // pieces "ab" once and " ab" twice: (a, b) occurs 3 times, (space, a) twice, then (space, ab) twice
        TrainedBpe bpe = new BpeTrainer(BYTES_AND_SPECIALS + 2).train(List.of("ab ab ab"));
        assertEquals(List.of("a b", "Ġ ab"), bpe.merges());
        assertArrayEquals(new int[] {256, 257, 257}, bpe.tokenizer().encode("ab ab ab", false));
    }

    @Test
    void tiesGoToTheSmallerLeftIdThenTheSmallerRightId() {
        // every pair occurs once: (space, a) = (32, 97) goes first; then (b, c) = (98, 99) beats (Ġa, b) = (256, 98)
        TrainedBpe bpe = new BpeTrainer(BYTES_AND_SPECIALS + 3).train(List.of("bc ab"));
        assertEquals(List.of("Ġ a", "b c", "Ġa b"), bpe.merges());
    }

    @Test
    void stopsEarlyWhenTheTextHasNoPairsLeft() {
        // "aaaa" becomes aa|aa, then aaaa; nothing is left to merge
        TrainedBpe bpe = new BpeTrainer(1000).train(List.of("aaaa"));
        assertEquals(List.of("a a", "aa aa"), bpe.merges());
        assertEquals(BYTES_AND_SPECIALS + 2, bpe.vocabSize());
        assertEquals(BYTES_AND_SPECIALS + 2, bpe.tokenizer().vocabSize());
    }

    @Test
    void runsOfOneCharacterGiveDistinctTokensWithOneMergeEach() {
        StringBuilder text = new StringBuilder();
        for (int run = 1; run <= 40; run++) {
            text.append("=".repeat(run)).append(' ').append("-".repeat(41 - run)).append('\n');
            text.append("x").append(".".repeat(run % 7 + 1)).append("  ".repeat(run % 5)).append('\n');
        }
        TrainedBpe bpe = new BpeTrainer(2000).train(List.of(text.toString()));
        Set<String> pieces = new HashSet<>();
        for (int id = 0; id < bpe.vocabSize(); id++) {
            assertTrue(pieces.add(bpe.piece(id)), "duplicate piece " + bpe.piece(id));
        }
        assertEquals(bpe.vocabSize() - BYTES_AND_SPECIALS, bpe.mergeCount(), "one merge per token");
        HfTokenizer tokenizer = bpe.tokenizer();
        assertEquals(text.toString(), tokenizer.decode(tokenizer.encode(text.toString(), true)));
    }

    @Test
    void specialTokensInTheTextAreNotLearned() {
        String text = "<|end_of_text|><|begin_of_text|>".repeat(50) + "hi";
        TrainedBpe bpe = new BpeTrainer(BYTES_AND_SPECIALS + 5).train(List.of(text));
        assertEquals(List.of("h i"), bpe.merges());
        assertArrayEquals(new int[] {bpe.eos(), bpe.bos(), 256}, bpe.tokenizer().encode(
                "<|end_of_text|><|begin_of_text|>hi", false));
    }

    @Test
    void vocabularySizeOutOfRangeOrNoText() {
        assertThrows(QtaleException.class, () -> new BpeTrainer(257));
        assertThrows(QtaleException.class, () -> new BpeTrainer(BpeTrainer.MAX_VOCAB_SIZE + 1));
        assertEquals(BYTES_AND_SPECIALS, new BpeTrainer(BYTES_AND_SPECIALS).train(List.of("some text")).vocabSize());
        QtaleException e = assertThrows(QtaleException.class, () -> new BpeTrainer(300).train(List.of("", "")));
        assertTrue(e.getMessage().contains("no text"), e.getMessage());
    }
}
