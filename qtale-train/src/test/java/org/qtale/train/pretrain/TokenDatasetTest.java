package org.qtale.train.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.qtale.train.tokenizer.BpeTrainer;
import org.qtale.train.tokenizer.TrainedBpe;

class TokenDatasetTest {
    private static final List<String> DOCS = List.of("the fox lives in the cave.", "the owl likes seeds.",
            "where is ben? in the shop.", "two and three make five.", "the sun was warm and the sky was clear.");

    @Test
    void targetsAreTheNextTokensAndBatchesAreReproducible() {
        TrainedBpe bpe = new BpeTrainer(300).train(DOCS);
        TokenDataset data = TokenDataset.encode(bpe.tokenizer(), DOCS, DOCS.subList(0, 2));
        int seqLen = 6;
        int[] tokens = new int[4 * seqLen];
        int[] targets = new int[4 * seqLen];
        for (int step = 0; step < 20; step++) {
            data.trainingBatch(5, step, 0, 4, seqLen, tokens, targets);
            for (int b = 0; b < 4; b++) {
                for (int t = 0; t + 1 < seqLen; t++) {
                    assertEquals(tokens[b * seqLen + t + 1], targets[b * seqLen + t]);
                }
            }
        }
        int[] again = new int[tokens.length];
        data.trainingBatch(5, 19, 0, 4, seqLen, again, new int[targets.length]);
        assertArrayEquals(tokens, again, "the same seed and step draw the same windows");
        data.trainingBatch(5, 19, 1, 4, seqLen, again, new int[targets.length]);
        assertFalse(java.util.Arrays.equals(tokens, again), "another micro-batch draws other windows");
    }

    @Test
    void windowsAlsoStartInsideDocumentsLongerThanAWindow() {
        String longDocument = "the fox lives in the cave and the owl likes seeds and the sun was warm all day long";
        List<String> docs = List.of(longDocument, "two and three make five.");
        TrainedBpe bpe = new BpeTrainer(300).train(docs);
        TokenDataset data = TokenDataset.encode(bpe.tokenizer(), docs, docs);
        int seqLen = 4;
        int[] tokens = new int[seqLen];
        java.util.Set<Integer> firstTokens = new java.util.HashSet<>();
        for (int step = 0; step < 200; step++) {
            data.trainingBatch(1, step, 0, 1, seqLen, tokens, new int[seqLen]);
            firstTokens.add(tokens[0]);
        }
        int[] encoded = bpe.tokenizer().encode(longDocument, false);
        assertTrue(encoded.length > 2 * seqLen, "the document spans several windows");
        assertTrue(firstTokens.contains(bpe.bos()));
        assertTrue(firstTokens.contains(encoded[seqLen - 1]), "a window starts one window into the document");
    }

    @Test
    void heldOutWindowsTileTheHeldOutStream() {
        TokenDataset data = new TokenDataset(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, new int[] {10, 11, 12, 13, 14, 15, 16});
        assertEquals(2, data.heldOutWindows(3, 100));
        assertEquals(1, data.heldOutWindows(3, 1));
        int[] tokens = new int[6];
        int[] targets = new int[6];
        data.heldOutBatch(0, 2, 3, tokens, targets);
        assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15}, tokens);
        assertArrayEquals(new int[] {11, 12, 13, 14, 15, 16}, targets);
    }
}
