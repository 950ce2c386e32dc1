package org.qtale.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.qtale.QtaleException;
import org.qtale.format.AtomicFiles;
import org.qtale.tokenizer.HfTokenizerWriter;
import org.qtale.tokenizer.Llama2cTokenizer;
import org.qtale.tokenizer.Tokenizer;

/** What the training jobs share about the model directories they write: checks, the tokenizer, the final swap. */
public final class OutputDirectory {
    private OutputDirectory() {
    }

    /** Refuses a file, or a non-empty directory unless {@code overwrite}. */
    public static void check(Path out, boolean overwrite) {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new QtaleException(out + " exists and is a file, so a model directory cannot be written there.");
        }
        if (!overwrite && AtomicFiles.isNonEmptyDirectory(out)) {
            throw new QtaleException(out + " already exists and is not empty; choose another directory or pass --overwrite.");
        }
    }

    /** Makes the finished staging directory the output, checking again that it may be replaced. */
    public static void install(Path staging, Path out, boolean overwrite) throws IOException {
        check(out, overwrite);
        AtomicFiles.replaceDirectory(staging, out);
    }

    /**
     * Puts a tokenizer into the model directory as {@code tokenizer.json}: the file it was opened from (gzip undone;
     * a directory means its {@code tokenizer.json}), the {@code tokenizer_config.json} beside it if any, or a
     * llama2.c tokenizer converted.
     */
    public static void copyTokenizer(Path tokenizer, Tokenizer loaded, Path model) throws IOException {
        if (loaded instanceof Llama2cTokenizer llama2c) {
            HfTokenizerWriter.write(llama2c, model);
            return;
        }
        Path source = tokenizer.toAbsolutePath();
        Path file = Files.isDirectory(source) ? source.resolve("tokenizer.json") : source;
        if (file.getFileName().toString().endsWith(".gz")) {
            try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(file))) {
                Files.copy(in, model.resolve("tokenizer.json"));
            }
        } else {
            Files.copy(file, model.resolve("tokenizer.json"));
        }
        Path config = file.getParent().resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            Files.copy(config, model.resolve("tokenizer_config.json"));
        }
    }
}
