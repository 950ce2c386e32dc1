package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaModel;
import org.qtale.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Prints the token ids of a text.")
final class TokenizeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final class Source {
        @Option(names = "--model", paramLabel = "PATH", description = "Use the tokenizer stored with this model.")
        Path model;

        @Option(names = "--tokenizer", paramLabel = "PATH", description = "A tokenizer.json or llama2.c tokenizer.bin.")
        Path tokenizer;
    }

    @ArgGroup(exclusive = false, multiplicity = "1")
    Source source;

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "The text to encode.")
    String text;

    @Option(names = "--bos", description = "Start with the beginning-of-sequence token.")
    boolean bos;

    @Option(names = "--json", description = "Print one JSON object with the ids and their pieces.")
    boolean json;

    @Override
    public Integer call() {
        Tokenizer tokenizer = open();
        int[] ids = tokenizer.encode(text, bos);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o = Json.object();
            o.set("ids", Json.MAPPER.valueToTree(ids));
            ArrayNode pieces = o.putArray("pieces");
            Arrays.stream(ids).forEach(id -> pieces.add(tokenizer.piece(id)));
            o.put("count", ids.length);
            out.println(Json.write(o));
        } else {
            out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        out.flush();
        return 0;
    }

    private Tokenizer open() {
        if (source.model == null) {
            return TokenizerFiles.openFile(source.tokenizer, -1);
        }
        ModelOptions options = new ModelOptions();
        options.model = source.model;
        options.tokenizer = source.tokenizer;
        try (LlamaModel model = options.openModel()) {
            return options.openTokenizer(model);
        }
    }
}
