package org.qtale.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.qtale.QtaleException;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaModel;
import org.qtale.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/** The options that name a model and its tokenizer. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "A Hugging Face model directory or a llama2.c .bin checkpoint.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "Tokenizer file (tokenizer.json or llama2.c tokenizer.bin); default: the one stored with the model.")
    Path tokenizer;

    LlamaModel openModel() {
        if (!Files.exists(model)) {
            throw new QtaleException("Model not found: " + model + ".");
        }
        if (Files.isDirectory(model)) {
            throw new QtaleException("Hugging Face model directories are not available in this build: " + model + ".");
        }
        return Llama2cCheckpoint.load(model);
    }

    Tokenizer openTokenizer(LlamaModel opened) {
        return TokenizerFiles.open(model, tokenizer, opened.config().vocabSize());
    }
}
