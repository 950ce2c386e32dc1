package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.QtaleException;
import org.qtale.bench.EndToEndBench;
import org.qtale.format.AtomicFiles;
import org.qtale.bench.ModelShapes;
import org.qtale.tensor.DType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {TrainBenchCommand.class, QuantizeBenchCommand.class}, description = "Measures prefill and decode speed on random weights of a real model shape, "
        + "beside the machine's memory bandwidth.")
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", defaultValue = "llama-3.2-1b", paramLabel = "NAME",
            description = "Model shape: llama-3.2-1b, small-110m, anchor-small or tiny (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--dtype", defaultValue = "f32", split = ",", paramLabel = "TYPE",
            description = "Weight dtypes, comma-separated: f32, bf16, f16, or q2, q3, q4, q8 (group-quantized in groups of 128, "
                    + "embedding and head BF16) (default ${DEFAULT-VALUE}); the first is the baseline.")
    List<String> dtypes;

    @Option(names = "--prompt", defaultValue = "128", paramLabel = "N", description = "Prompt tokens (default ${DEFAULT-VALUE}).")
    int prompt;

    @Option(names = "--gen", defaultValue = "64", paramLabel = "N", description = "Generated tokens (default ${DEFAULT-VALUE}).")
    int gen;

    @Option(names = "--threads", defaultValue = "1,2", split = ",", paramLabel = "N",
            description = "Thread counts, comma-separated (default ${DEFAULT-VALUE}).")
    List<Integer> threads;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Prefill batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--repeat", defaultValue = "2", paramLabel = "N", description = "Measured runs; the best is kept (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--bandwidth-mib", defaultValue = "1024", paramLabel = "MiB",
            description = "Buffer streamed to measure memory bandwidth (default ${DEFAULT-VALUE}).")
    int bandwidthMib;

    @Option(names = "--execution-ratio", split = ",", paramLabel = "R",
            description = "Also run behind D-LLM routers forced to execute this share of the routed layers (e.g. 0.75,0.5), beside the dense model.")
    List<Double> executionRatios = List.of();

    @Option(names = "--out", paramLabel = "FILE", description = "JSON results file (default bench-results/bench-SHAPE.json).")
    Path out;

    @Option(names = "--json", description = "Print the JSON results on stdout instead of the table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        validate();
        ModelShapes.get(shape);
        List<DType> types = dtypes.stream().map(BenchCommand::weightType).toList();
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EndToEndBench.Plan plan = new EndToEndBench.Plan(shape, types, prompt, gen, threads, batch, repeat,
                (long) bandwidthMib << 20, executionRatios);
        List<EndToEndBench.Result> results = EndToEndBench.run(plan, line -> {
            err.println("[bench] " + line);
            err.flush();
        });
        ObjectNode report = report(plan, results);
        Path file = out != null ? out : Path.of("bench-results", "bench-" + shape + ".json");
        writeAtomically(file, Json.write(report));
        if (json) {
            stdout.println(Json.write(report));
        } else {
            printTable(stdout, results);
            stdout.println("JSON: " + file);
        }
        stdout.flush();
        return 0;
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        if (prompt < 1 || gen < 2) {
            throw new CommandLine.ParameterException(cl, "--prompt must be >= 1 and --gen >= 2.");
        }
        if (batch < 1 || repeat < 1 || bandwidthMib < 16) {
            throw new CommandLine.ParameterException(cl, "--batch and --repeat must be >= 1, --bandwidth-mib >= 16.");
        }
        for (double r : executionRatios) {
            if (!(r >= 0 && r <= 1)) {
                throw new CommandLine.ParameterException(cl, "--execution-ratio values must be in [0, 1], got " + r + ".");
            }
        }
        for (int t : threads) {
            if (t < 1 || t > 1024) {
                throw new CommandLine.ParameterException(cl, "--threads values must be between 1 and 1024, got " + t + ".");
            }
        }
    }

    private static EndToEndBench.Result baseline(List<EndToEndBench.Result> results, EndToEndBench.Result r) {
        return results.stream().filter(b -> b.threads() == r.threads() && b.dense()).findFirst().orElse(r);
    }

    /** The dense run of the same dtype and thread count, which a routed run is compared with. */
    private static EndToEndBench.Result dense(List<EndToEndBench.Result> results, EndToEndBench.Result r) {
        return results.stream().filter(b -> b.threads() == r.threads() && b.dtype() == r.dtype() && b.dense())
                .findFirst().orElse(r);
    }

    private static void printTable(PrintWriter out, List<EndToEndBench.Result> results) {
        out.printf(Locale.ROOT, "%-13s %-10s %3s | %9s %9s | %9s %8s %8s %7s | %s%n", "shape", "dtype", "thr",
                "prefill", "decode", "MB/token", "GB/s", "BW GB/s", "of BW", "decode vs baseline");
        for (EndToEndBench.Result r : results) {
            EndToEndBench.Result base = baseline(results, r);
            String label = r.dense() ? r.dtype().toString() : r.dtype() + " r" + r.executionRatio();
            String versus = r.dense() ? String.format(Locale.ROOT, "%.2fx %s", r.decodeTokensPerS() / base.decodeTokensPerS(), base.dtype())
                    : String.format(Locale.ROOT, "%.2fx dense decode, %.2fx prefill (bytes predict %.2fx)",
                            r.decodeTokensPerS() / dense(results, r).decodeTokensPerS(),
                            r.prefillTokensPerS() / dense(results, r).prefillTokensPerS(),
                            (double) dense(results, r).bytesPerToken() / r.bytesPerToken());
            out.printf(Locale.ROOT, "%-13s %-10s %3d | %7.1f/s %7.2f/s | %9.1f %8.1f %8.1f %6.0f%% | %s%n",
                    r.shape(), label, r.threads(), r.prefillTokensPerS(), r.decodeTokensPerS(),
                    r.bytesPerToken() / 1e6, r.effectiveBytesPerS() / 1e9, r.bandwidthBytesPerS() / 1e9,
                    100 * r.fractionOfBound(), versus);
        }
        out.println("tokens/s; 'of BW' = decode rate / (measured bandwidth / bytes read per token); rN = routers forced "
                + "to run a share N of the routed layers.");
    }

    private static ObjectNode report(EndToEndBench.Plan plan, List<EndToEndBench.Result> results) {
        ObjectNode o = Json.object();
        o.put("shape", plan.shape());
        o.put("prompt_tokens", plan.promptTokens());
        o.put("gen_tokens", plan.genTokens());
        o.put("prefill_batch", plan.prefillBatch());
        o.put("cores", Runtime.getRuntime().availableProcessors());
        o.put("java", Runtime.version().toString());
        o.put("vector_bits", jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
        ArrayNode rows = o.putArray("results");
        for (EndToEndBench.Result r : results) {
            EndToEndBench.Result base = baseline(results, r);
            ObjectNode row = rows.addObject();
            row.put("dtype", r.dtype().name().toLowerCase(Locale.ROOT));
            row.put("threads", r.threads());
            row.put("prefill_tokens_per_s", r.prefillTokensPerS());
            row.put("decode_tokens_per_s", r.decodeTokensPerS());
            row.put("bytes_per_token", r.bytesPerToken());
            row.put("effective_gb_per_s", r.effectiveBytesPerS() / 1e9);
            row.put("measured_bandwidth_gb_per_s", r.bandwidthBytesPerS() / 1e9);
            row.put("bandwidth_bound_tokens_per_s", r.boundTokensPerS());
            row.put("fraction_of_bandwidth_bound", r.fractionOfBound());
            row.put("baseline_dtype", base.dtype().name().toLowerCase(Locale.ROOT));
            row.put("decode_ratio_vs_baseline", r.decodeTokensPerS() / base.decodeTokensPerS());
            row.put("prefill_ratio_vs_baseline", r.prefillTokensPerS() / base.prefillTokensPerS());
            if (!r.dense()) {
                EndToEndBench.Result dense = dense(results, r);
                double predicted = (double) dense.bytesPerToken() / r.bytesPerToken();
                double measured = r.decodeTokensPerS() / dense.decodeTokensPerS();
                row.put("execution_ratio", r.executionRatio());
                row.put("predicted_decode_speedup", predicted);
                row.put("decode_speedup_vs_dense", measured);
                row.put("prefill_speedup_vs_dense", r.prefillTokensPerS() / dense.prefillTokensPerS());
                row.put("decode_speedup_of_predicted", measured / predicted);
            }
        }
        return o;
    }

    static void writeAtomically(Path file, String content) {
        AtomicFiles.write(file, content.getBytes(StandardCharsets.UTF_8));
    }


    /** A float dtype name, or {@code q2}, {@code q3}, {@code q4}, {@code q8} for the group-quantized formats. */
    static DType weightType(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.matches("q[0-9]+")) {
            return DType.quantized(Integer.parseInt(lower.substring(1)));
        }
        return DType.parse(name);
    }
}
