package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.LinearWeights;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Describes a model: architecture, shapes, parameters, dtypes and memory.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "A Hugging Face model directory or a llama2.c .bin checkpoint.")
    java.nio.file.Path modelPath;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        ModelOptions options = new ModelOptions();
        options.model = modelPath;
        try (LlamaModel model = options.openModel()) {
            ObjectNode o = describe(model);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.write(o));
            } else {
                o.properties().forEach(e -> out.printf(Locale.ROOT, "%-22s %s%n", e.getKey(), e.getValue().isTextual()
                        ? e.getValue().asText() : e.getValue().toString()));
            }
            out.flush();
        }
        return 0;
    }

    static ObjectNode describe(LlamaModel model) {
        LlamaConfig c = model.config();
        LlamaWeights w = model.weights();
        ObjectNode o = Json.object();
        o.put("architecture", c.architecture());
        o.put("dim", c.dim());
        o.put("hidden_dim", c.hiddenDim());
        o.put("layers", c.nLayers());
        o.put("heads", c.nHeads());
        o.put("kv_heads", c.nKvHeads());
        o.put("head_dim", c.headDim());
        o.put("vocab_size", c.vocabSize());
        o.put("context_length", c.contextLength());
        o.put("rope_theta", c.ropeTheta());
        o.put("rope_scaling", c.ropeScaling() == null ? "none" : "llama3 x" + c.ropeScaling().factor());
        o.put("tied_embeddings", c.tiedEmbeddings());
        o.put("parameters", c.parameterCount());
        o.set("dtypes", Json.MAPPER.valueToTree(dtypeCounts(w, false)));
        o.set("dtype_bytes", Json.MAPPER.valueToTree(dtypeCounts(w, true)));
        o.put("weight_bytes", w.byteSize());
        o.put("weight_bytes_human", human(w.byteSize()));
        o.put("bytes_read_per_token", w.bytesReadPerToken());
        o.put("kv_bytes_per_token", c.kvBytesPerToken());
        return o;
    }

    /**
     * Parameters, or bytes, per storage format (norm vectors are float32); quantized formats are named with their group
     * size, e.g. {@code Q4_G128}.
     */
    private static Map<String, Long> dtypeCounts(LlamaWeights w, boolean bytes) {
        Map<String, Long> counts = new TreeMap<>();
        count(counts, w.tokenEmbedding(), bytes);
        if (w.output() != w.tokenEmbedding()) {
            count(counts, w.output(), bytes);
        }
        long norms = w.finalNorm().length;
        for (LayerWeights l : w.layers()) {
            for (LinearWeights m : new LinearWeights[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()}) {
                count(counts, m, bytes);
            }
            norms += l.attentionNorm().length + l.ffnNorm().length;
        }
        counts.merge("F32", bytes ? 4 * norms : norms, Long::sum);
        return counts;
    }

    private static void count(Map<String, Long> counts, LinearWeights m, boolean bytes) {
        counts.merge(m.storageName(), bytes ? m.byteSize() : (long) m.rows() * m.cols(), Long::sum);
    }

    static String human(long bytes) {
        if (bytes < 1 << 20) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1L << 30) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
