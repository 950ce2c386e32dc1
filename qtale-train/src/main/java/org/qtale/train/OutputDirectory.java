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

    /** Writes a model directory's files; may throw. */
    public interface Contents {
        void write(Path model) throws IOException;
    }

    /**
     * Writes {@code contents} into a staging directory beside {@code out}, then {@code extras} (charts: a failure
     * there is reported through {@code onExtrasFailed} and costs only those files), and makes it {@code out} in one
     * rename; a failure leaves {@code out} as it was.
     */
    public static void write(Path out, boolean overwrite, Contents contents, Contents extras,
            java.util.function.Consumer<String> onExtrasFailed) {
        try {
            Files.createDirectories(out.getParent());
            Path staging = Files.createTempDirectory(out.getParent(), "." + out.getFileName() + ".partial-");
            try {
                Path model = staging.resolve("model");
                contents.write(model);
                try {
                    extras.write(model);
                } catch (IOException | RuntimeException | LinkageError | InternalError e) {
                    onExtrasFailed.accept("could not add the extra files (" + e + "); the model is written without them");
                }
                check(out, overwrite);
                AtomicFiles.replaceDirectory(model, out);
            } finally {
                AtomicFiles.deleteTreeQuietly(staging);
            }
        } catch (IOException e) {
            throw new QtaleException("Cannot write the model directory " + out + ": " + e.getMessage() + ".", e);
        }
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
