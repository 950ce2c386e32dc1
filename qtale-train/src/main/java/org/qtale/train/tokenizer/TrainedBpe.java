package org.qtale.train.tokenizer;

import org.qtale.format.AtomicFiles;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import org.qtale.tokenizer.HfTokenizer;

/**
 * A trained byte-level BPE tokenizer. Ids 0 to 255 are the bytes, then come the merged tokens in the order they were
 * learned, then the special tokens ({@code <|begin_of_text|>}, {@code <|end_of_text|>}), as Llama 3 lays them out.
 */
public final class TrainedBpe {
    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String CONFIG_FILE = "tokenizer_config.json";

    private final List<String> pieces;
    private final List<int[]> merges;
    private final List<String> specialTokens;
    private final long inputBytes;

    TrainedBpe(List<String> pieces, List<int[]> merges, List<String> specialTokens, long inputBytes) {
        this.pieces = List.copyOf(pieces);
        this.merges = merges.stream().map(int[]::clone).toList();
        this.specialTokens = List.copyOf(specialTokens);
        this.inputBytes = inputBytes;
    }

    /** All tokens: bytes, merged tokens and special tokens. Less than requested when the text ran out of pairs. */
    public int vocabSize() {
        return pieces.size() + specialTokens.size();
    }

    public int mergeCount() {
        return merges.size();
    }

    /** The id of {@code <|begin_of_text|>}, the first id after the learned tokens. */
    public int bos() {
        return pieces.size();
    }

    /** The id of {@code <|end_of_text|>}. */
    public int eos() {
        return pieces.size() + 1;
    }

    /** A token as {@code tokenizer.json} spells it: GPT-2 byte characters ("Ġthe"), or a special token's text. */
    public String piece(int id) {
        return id < pieces.size() ? pieces.get(id) : specialTokens.get(id - pieces.size());
    }

    /** The merges in rank order, each as "left right" in {@link #piece} spelling. */
    public List<String> merges() {
        return merges.stream().map(m -> pieces.get(m[0]) + " " + pieces.get(m[1])).toList();
    }

    /** UTF-8 bytes of the text it was trained on. */
    public long inputBytes() {
        return inputBytes;
    }

    /**
     * Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code directory}, creating it if needed.
     * Each file is written beside its target and renamed into place; other files in the directory are left alone, so
     * this also puts the tokenizer into an existing model directory.
     */
    public void write(Path directory) {
        byte[] tokenizer = TokenizerJson.tokenizer(this);
        byte[] config = TokenizerJson.config(this);
        AtomicFiles.createDirectories(directory);
        AtomicFiles.write(directory.resolve(TOKENIZER_FILE), tokenizer);
        AtomicFiles.write(directory.resolve(CONFIG_FILE), config);
    }

    /** The engine's tokenizer for this vocabulary, read from the same documents {@link #write} stores. */
    public HfTokenizer tokenizer() {
        return HfTokenizer.load(new ByteArrayInputStream(TokenizerJson.tokenizer(this)),
                new ByteArrayInputStream(TokenizerJson.config(this)), "the trained tokenizer");
    }
}
