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
    void windowsStartAtDocumentsAndEveryWindowLengthInsideLongOnes() {
        String longDocument = "the fox lives in the cave and the owl likes seeds and the sun was warm all day long";
        String shortDocument = "two and three make five.";
        List<String> docs = List.of(longDocument, shortDocument);
        TrainedBpe bpe = new BpeTrainer(300).train(docs);
        TokenDataset data = TokenDataset.encode(bpe.tokenizer(), docs, docs);
        // the stream is BOS long EOS BOS short EOS; windows may start at 0, 4, 8, ... inside the long document and at
        // the short one's BOS, as long as a whole window (and its last target) fits
        List<Integer> stream = new java.util.ArrayList<>();
        List<Integer> allowedStarts = new java.util.ArrayList<>();
        int seqLen = 4;
        for (String doc : docs) {
            int start = stream.size();
            stream.add(bpe.bos());
            for (int id : bpe.tokenizer().encode(doc, false)) {
                stream.add(id);
            }
            stream.add(bpe.eos());
            for (int s0 = start; s0 < stream.size(); s0 += seqLen) {
                allowedStarts.add(s0);
            }
        }
        assertTrue(stream.size() > 4 * seqLen, "the long document spans several windows");
        java.util.Map<List<Integer>, Integer> windows = new java.util.HashMap<>();
        for (int start : allowedStarts) {
            if (start + seqLen + 1 <= stream.size()) {
                windows.putIfAbsent(stream.subList(start, start + seqLen), start);
            }
        }
        java.util.Set<Integer> drawn = new java.util.HashSet<>();
        int[] tokens = new int[seqLen];
        for (int step = 0; step < 300; step++) {
            data.trainingBatch(1, step, 0, 1, seqLen, tokens, new int[seqLen]);
            List<Integer> window = java.util.Arrays.stream(tokens).boxed().toList();
            Integer start = windows.get(window);
            assertTrue(start != null, "window " + window + " does not start where a window may start");
            drawn.add(start);
        }
        assertTrue(drawn.contains(seqLen), "a window starting one window length into the long document was drawn");
        assertTrue(drawn.contains(0), "and one at its start");
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
