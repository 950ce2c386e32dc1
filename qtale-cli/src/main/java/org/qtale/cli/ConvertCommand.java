package org.qtale.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.qtale.QtaleException;
import org.qtale.format.AtomicFiles;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.Llama2cToHf;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaModel;
import org.qtale.format.ModelLoader;
import org.qtale.tensor.DType;
import org.qtale.tokenizer.HfTokenizerWriter;
import org.qtale.tokenizer.Llama2cTokenizer;
import org.qtale.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "convert", mixinStandardHelpOptions = true, description = "Turns a llama2.c checkpoint and its tokenizer.bin into a Hugging Face model "
        + "directory (config.json, model.safetensors, tokenizer.json).")
final class ConvertCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "PATH", description = "The llama2.c .bin checkpoint.")
    Path from;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "Its tokenizer.bin (default: tokenizer.bin or tok<vocab>.bin next to the checkpoint).")
    Path tokenizer;

    @Option(names = "--to", required = true, paramLabel = "DIR", description = "The directory to create.")
    Path to;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "TYPE", description = "f32, bf16 or f16 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--overwrite", description = "Replace DIR if it exists.")
    boolean overwrite;

    @Override
    public Integer call() throws IOException {
        DType type = DType.parse(dtype);
        if (!from.getFileName().toString().endsWith(".bin")) {
            throw new QtaleException(from + " is not a llama2.c .bin checkpoint.");
        }
        if (!overwrite && AtomicFiles.isNonEmptyDirectory(to)) {
            throw new QtaleException(to + " already exists; pass --overwrite to replace it.");
        }
        Tokenizer source;
        try (LlamaModel model = ModelLoader.loadModel(from)) {
            source = TokenizerFiles.open(from, tokenizer, model.config().vocabSize());
        }
        if (!(source instanceof Llama2cTokenizer llama2c)) {
            throw new QtaleException("convert expects a llama2.c tokenizer.bin, got " + tokenizer + ".");
        }
        // everything is written into a hidden sibling first and moved into place at the end
        Path parent = to.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempDirectory(parent, ".qtale-convert-");
        try {
            Path built = staging.resolve("model");
            Llama2cToHf.convert(from, built, HfCheckpointWriter.Options.of(type));
            HfTokenizerWriter.write(llama2c, built);
            AtomicFiles.replaceDirectory(built, to);
        } finally {
            AtomicFiles.deleteTreeQuietly(staging);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote " + to + " (config.json, model.safetensors in " + type + ", tokenizer.json, tokenizer_config.json)");
        out.flush();
        return 0;
    }
}
