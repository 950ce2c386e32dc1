package org.qtale.quant.calib;

import org.qtale.QtaleException;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.corpus.Corpus;
import org.qtale.train.corpus.CorpusSpec;
import org.qtale.train.pretrain.TokenDataset;

/**
 * Calibration data: {@code samples} windows of {@code length} tokens drawn at seeded random offsets from a corpus's
 * training documents, joined as {@code BOS text EOS} (GPTQ draws random windows of its calibration text the same way),
 * plus the corpus's held-out stream for measuring perplexity.
 *
 * @param tokens {@code samples × length} token ids, one window after another
 */
public record CalibrationSet(String spec, int[] tokens, int samples, int length, TokenDataset stream) {
    public static final long DEFAULT_SEED = 0;

    public static CalibrationSet load(String spec, Tokenizer tokenizer, int samples, int length, long seed) {
        if (samples < 1 || length < 2) {
            throw new QtaleException("Calibration needs at least one sample of at least 2 tokens.");
        }
        CorpusSpec parsed = CorpusSpec.parse(spec);
        Corpus corpus = parsed.load();
        TokenDataset stream = TokenDataset.encode(tokenizer, corpus.train(), corpus.heldOut());
        if (stream.trainTokens() <= length) {
            throw new QtaleException("The calibration text " + parsed.spec() + " has " + stream.trainTokens()
                    + " tokens, fewer than one sample of " + length + ".");
        }
        int[] tokens = new int[samples * length];
        stream.trainingBatch(seed, 0, 0, samples, length, tokens, new int[samples * length]);
        return new CalibrationSet(parsed.spec(), tokens, samples, length, stream);
    }
}
