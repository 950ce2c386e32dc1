package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.bench.QuantizeBench;
import org.qtale.quant.QuantizeJob;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Times a whole post-training quantization (the layer-by-layer pass of `qtale quantize`) on random "
                + "BF16 weights of a real model shape and random calibration tokens."})
final class QuantizeBenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", defaultValue = "llama-3.2-1b", paramLabel = "NAME",
            description = "Model shape: llama-3.2-1b, small-110m, anchor-small or tiny (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--method", defaultValue = "gptq", paramLabel = "NAME",
            description = "rtn, awq, gptq or magr-gptq (default ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--bits", defaultValue = "4", paramLabel = "N", description = "2, 3, 4 or 8 (default ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--group-size", defaultValue = "128", paramLabel = "G", description = "Columns per group (default ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--calib-samples", defaultValue = "16", paramLabel = "N", description = "Calibration windows (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--calib-len", defaultValue = "512", paramLabel = "T", description = "Tokens per window (default ${DEFAULT-VALUE}).")
    int length;

    @Option(names = "--layers", paramLabel = "N",
            description = "Quantize only the first N decoder layers (default: all); the report says how many ran.")
    Integer layerLimit;

    @Mixin
    ThreadOptions threads;

    @Option(names = "--out", paramLabel = "FILE",
            description = "JSON results file (default bench-results/bench-quantize-SHAPE-METHOD-BITS.json).")
    Path out;

    @Option(names = "--json", description = "Print the JSON results on stdout instead of the table.")
    boolean json;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        threads.validate(cl);
        int threadCount = threads.count();
        if (samples < 1 || length < 2 || layerLimit != null && layerLimit < 1) {
            throw new CommandLine.ParameterException(cl, "--calib-samples and --layers must be >= 1, --calib-len >= 2.");
        }
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new CommandLine.ParameterException(cl, "--bits must be 2, 3, 4 or 8, got " + bits + ".");
        }
        QuantizeJob.Method m = QuantizeJob.Method.parse(method);
        PrintWriter err = cl.getErr();
        QuantizeBench.Result r = QuantizeBench.run(new QuantizeBench.Plan(shape, m, bits, groupSize, samples, length,
                threadCount, layerLimit == null ? Integer.MAX_VALUE : layerLimit, 1), line -> {
                    err.println("[bench quantize] " + line);
                    err.flush();
                });
        ObjectNode report = Json.object();
        report.put("shape", shape);
        report.put("method", m.cliName());
        report.put("bits", bits);
        report.put("group_size", groupSize);
        report.put("calib_samples", samples);
        report.put("calib_len", r.calibLength());
        report.put("threads", threadCount);
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("model_layers", r.config().nLayers());
        report.put("layers_quantized", r.layers().size());
        report.put("seconds", r.seconds());
        report.put("build_seconds", r.buildSeconds());
        ArrayNode layers = report.putArray("layers");
        for (QuantizeBench.Layer layer : r.layers()) {
            layers.addObject().put("layer", layer.layer()).put("seconds", layer.seconds())
                    .put("worst_relative_error", layer.worstRelativeError());
        }
        Path file = out != null ? out : Path.of("bench-results", "bench-quantize-" + shape + "-" + m.cliName() + "-" + bits
                + ".json");
        BenchCommand.writeAtomically(file, Json.write(report));
        PrintWriter stdout = cl.getOut();
        if (json) {
            stdout.println(Json.write(report));
        } else {
            double slowest = r.layers().stream().mapToDouble(QuantizeBench.Layer::seconds).max().orElse(0);
            stdout.printf(Locale.ROOT, "%-13s %-9s %4s %5s %8s %3s | %7s %9s %13s%n", "shape", "method", "bits", "group",
                    "tokens", "thr", "layers", "total s", "slowest layer");
            stdout.printf(Locale.ROOT, "%-13s %-9s %4d %5d %8d %3d | %3d/%-3d %9.1f %11.1f s%n", shape, m.cliName(), bits,
                    groupSize, samples * r.calibLength(), threadCount, r.layers().size(), r.config().nLayers(), r.seconds(),
                    slowest);
            stdout.println("JSON: " + file);
        }
        stdout.flush();
        return 0;
    }
}
