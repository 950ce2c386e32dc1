package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.bench.TrainBench;
import org.qtale.train.TrainShapes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Measures training speed: a whole step (forward, backward, AdamW) beside the matrix kernels alone.")
final class TrainBenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", defaultValue = "toy", paramLabel = "NAME",
            description = "Training shape: tiny or toy (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--vocab", paramLabel = "N", description = "Vocabulary size (default: the shape's).")
    Integer vocab;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "Sequences per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "T", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--steps", defaultValue = "10", paramLabel = "N", description = "Measured steps after two warm-up steps; the best is kept (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: the number of cores).")
    Integer threads;

    @Option(names = "--out", paramLabel = "FILE", description = "JSON results file (default bench-results/bench-train-SHAPE.json).")
    Path out;

    @Option(names = "--json", description = "Print the JSON results on stdout instead of the table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        CommandLine cl = spec.commandLine();
        TrainShapes.Shape s = TrainShapes.get(shape);
        int threadCount = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        int vocabSize = vocab != null ? vocab : s.defaultVocab();
        if (batch < 1 || seqLen < 2 || steps < 1 || threadCount < 1 || threadCount > 1024 || vocabSize < 2) {
            throw new CommandLine.ParameterException(cl, "--batch, --steps, --threads must be >= 1, --seq-len and --vocab >= 2.");
        }
        PrintWriter err = cl.getErr();
        TrainBench.Plan plan = new TrainBench.Plan(shape, vocabSize, batch, seqLen, steps, threadCount);
        TrainBench.Result r = TrainBench.run(plan, line -> {
            err.println("[bench train] " + line);
            err.flush();
        });
        ObjectNode report = Json.object();
        report.put("shape", shape);
        report.put("parameters", r.parameters());
        report.put("vocab", vocabSize);
        report.put("batch", batch);
        report.put("seq_len", seqLen);
        report.put("threads", threadCount);
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("step_seconds", r.stepSeconds());
        report.put("tokens_per_s", r.tokensPerSecond());
        report.put("step_gflops", r.stepGflops());
        report.put("kernel_gflops", r.kernelGflops());
        report.put("step_vs_kernel", r.ratio());
        Path file = out != null ? out : Path.of("bench-results", "bench-train-" + shape + ".json");
        BenchCommand.writeAtomically(file, Json.write(report));
        PrintWriter stdout = cl.getOut();
        if (json) {
            stdout.println(Json.write(report));
        } else {
            stdout.printf(Locale.ROOT, "%-6s %10s %5s %4s %3s | %9s %11s | %12s %14s | %s%n", "shape", "params", "batch",
                    "T", "thr", "step s", "tokens/s", "step GFLOP/s", "kernel GFLOP/s", "step vs kernel");
            stdout.printf(Locale.ROOT, "%-6s %10d %5d %4d %3d | %9.3f %11.0f | %12.1f %14.1f | %.2fx%n", shape,
                    r.parameters(), batch, seqLen, threadCount, r.stepSeconds(), r.tokensPerSecond(), r.stepGflops(),
                    r.kernelGflops(), r.ratio());
            stdout.println("JSON: " + file);
        }
        stdout.flush();
        return 0;
    }
}
