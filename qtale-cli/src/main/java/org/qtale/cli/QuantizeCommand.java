package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.quant.Perplexity;
import org.qtale.quant.QuantizeJob;
import org.qtale.quant.QuantizedLayer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Post-training weight quantization (RTN, AWQ, GPTQ, MagR+GPTQ) to 2, 3, 4 or 8 bits in groups.",
                "Writes a Hugging Face directory in the GPTQ (or, for AWQ at 4 bits, AWQ) layout that AutoGPTQ / AutoAWQ read."})
final class QuantizeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "A Hugging Face model directory or a llama2.c .bin.")
    Path model;

    @Option(names = "--method", required = true, paramLabel = "NAME", description = "rtn, awq, gptq or magr-gptq.")
    String method;

    @Option(names = "--bits", required = true, paramLabel = "N", description = "Bits per weight: 2, 3, 4 or 8.")
    int bits;

    @Option(names = "--group-size", defaultValue = "128", paramLabel = "G",
            description = "Input columns per group with their own scale and zero point; -1 for one group per row (default ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--calib", defaultValue = "toyworld", paramLabel = "SPEC",
            description = "Calibration text: toyworld[:...], a plain text file or a .jsonl file with a text field (default ${DEFAULT-VALUE}).")
    String calib;

    @Option(names = "--calib-samples", defaultValue = "64", paramLabel = "N", description = "Calibration windows (default ${DEFAULT-VALUE}).")
    int calibSamples;

    @Option(names = "--calib-len", defaultValue = "512", paramLabel = "T",
            description = "Tokens per calibration window, at most the model's context (default ${DEFAULT-VALUE}).")
    int calibLen;

    @Option(names = "--eval-windows", defaultValue = "32", paramLabel = "N",
            description = "Held-out windows of the calibration text scored before and after (perplexity); 0 skips (default ${DEFAULT-VALUE}).")
    int evalWindows;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of the calibration windows (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Output model directory; without it nothing is written and the quantized model is only measured.")
    Path out;

    @Option(names = "--overwrite", description = "Replace a non-empty output directory.")
    boolean overwrite;

    @Option(names = "--json", description = "Print one JSON object with the results on stdout.")
    boolean json;

    @Mixin
    ThreadOptions threads;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        threads.validate(cl);
        if (calibSamples < 1 || calibLen < 2 || evalWindows < 0 || groupSize == 0 || groupSize < -1) {
            throw new CommandLine.ParameterException(cl,
                    "--calib-samples must be >= 1, --calib-len >= 2, --eval-windows >= 0, --group-size > 0 or -1.");
        }
        QuantizeJob.Request request = new QuantizeJob.Request(model, QuantizeJob.Method.parse(method), bits, groupSize,
                calib, calibSamples, calibLen, seed, out, overwrite, threads.count(), evalWindows);
        PrintWriter err = cl.getErr();
        QuantizeJob.Outcome outcome;
        try (LazyProgress progress = new LazyProgress("quantize", err)) {
            outcome = QuantizeJob.run(request, reporter(progress));
        }
        PrintWriter stdout = cl.getOut();
        if (json) {
            stdout.println(Json.write(report(outcome)));
        } else {
            print(stdout, outcome);
        }
        stdout.flush();
        return 0;
    }

    /** Log lines as notes, and a step per layer with its worst relative output error. */
    static QuantizeJob.Reporter reporter(LazyProgress progress) {
        return new QuantizeJob.Reporter() {
            @Override
            public void log(String line) {
                progress.note(line);
            }

            @Override
            public void onLayer(QuantizeJob.LayerReport report, int layers) {
                progress.update(report.layer() + 1, layers, String.format(Locale.ROOT, "layer %d: worst relative "
                        + "error %.2e (%.1f s)", report.layer(), max(report.relativeErrors()), report.seconds()));
            }
        };
    }

    private static double max(double[] values) {
        double max = 0;
        for (double v : values) {
            max = Math.max(max, v);
        }
        return max;
    }

    private static void print(PrintWriter out, QuantizeJob.Outcome o) {
        QuantizeJob.Request r = o.request();
        out.printf(Locale.ROOT, "quantized with %s to %d bits (%s) in %.1f s: %,d -> %,d bytes%n", r.method().cliName(),
                r.bits(), r.groupSize() < 0 ? "one group per row" : "groups of " + r.groupSize(), o.seconds(),
                o.bytesBefore(), o.bytesAfter());
        if (o.before() != null) {
            out.printf(Locale.ROOT, "held-out perplexity (%d windows of %d tokens): %.3f -> %.3f%n", o.before().windows(),
                    o.calibLength(), o.before().perplexity(), o.after().perplexity());
        }
        out.println("relative output error per layer and projection (on the calibration inputs):");
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "  %5s", "layer"));
        for (String name : QuantizedLayer.NAMES) {
            header.append(String.format(Locale.ROOT, " %9s", name.substring(name.indexOf('.') + 1, name.indexOf("_proj"))));
        }
        out.println(header);
        for (QuantizeJob.LayerReport layer : o.layers()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %5d", layer.layer()));
            for (double e : layer.relativeErrors()) {
                row.append(String.format(Locale.ROOT, " %9.2e", e));
            }
            out.println(row);
        }
        out.println(o.out() == null ? "model: not written (no --out)" : "model: " + o.out());
    }

    private static ObjectNode report(QuantizeJob.Outcome o) {
        QuantizeJob.Request r = o.request();
        ObjectNode n = Json.object();
        n.put("out", o.out() == null ? null : o.out().toString());
        n.put("method", r.method().cliName());
        n.put("bits", r.bits());
        n.put("group_size", r.groupSize());
        n.put("seconds", o.seconds());
        n.put("bytes_before", o.bytesBefore());
        n.put("bytes_after", o.bytesAfter());
        n.put("calib", r.calibration());
        n.put("calib_samples", r.calibSamples());
        n.put("calib_len", o.calibLength());
        putPerplexity(n, "before", o.before());
        putPerplexity(n, "after", o.after());
        ArrayNode layers = n.putArray("layers");
        for (QuantizeJob.LayerReport layer : o.layers()) {
            ObjectNode l = layers.addObject().put("layer", layer.layer()).put("seconds", layer.seconds())
                    .put("detail", layer.detail());
            ObjectNode errors = l.putObject("relative_errors");
            for (int i = 0; i < layer.relativeErrors().length; i++) {
                errors.put(QuantizedLayer.NAMES.get(i), layer.relativeErrors()[i]);
            }
        }
        return n;
    }

    private static void putPerplexity(ObjectNode n, String when, Perplexity.Result p) {
        if (p != null) {
            n.put("perplexity_" + when, p.perplexity());
            n.put("loss_" + when, p.loss());
        }
    }
}
