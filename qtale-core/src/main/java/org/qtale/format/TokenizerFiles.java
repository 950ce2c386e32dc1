package org.qtale.format;

import java.nio.file.Files;
import java.nio.file.Path;
import org.qtale.QtaleException;
import org.qtale.tokenizer.HfTokenizer;
import org.qtale.tokenizer.Llama2cTokenizer;
import org.qtale.tokenizer.Tokenizer;

/** Finds and opens the tokenizer that belongs to a model. */
public final class TokenizerFiles {
    private TokenizerFiles() {
    }

    /**
     * Opens {@code explicit} when given, otherwise the tokenizer stored with the model: {@code tokenizer.json} in a
     * model directory, or {@code tokenizer.bin} / {@code tok<vocab>.bin} next to a llama2.c checkpoint.
     */
    public static Tokenizer open(Path model, Path explicit, int modelVocabSize) {
        Path path = explicit != null ? explicit : find(model, modelVocabSize);
        Tokenizer tokenizer = openFile(path, modelVocabSize);
        if (tokenizer.vocabSize() > modelVocabSize) {
            throw new QtaleException("The tokenizer " + path + " has " + tokenizer.vocabSize()
                    + " tokens but the model only " + modelVocabSize + ".");
        }
        return tokenizer;
    }

    /** Opens a tokenizer file on its own; a llama2.c tokenizer is read to its end when the vocabulary size is unknown. */
    public static Tokenizer openFile(Path path, int vocabSize) {
        if (!Files.exists(path)) {
            throw new QtaleException("Tokenizer file not found: " + path + ".");
        }
        String name = path.getFileName().toString();
        if (Files.isDirectory(path)) {
            return HfTokenizer.load(path.resolve("tokenizer.json"));
        }
        if (name.endsWith(".json") || name.endsWith(".json.gz")) {
            return HfTokenizer.load(path);
        }
        return Llama2cTokenizer.load(path, vocabSize);
    }

    private static Path find(Path model, int vocabSize) {
        boolean hfDirectory = Files.isDirectory(model) || !model.getFileName().toString().endsWith(".bin");
        if (hfDirectory) {
            Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
            Path json = dir.resolve("tokenizer.json");
            if (Files.exists(json)) {
                return json;
            }
            throw new QtaleException("The model directory " + dir + " has no tokenizer.json; pass --tokenizer PATH.");
        }
        Path dir = model.toAbsolutePath().getParent();
        for (String name : new String[] {"tokenizer.bin", "tok" + vocabSize + ".bin"}) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new QtaleException("No tokenizer.bin or tok" + vocabSize + ".bin next to " + model
                + "; pass --tokenizer PATH.");
    }
}
