package org.qtale.cli;

import java.nio.file.Path;
import org.qtale.format.ModelLoader;
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
        return ModelLoader.loadModel(model);
    }

    Tokenizer openTokenizer(LlamaModel opened) {
        return TokenizerFiles.open(model, tokenizer, opened.config().vocabSize());
    }
}
