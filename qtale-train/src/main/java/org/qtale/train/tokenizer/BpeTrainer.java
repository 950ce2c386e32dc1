package org.qtale.train.tokenizer;

import java.util.List;
import org.qtale.QtaleException;

/**
 * Trains a byte-level BPE tokenizer the way GPT-2 and Llama 3 tokenize: text is cut with Llama 3's regex, each piece
 * is taken as its UTF-8 bytes, and the most frequent adjacent pair is merged until the vocabulary is full. The rules
 * (ties, runs of one character) are in {@link MergeLearner}; the result is the same, bit for bit, for the same text
 * and vocabulary size.
 *
 * <pre>{@code
 * TrainedBpe bpe = new BpeTrainer(8192).train(documents);
 * bpe.write(modelDirectory);                 // tokenizer.json + tokenizer_config.json
 * Tokenizer tokenizer = bpe.tokenizer();     // the engine's tokenizer for the same files
 * }</pre>
 */
public final class BpeTrainer {
    public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    public static final String END_OF_TEXT = "<|end_of_text|>";
    /** The special tokens every trained vocabulary ends with, BOS first. */
    public static final List<String> SPECIAL_TOKENS = List.of(BEGIN_OF_TEXT, END_OF_TEXT);
    /** The 256 bytes and the 2 special tokens: a vocabulary with no merges at all (a literal, for annotations). */
    public static final int MIN_VOCAB_SIZE = 258;
    /** Eight times Llama 3's vocabulary; more is a typo, not a plan. */
    public static final int MAX_VOCAB_SIZE = 1 << 20;

    private final int vocabSize;

    /** A trainer aiming at {@code vocabSize} tokens in all: the 256 bytes, the merged tokens and the special tokens. */
    public BpeTrainer(int vocabSize) {
        if (vocabSize < MIN_VOCAB_SIZE || vocabSize > MAX_VOCAB_SIZE) {
            throw new QtaleException("The vocabulary size must be between " + MIN_VOCAB_SIZE + " (256 bytes and "
                    + SPECIAL_TOKENS.size() + " special tokens) and " + MAX_VOCAB_SIZE + ", not " + vocabSize + ".");
        }
        this.vocabSize = vocabSize;
    }

    /** Trains on in-memory documents. */
    public TrainedBpe train(Iterable<String> documents) {
        WordCounts words = new WordCounts();
        documents.forEach(words::add);
        return train(words);
    }

    /**
     * Trains on counted documents. When the text has fewer distinct pairs than the vocabulary needs, training stops
     * there and the result is smaller than asked: {@link TrainedBpe#vocabSize()} says how large it is.
     */
    public TrainedBpe train(WordCounts words) {
        if (words.distinctWords() == 0) {
            throw new QtaleException("There is no text to train the tokenizer on.");
        }
        MergeLearner learner = new MergeLearner(words.words(), words.frequencies());
        learner.learn(vocabSize - SPECIAL_TOKENS.size());
        return new TrainedBpe(learner.pieces(), learner.merges(), SPECIAL_TOKENS, words.inputBytes());
    }
}
