package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.QtaleException;
import org.qtale.adaptive.RouterSet;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.finetune.FineTuneData;
import org.qtale.train.finetune.ThresholdCalibration;
import org.qtale.train.finetune.ThresholdCalibration.Evaluation;
import org.qtale.train.finetune.ThresholdCalibration.Result;
import org.qtale.train.finetune.TokenExample;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Chooses the execution threshold θ of a model with routers (a routed layer runs for a token iff "
                + "p_exec >= θ) on the held-out split of fine-tuning data: for a target execution ratio, or the largest "
                + "θ (of 0.5, 0.45, ..., 0, refined to 0.001) whose loss stays within ε of the dense model's.",
            "The execution ratio is the one fine-tuning's --target-ratio aims at: the mean over tokens of the share of "
                + "all layers run (the always-on first layers count as run), over every token but the reserved first "
                + "positions, prompt included. The loss is the mean cross-entropy of the answer tokens in nats. Each θ "
                + "is measured by running the whole held-out set. Nothing is written without --write."})
final class CalibrateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ThreadOptions threadOptions;

    @Option(names = "--data", required = true, paramLabel = "SPEC",
            description = "Fine-tuning data: toyworld[:seed=S,...], an Alpaca .json file, or a text or .jsonl file; "
                    + "calibration uses its held-out split (the last twentieth of a file).")
    String data;

    @Option(names = "--target-ratio", paramLabel = "R",
            description = "Choose the θ whose execution ratio (all layers) is closest to R, in [0, 1].")
    Double targetRatio;

    @Option(names = "--max-loss-increase", paramLabel = "ε",
            description = "Choose the largest θ whose loss is at most the dense loss + ε (nats per answer token, >= 0).")
    Double maxLossIncrease;

    @Option(names = "--write", description = "Store the chosen θ as the model's default (qtale.threshold in config.json).")
    boolean write;

    @Option(names = "--limit", paramLabel = "N", description = "Calibrate on the first N held-out examples only (default: all).")
    Integer limit;

    @Option(names = "--max-tokens", paramLabel = "T", description = "Tokens per example at most (default: the model's context).")
    Integer maxTokens;

    @Option(names = "--json", description = "Print one JSON object with the results on stdout.")
    boolean json;

    @Override
    public Integer call() {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LlamaModel model = modelOptions.openModel(); Parallel parallel = threadOptions.parallel()) {
            ThresholdCalibration.requireRouters(model);
            if (write && !Files.isDirectory(modelOptions.model)) {
                throw new QtaleException("--write stores θ in a model directory's config.json, and " + modelOptions.model
                        + " is not a directory.");
            }
            int context = model.config().contextLength();
            if (maxTokens != null && maxTokens > context) {
                throw new QtaleException("--max-tokens " + maxTokens + " exceeds the model's context of " + context + " tokens.");
            }
            Tokenizer tokenizer = modelOptions.openTokenizer(model);
            List<TokenExample> examples = FineTuneData.load(data, tokenizer, maxTokens != null ? maxTokens : context).heldOut();
            if (examples.isEmpty()) {
                throw new QtaleException("The data " + data + " has no held-out examples to calibrate on.");
            }
            if (limit != null && limit < examples.size()) {
                examples = examples.subList(0, limit);
            }
            ProgressLines progress = new ProgressLines(err);
            ThresholdCalibration calibration = new ThresholdCalibration(model, examples, parallel, progress::point);
            Result result = targetRatio != null ? calibration.forTargetRatio(targetRatio)
                    : calibration.forMaxLossIncrease(maxLossIncrease);
            if (write) {
                RouterSet.writeThreshold(modelOptions.model, result.threshold());
            }
            if (json) {
                out.println(Json.write(report(result, examples.size())));
            } else {
                printTable(out, result, examples.size());
            }
            out.flush();
        }
        return 0;
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        if ((targetRatio == null) == (maxLossIncrease == null)) {
            throw new CommandLine.ParameterException(cl, "Give exactly one of --target-ratio and --max-loss-increase.");
        }
        if (targetRatio != null && !(targetRatio >= 0 && targetRatio <= 1)) {
            throw new CommandLine.ParameterException(cl, "--target-ratio must be in [0, 1], got " + targetRatio + ".");
        }
        if (maxLossIncrease != null && (!(maxLossIncrease >= 0) || maxLossIncrease.isInfinite())) {
            throw new CommandLine.ParameterException(cl, "--max-loss-increase must be a finite number >= 0, got "
                    + maxLossIncrease + ".");
        }
        if (limit != null && limit < 1) {
            throw new CommandLine.ParameterException(cl, "--limit must be >= 1, got " + limit + ".");
        }
        if (maxTokens != null && maxTokens < 2) {
            throw new CommandLine.ParameterException(cl, "--max-tokens must be >= 2, got " + maxTokens + ".");
        }
        threadOptions.validate(cl);
    }

    /** One line on stderr per policy measured: the dense baseline first, then each θ. */
    private static final class ProgressLines {
        private final PrintWriter err;
        private double denseLoss = Double.NaN;
        private int count;

        ProgressLines(PrintWriter err) {
            this.err = err;
        }

        void point(Evaluation e) {
            if (Float.isNaN(e.threshold())) {
                denseLoss = e.loss();
                err.printf(Locale.ROOT, "[calibrate] dense: loss %.4f over %d answer tokens%n", e.loss(), e.answerTokens());
            } else {
                count++;
                err.printf(Locale.ROOT, "[calibrate] point %d: θ %.4f, execution ratio %.4f (routed %.4f), loss %.4f (%+.4f)%n",
                        count, e.threshold(), e.executionRatio(), e.routedExecutionRatio(), e.loss(), e.loss() - denseLoss);
            }
            err.flush();
        }
    }

    private void printTable(PrintWriter out, Result r, int examples) {
        Evaluation dense = r.dense();
        out.printf(Locale.ROOT, "calibrated on %d held-out examples of %s (%,d tokens past the reserved positions, "
                + "%,d answer tokens)%n", examples, data, dense.tokens(), dense.answerTokens());
        out.printf(Locale.ROOT, "  %-7s %15s %12s %11s %8s %8s%n", "θ", "execution ratio", "routed ratio", "FLOPs ratio",
                "loss", "Δloss");
        out.printf(Locale.ROOT, "  %-7s %15.4f %12.4f %11.4f %8.4f %8s%n", "dense", dense.executionRatio(),
                dense.routedExecutionRatio(), dense.flopsRatio(), dense.loss(), "");
        for (Evaluation e : r.points()) {
            out.printf(Locale.ROOT, "%s %-7s %15.4f %12.4f %11.4f %8.4f %+8.4f%n", e == r.chosen() ? "*" : " ",
                    String.format(Locale.ROOT, "%.4f", e.threshold()), e.executionRatio(), e.routedExecutionRatio(),
                    e.flopsRatio(), e.loss(), e.loss() - dense.loss());
        }
        if (!r.monotone()) {
            out.println("note: the execution ratio rose with θ somewhere above (decisions interact through the depth).");
        }
        Evaluation c = r.chosen();
        String goal = r.goal() == ThresholdCalibration.Goal.TARGET_RATIO
                ? String.format(Locale.ROOT, "execution ratio closest to %s", r.goalValue())
                : String.format(Locale.ROOT, "largest θ with loss within %s nats of dense", r.goalValue());
        out.printf(Locale.ROOT, "chosen θ = %.4f (%s): execution ratio %.4f (routed layers %.4f), FLOPs ratio %.4f, "
                + "loss %.4f (%+.4f vs dense %.4f)%n", c.threshold(), goal, c.executionRatio(), c.routedExecutionRatio(),
                c.flopsRatio(), c.loss(), c.loss() - dense.loss(), dense.loss());
        out.println(write ? "written to " + modelOptions.model.resolve("config.json")
                : "not written; add --write to store it in the model's config.json");
    }

    private ObjectNode report(Result r, int examples) {
        Evaluation c = r.chosen();
        ObjectNode o = Json.object();
        o.put("threshold", c.threshold());
        o.put("execution_ratio", c.executionRatio());
        o.put("routed_execution_ratio", c.routedExecutionRatio());
        o.put("flops_ratio", c.flopsRatio());
        o.put("loss", c.loss());
        o.put("dense_loss", r.dense().loss());
        if (r.goal() == ThresholdCalibration.Goal.TARGET_RATIO) {
            o.put("target_ratio", r.goalValue());
        } else {
            o.put("max_loss_increase", r.goalValue());
        }
        o.put("examples", examples);
        o.put("counted_tokens", c.tokens());
        o.put("answer_tokens", c.answerTokens());
        o.put("monotone", r.monotone());
        o.put("written", write);
        ArrayNode points = o.putArray("points");
        for (Evaluation e : r.points()) {
            points.addObject().put("threshold", e.threshold()).put("execution_ratio", e.executionRatio())
                    .put("routed_execution_ratio", e.routedExecutionRatio()).put("flops_ratio", e.flopsRatio())
                    .put("loss", e.loss()).put("loss_increase", e.loss() - r.dense().loss());
        }
        return o;
    }
}
