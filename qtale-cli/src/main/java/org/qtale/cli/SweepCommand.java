package org.qtale.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.QtaleException;
import org.qtale.cli.report.LineChart;
import org.qtale.eval.ChoiceTask;
import org.qtale.eval.EvalTask;
import org.qtale.eval.Sweep;
import org.qtale.eval.SweepReport;
import org.qtale.eval.TaskFiles;
import org.qtale.eval.TaskResult;
import org.qtale.format.AtomicFiles;
import org.qtale.tensor.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Accuracy against execution ratio: scores every model on every multiple-choice task, a model "
                + "with routers once per threshold θ and a model without routers once (the dense reference), as qtale "
                + "eval scores them. Writes sweep.json, sweep.md and one PNG chart per task (accuracy against execution "
                + "ratio, a line per routed model, a flat line per dense one) into --out."})
final class SweepCommand implements Callable<Integer> {
    static final String DEFAULT_THRESHOLDS = "0.5,0.45,0.4,0.35,0.3,0.25,0.2,0.15,0.1";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ThreadOptions threadOptions;

    @Option(names = "--models", required = true, arity = "1..*", paramLabel = "DIR",
            description = "Model directories (or llama2.c .bin files), with or without routers.")
    List<Path> models;

    @Option(names = "--task", required = true, arity = "1..*", paramLabel = "NAME=FILE",
            description = "A multiple-choice task, as for qtale eval. Repeatable.")
    List<String> tasks;

    @Option(names = "--thresholds", paramLabel = "θ,...", split = ",",
            description = "The thresholds of the routed models (default " + DEFAULT_THRESHOLDS + ").")
    List<Double> thresholds;

    @Option(names = "--limit", paramLabel = "N", description = "Score the first N examples of each task only.")
    Integer limit;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the JSON, table and charts go (default: sweep).")
    Path out = Path.of("sweep");

    @Option(names = "--json", description = "Print the sweep's JSON on stdout instead of the table.")
    boolean json;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        double[] thetas = validate(cl);
        PrintWriter stdout = cl.getOut();
        PrintWriter err = cl.getErr();
        List<ChoiceTask> loaded = new ArrayList<>();
        for (String[] task : EvalCommand.parseTasks(cl, tasks)) {
            EvalTask t = TaskFiles.load(task[0], task[1]);
            if (!(t instanceof ChoiceTask c)) {
                throw new QtaleException("qtale sweep charts multiple-choice accuracy, and " + t.source() + " is not a "
                        + "multiple-choice task.");
            }
            loaded.add(limit != null ? c.limit(limit) : c);
        }
        for (Path model : models) {
            if (!Files.exists(model)) {
                throw new QtaleException("The model " + model + " does not exist.");
            }
        }
        List<String> modelNames = Sweep.names(models);
        List<Sweep.Point> points;
        try (Parallel parallel = threadOptions.parallel(); ProgressListener listener = new ProgressListener(err)) {
            points = Sweep.run(models, modelNames, loaded, thetas, parallel, listener);
        }
        write(points, loaded);
        if (json) {
            stdout.println(Json.write(SweepReport.json(Json.MAPPER, points)));
        } else {
            stdout.print(SweepReport.markdown(points));
            stdout.println();
            stdout.println("report: " + out.resolve("sweep.md"));
        }
        stdout.flush();
        return 0;
    }

    private double[] validate(CommandLine cl) {
        threadOptions.validate(cl);
        if (limit != null && limit < 1) {
            throw new CommandLine.ParameterException(cl, "--limit must be >= 1, got " + limit + ".");
        }
        List<Double> list = thresholds;
        if (list == null) {
            list = new ArrayList<>();
            for (String t : DEFAULT_THRESHOLDS.split(",")) {
                list.add(Double.parseDouble(t));
            }
        }
        double[] thetas = new double[list.size()];
        for (int i = 0; i < thetas.length; i++) {
            thetas[i] = list.get(i);
            if (!(thetas[i] >= 0 && thetas[i] <= 1)) {
                throw new CommandLine.ParameterException(cl, "Every threshold must be in [0, 1], got " + list.get(i) + ".");
            }
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new CommandLine.ParameterException(cl, "--out " + out + " is a file, not a directory.");
        }
        return thetas;
    }

    /** sweep.json, sweep.md and sweep-TASK.png, each written whole. */
    private void write(List<Sweep.Point> points, List<ChoiceTask> loaded) {
        AtomicFiles.createDirectories(out);
        AtomicFiles.write(out.resolve("sweep.json"),
                (Json.write(SweepReport.json(Json.MAPPER, points)) + "\n").getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(out.resolve("sweep.md"), SweepReport.markdown(points).getBytes(StandardCharsets.UTF_8));
        java.util.Set<String> files = new java.util.HashSet<>();
        for (int t = 0; t < loaded.size(); t++) {
            String file = "sweep-" + fileName(loaded.get(t).name());
            if (!files.add(file)) {
                file += "-" + (t + 1); // two names that differ only in characters a file name cannot hold
                files.add(file);
            }
            chart(points, t, loaded.get(t).name()).writePng(out.resolve(file + ".png"), 900, 600);
        }
    }

    /** Accuracy on task {@code t} against execution ratio: a line per routed model, a flat line per dense one. */
    static LineChart chart(List<Sweep.Point> points, int t, String task) {
        LineChart chart = new LineChart(task + ": accuracy against execution ratio", "execution ratio (all layers)",
                "accuracy");
        double low = 1;
        for (Sweep.Point p : points) {
            low = Math.min(low, p.results().get(t).executionRatio());
        }
        List<String> models = points.stream().map(Sweep.Point::model).distinct().toList();
        for (String model : models) {
            List<Sweep.Point> line = points.stream().filter(p -> p.model().equals(model)).toList();
            if (line.getFirst().routed()) {
                double[] x = new double[line.size()];
                double[] y = new double[line.size()];
                for (int i = 0; i < line.size(); i++) {
                    TaskResult r = line.get(i).results().get(t);
                    x[i] = r.executionRatio();
                    y[i] = r.accuracy();
                }
                chart.add(new LineChart.Series(model, x, y, true));
            } else {
                double accuracy = line.getFirst().results().get(t).accuracy();
                chart.add(new LineChart.Series(model + " (dense)", new double[] {low, 1}, new double[] {accuracy, accuracy},
                        false));
            }
        }
        return chart;
    }

    private static String fileName(String task) {
        return task.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /** A line per evaluation started, and a bar or periodic lines through its examples. */
    private static final class ProgressListener implements Sweep.Listener, AutoCloseable {
        private final PrintWriter err;
        private Progress progress;

        ProgressListener(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void evaluating(String model, double threshold, ChoiceTask task) {
            if (progress != null) {
                progress.close();
            }
            String label = Double.isNaN(threshold) ? model + " dense"
                    : String.format(Locale.ROOT, "%s θ=%.3f", model, threshold);
            progress = Progress.start("sweep " + label + " " + task.name(), task.examples().size(), err);
        }

        @Override
        public void example(int done) {
            progress.update(done, "");
        }

        @Override
        public void close() {
            if (progress != null) {
                progress.close();
            }
        }
    }
}
