package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.qtale.format.AtomicFiles;
import org.qtale.QtaleException;
import org.qtale.train.tokenizer.BpeTrainer;
import org.qtale.train.tokenizer.TrainedBpe;
import org.qtale.train.tokenizer.WordCounts;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, description = "Trains a byte-level BPE tokenizer (Llama 3 "
        + "style: regex split, GPT-2 byte characters, <|begin_of_text|> and <|end_of_text|>) and writes tokenizer.json "
        + "and tokenizer_config.json.")
final class TokenizerTrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "FILE",
            description = "Text files (UTF-8), or .jsonl files with a \"text\" field on each line.")
    List<Path> inputs;

    @Option(names = "--vocab-size", required = true, paramLabel = "N", description = "Tokens in all: the 256 bytes, "
            + "the merged tokens and the 2 special tokens (" + BpeTrainer.MIN_VOCAB_SIZE + " to "
            + BpeTrainer.MAX_VOCAB_SIZE + ").")
    int vocabSize;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The directory to create.")
    Path out;

    @Option(names = "--overwrite", description = "Write into DIR even when it holds files: tokenizer.json and "
            + "tokenizer_config.json are replaced, other files stay.")
    boolean overwrite;

    @Option(names = "--json", description = "Print one JSON object: vocab_size, merges, input_bytes, seconds, out.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        long start = System.nanoTime();
        BpeTrainer trainer = new BpeTrainer(vocabSize);
        TextInputs.requireFiles(inputs);
        boolean intoExisting = checkOutput();
        WordCounts words = new WordCounts();
        for (Path input : inputs) {
            TextInputs.read(input, words::add);
        }
        TrainedBpe bpe = trainer.train(words);
        if (intoExisting) {
            bpe.write(out);
        } else {
            writeNewDirectory(bpe);
        }
        report(bpe, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** Whether the tokenizer goes into a directory that already holds files (allowed with --overwrite only). */
    private boolean checkOutput() throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new QtaleException(out + " exists and is not a directory.");
        }
        boolean holdsFiles = AtomicFiles.isNonEmptyDirectory(out);
        if (holdsFiles && !overwrite) {
            throw new QtaleException(out + " already exists and is not empty; pass --overwrite to write into it.");
        }
        return holdsFiles;
    }

    /** Builds the directory as a hidden sibling and renames it into place. */
    private void writeNewDirectory(TrainedBpe bpe) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempDirectory(parent, ".qtale-tokenizer-");
        try {
            Path built = staging.resolve("tokenizer");
            bpe.write(built);
            AtomicFiles.replaceDirectory(built, out); // out is new or an empty directory
        } finally {
            AtomicFiles.deleteTreeQuietly(staging);
        }
    }

    private void report(TrainedBpe bpe, double seconds) {
        PrintWriter stdout = spec.commandLine().getOut();
        if (bpe.vocabSize() < vocabSize) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("note: the text ran out of pairs to merge; the vocabulary has " + bpe.vocabSize()
                    + " tokens, not " + vocabSize + ".");
            err.flush();
        }
        if (json) {
            ObjectNode o = Json.object();
            o.put("vocab_size", bpe.vocabSize());
            o.put("requested_vocab_size", vocabSize);
            o.put("merges", bpe.mergeCount());
            o.put("input_bytes", bpe.inputBytes());
            o.put("seconds", Math.round(seconds * 1000) / 1000.0);
            o.put("out", out.toString());
            stdout.println(Json.write(o));
        } else {
            stdout.printf("trained %d tokens (%d merges) on %.1f MB of text in %.1f s; wrote %s (%s, %s)%n",
                    bpe.vocabSize(), bpe.mergeCount(), bpe.inputBytes() / 1e6, seconds, out,
                    TrainedBpe.TOKENIZER_FILE, TrainedBpe.CONFIG_FILE);
        }
        stdout.flush();
    }
}
