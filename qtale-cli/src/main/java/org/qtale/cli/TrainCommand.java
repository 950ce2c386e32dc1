package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.adaptive.RouterConfig;
import org.qtale.cli.report.LineChart;
import org.qtale.train.finetune.EpochReport;
import org.qtale.train.finetune.FineTuneJob;
import org.qtale.train.finetune.FineTuneSettings;
import org.qtale.train.finetune.RouterFineTuner;
import org.qtale.train.nn.RoutingStats;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Fine-tunes token-adaptive layer execution: D-LLM routers (--entropy-weight 0) or QTALE "
                + "(--entropy-weight > 0), with LoRA on q, k, v; the base weights stay frozen.",
                "Writes a Hugging Face directory with the merged weights, the routers, finetune.json and routing.png."})
final class TrainCommand implements Callable<Integer> {
    static final String ROUTING_CHART = "routing.png";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "The model to fine-tune: a Hugging Face directory (its routers, if any, are continued) or a llama2.c .bin.")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "SPEC",
            description = "toyworld[:seed=S,docs=N,heldout=N,families=a+b] (loss on the answers), an Alpaca-style .json "
                    + "(loss on the responses), or a text / .jsonl file (loss on every token).")
    String data;

    @Option(names = "--target-ratio", required = true, paramLabel = "R",
            description = "Target execution ratio: the fraction of all layers a token runs, the always-on first layers included (D-LLM uses 0.5).")
    double targetRatio;

    @Option(names = "--rate-weight", required = true, paramLabel = "α",
            description = "Weight of the execution-rate loss, ramped up over the run by D-LLM's sine schedule.")
    double rateWeight;

    @Option(names = "--entropy-weight", required = true, paramLabel = "λ2",
            description = "Weight of QTALE's router-entropy regularizer; 0 is D-LLM.")
    double entropyWeight;

    @Option(names = "--lora-rank", defaultValue = "8", paramLabel = "R", description = "LoRA rank on q, k, v; 0 trains the routers alone (default ${DEFAULT-VALUE}).")
    int loraRank;

    @Option(names = "--lora-dropout", defaultValue = "0.05", paramLabel = "P", description = "Dropout on the LoRA branch (default ${DEFAULT-VALUE}).")
    float loraDropout;

    @Option(names = "--epochs", defaultValue = "2", paramLabel = "E", description = "Passes over the training examples (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "1e-3", paramLabel = "X", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--warmup", defaultValue = "0.1", paramLabel = "E", description = "Warm-up in epochs, then cosine to 0 (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "B", description = "Examples per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "T", description = "Longest example in tokens (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--router-width", defaultValue = "0", paramLabel = "H", description = "Hidden width of new routers (default max(16, dim/8)).")
    int routerWidth;

    @Option(names = "--start-layer", defaultValue = "" + RouterConfig.DEFAULT_START_LAYER, paramLabel = "L",
            description = "First routed layer of new routers; earlier layers always run (default ${DEFAULT-VALUE}).")
    int startLayer;

    @Option(names = "--reserved-tokens", defaultValue = "" + RouterConfig.DEFAULT_RESERVED_TOKENS, paramLabel = "M",
            description = "Leading positions that always run every layer (default ${DEFAULT-VALUE}).")
    int reservedTokens;

    @Option(names = "--questions", defaultValue = "280", paramLabel = "N",
            description = "Held-out multiple-choice questions scored per threshold on toyworld data (default ${DEFAULT-VALUE}).")
    int questions;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of order, noise, dropout and new routers (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model directory.")
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
        if (reservedTokens < 0 || questions < 0 || routerWidth < 0) {
            throw new CommandLine.ParameterException(cl, "--reserved-tokens, --questions and --router-width must be >= 0.");
        }
        FineTuneSettings settings = new FineTuneSettings(targetRatio, rateWeight, entropyWeight, loraRank, loraDropout,
                epochs, lr, warmup, batch, maxTokens, FineTuneSettings.DEFAULT_WEIGHT_DECAY, seed);
        FineTuneJob.Request request = new FineTuneJob.Request(model, data, settings, routerWidth, startLayer,
                reservedTokens, out, overwrite, threads.count(), questions);
        PrintWriter err = cl.getErr();
        FineTuneJob.Outcome outcome;
        try (LazyProgress progress = new LazyProgress("train", err)) {
            outcome = FineTuneJob.run(request, reporter(progress));
        }
        PrintWriter stdout = cl.getOut();
        if (json) {
            ObjectNode o = Json.object();
            o.put("out", outcome.out().toString());
            o.setAll(FineTuneJob.summary(request, outcome));
            o.put("routing_chart", outcome.out().resolve(ROUTING_CHART).toString());
            stdout.println(Json.write(o));
        } else {
            printEpochs(stdout, outcome);
            printSweep(stdout, outcome);
            stdout.println("model: " + outcome.out());
            stdout.println("routing curves: " + outcome.out().resolve(ROUTING_CHART));
        }
        stdout.flush();
        return 0;
    }

    static FineTuneJob.Reporter reporter(LazyProgress progress) {
        return new FineTuneJob.Reporter() {
            @Override
            public void log(String line) {
                progress.note(line);
            }

            @Override
            public void onStep(int step, int steps, double loss, double executionRatio, double tokensPerSecond) {
                progress.update(step, steps, String.format(Locale.ROOT, "CE %.3f ratio %.2f %.0f tok/s", loss,
                        executionRatio, tokensPerSecond));
            }

            @Override
            public void onEpoch(EpochReport e) {
                progress.note(String.format(Locale.ROOT, "epoch %d: CE %.3f, rate loss %.3f (α %.2f), execution ratio "
                        + "%.3f, mean |Δ| %.2f, flip probability %.3f; held-out at θ = 0.5: CE %.3f, ratio %.3f",
                        e.epoch(), e.crossEntropy(), e.rateLoss(), e.rateWeight(), e.train().executionRatio(),
                        e.train().meanAbsGap(), e.train().flipProbability(), e.heldOutLoss(),
                        e.heldOut() == null ? Double.NaN : e.heldOut().executionRatio()));
            }

            @Override
            public void onSweepPoint(FineTuneJob.SweepPoint p) {
                progress.note(String.format(Locale.ROOT, "%s: held-out CE %.3f, execution ratio %.3f%s",
                        p.dense() ? "dense" : String.format(Locale.ROOT, "θ = %.2f", p.theta()), p.loss(),
                        p.executionRatio(), p.accuracy() == null ? "" : String.format(Locale.ROOT,
                                ", questions %.1f%%", 100 * p.accuracy().value())));
            }

            @Override
            public void finish(Path staging, FineTuneJob.Outcome outcome) {
                writeRoutingChart(outcome, staging.resolve(ROUTING_CHART));
            }
        };
    }

    /** Per routed layer, over the run: execution ratio, mean |logit gap| and flip probability, stacked. */
    static void writeRoutingChart(FineTuneJob.Outcome outcome, Path file) {
        List<RouterFineTuner.CurvePoint> curve = outcome.curve();
        double[] x = curve.stream().mapToDouble(RouterFineTuner.CurvePoint::epoch).toArray();
        LineChart ratio = new LineChart("", "epoch", "execution ratio");
        LineChart gap = new LineChart("", "epoch", "mean |logit gap|");
        LineChart flip = new LineChart("", "epoch", "flip probability");
        RoutingStats first = curve.get(0).stats();
        for (int l = first.startLayer(); l < first.layers(); l++) {
            int layer = l;
            ratio.add(new LineChart.Series("layer " + l, x, series(curve, s -> s.layerRatio(layer)), true));
            gap.add(new LineChart.Series("layer " + l, x, series(curve, s -> s.meanAbsGap(layer)), true));
            flip.add(new LineChart.Series("layer " + l, x, series(curve, s -> s.flipProbability(layer)), true));
        }
        String method = outcome.method().equals("qtale") ? "QTALE" : "D-LLM";
        LineChart.writeStackedPng(String.format(Locale.ROOT, "%s router fine-tuning (target %.2f): per routed layer, "
                + "under Gumbel noise", method, outcome.settings().targetRatio()), "epoch", List.of(ratio, gap, flip),
                file, 900, 900);
    }

    private static double[] series(List<RouterFineTuner.CurvePoint> curve, java.util.function.ToDoubleFunction<RoutingStats> f) {
        return curve.stream().mapToDouble(p -> f.applyAsDouble(p.stats())).toArray();
    }

    private static void printEpochs(PrintWriter out, FineTuneJob.Outcome outcome) {
        out.printf(Locale.ROOT, "fine-tuned %d epochs in %.0f s (%,d trainable parameters)%n", outcome.epochs().size(),
                outcome.seconds(), outcome.trainableParameters());
        out.printf(Locale.ROOT, "  %5s %8s %8s %8s %8s %8s %10s %10s%n", "epoch", "CE", "rate", "ratio", "|Δ|", "P_flip",
                "held CE", "held ratio");
        for (EpochReport e : outcome.epochs()) {
            out.printf(Locale.ROOT, "  %5d %8.3f %8.3f %8.3f %8.2f %8.3f %10.3f %10.3f%n", e.epoch(), e.crossEntropy(),
                    e.rateLoss(), e.train().executionRatio(), e.train().meanAbsGap(), e.train().flipProbability(),
                    e.heldOutLoss(), e.heldOut() == null ? Double.NaN : e.heldOut().executionRatio());
        }
    }

    private static void printSweep(PrintWriter out, FineTuneJob.Outcome outcome) {
        boolean questions = outcome.dense().accuracy() != null;
        out.println("held-out: the base model, the fine-tuned model dense and by threshold θ (execution ratio over all"
                + " layers; routed layers only in brackets):");
        out.printf(Locale.ROOT, "  %-7s %8s %16s%s%n", "θ", "CE", "execution ratio", questions ? "   questions" : "");
        List<String> rows = new ArrayList<>();
        List<FineTuneJob.SweepPoint> points = new ArrayList<>();
        points.add(outcome.base());
        points.addAll(outcome.sweep());
        for (int i = 0; i < points.size(); i++) {
            FineTuneJob.SweepPoint p = points.get(i);
            String label = i == 0 ? "base" : p.dense() ? "dense" : String.format(Locale.ROOT, "%.2f", p.theta());
            String acc = p.accuracy() == null ? "" : String.format(Locale.ROOT, "   %5.1f%% ± %.1f", 100 * p.accuracy().value(),
                    100 * p.accuracy().standardError());
            rows.add(String.format(Locale.ROOT, "  %-7s %8.3f %7.3f (%5.3f)%s", label, p.loss(), p.executionRatio(),
                    p.routedExecutionRatio(), acc));
        }
        rows.forEach(out::println);
    }
}
