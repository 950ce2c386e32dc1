package org.qtale.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.eval.ChoiceEvaluator;
import org.qtale.eval.ChoiceTask;
import org.qtale.eval.TaskFiles;
import org.qtale.eval.TaskResult;
import org.qtale.format.HfConfig;
import org.qtale.format.ModelLoader;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaModel;
import org.qtale.quant.QuantizeJob;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.finetune.FineTuneData;
import org.qtale.train.finetune.FineTuneJob;
import org.qtale.train.finetune.FineTuneSettings;
import org.qtale.train.finetune.ThresholdCalibration;
import org.qtale.train.finetune.TokenExample;

/**
 * The QTALE experiment in miniature on the default model: D-LLM and QTALE routers fine-tuned from it, each model
 * (and the dense one) quantized with AWQ at 4 and 3 bits, and every variant scored on the built-in questions, the
 * routed ones at D-LLM's θ = 0.5 and at the θ calibration picks to run the target share of layers. Every model it
 * builds is cached beside the default model under a key of its recipe, so a second run only calibrates and scores.
 */
final class DemoPipeline {
    static final int FINETUNE_DOCS = 2000;
    static final double TARGET_RATIO = 0.75;
    static final double RATE_WEIGHT = 10;
    static final double QTALE_ENTROPY_WEIGHT = 1;
    static final int EPOCHS = 2;
    static final float LEARNING_RATE = 1e-2f;
    static final long SEED = 1;
    static final int GROUP_SIZE = 64;
    static final int CALIB_SAMPLES = 32;
    static final int QUESTIONS = org.qtale.train.pretrain.PretrainJob.QUESTIONS;
    static final int CALIB_LENGTH = 256;
    static final int[] BITS = {4, 3};
    /** Held-out fine-tuning examples calibration runs, at most. */
    static final int CALIBRATION_EXAMPLES = 100;
    /** The thresholds of the chart. */
    static final double[] THRESHOLDS = {0.5, 0.4, 0.3, 0.2, 0.1};
    /** Bump when the pipeline's recipe changes the numbers. */
    static final String VERSION = "p1";

    /** A model the comparison scores: its method (fp, d-llm, qtale) and weights (fp, awq4, awq3). */
    record Variant(String method, String weights, Path dir) {
        String label() {
            String m = switch (method) {
                case "fp" -> "dense";
                case "d-llm" -> "D-LLM";
                default -> "QTALE";
            };
            String w = weights.equals("fp") ? "FP" : "AWQ " + weights.substring(3) + "-bit";
            return m + " + " + w;
        }

        boolean routed() {
            return !method.equals("fp");
        }
    }

    /** One scored setting: the variant, its θ (NaN dense) and how θ was chosen. */
    record Row(Variant variant, String setting, double threshold, TaskResult result) {
    }

    /** The comparison rows, the chart's points per routed quantized variant, and the calibration data's size. */
    record Outcome(List<Row> rows, List<ChartLine> lines, int calibrationExamples) {
    }

    /** Accuracy against execution ratio of one variant over {@link #THRESHOLDS}. */
    record ChartLine(Variant variant, double[] ratios, double[] accuracies) {
    }

    private final Path base;
    private final Path models;
    private final int threads;
    private final PrintWriter err;
    private final String finetuneData;
    private final int calibSamples;
    private final int questionLimit;

    /**
     * @param finetuneDocs  toyworld documents to fine-tune the routers on (a sixth as many more, 20 to 300, are held
     *                      out for calibration)
     * @param calibSamples  AWQ's calibration windows of {@value #CALIB_LENGTH} tokens
     * @param questionLimit how many of the 280 held-out questions to score (0: all)
     */
    DemoPipeline(Path base, int threads, PrintWriter err, int finetuneDocs, int calibSamples, int questionLimit) {
        this.base = base;
        this.models = base.getParent();
        this.threads = threads;
        this.err = err;
        this.finetuneData = "toyworld:docs=" + finetuneDocs + ",heldout=" + Math.max(20, Math.min(300, finetuneDocs / 6));
        this.calibSamples = calibSamples;
        this.questionLimit = questionLimit;
    }

    Outcome run() {
        List<Variant> variants = new ArrayList<>();
        variants.add(new Variant("fp", "fp", base));
        Path dllm = fineTune("d-llm", 0);
        Path qtale = fineTune("qtale", QTALE_ENTROPY_WEIGHT);
        variants.add(new Variant("d-llm", "fp", dllm));
        variants.add(new Variant("qtale", "fp", qtale));
        for (int bits : BITS) {
            variants.add(new Variant("fp", "awq" + bits, quantize(base, "fp", bits)));
            variants.add(new Variant("d-llm", "awq" + bits, quantize(dllm, "d-llm", bits)));
            variants.add(new Variant("qtale", "awq" + bits, quantize(qtale, "qtale", bits)));
        }
        ChoiceTask questions = TaskFiles.toyWorld("toyworld").limit(questionLimit);
        List<Row> rows = new ArrayList<>();
        List<ChartLine> lines = new ArrayList<>();
        // every variant keeps the default model's tokenizer and context, so the calibration examples are the same
        List<TokenExample> heldOut;
        try (LlamaModel model = ModelLoader.loadModel(base)) {
            heldOut = FineTuneData.load(finetuneData, TokenizerFiles.open(base, null, model.config().vocabSize()),
                    model.config().contextLength()).heldOut();
        }
        heldOut = heldOut.subList(0, Math.min(CALIBRATION_EXAMPLES, heldOut.size()));
        try (Parallel parallel = new Parallel(threads)) {
            for (Variant v : variants) {
                try (LlamaModel model = ModelLoader.loadModel(v.dir())) {
                    Tokenizer tokenizer = TokenizerFiles.open(v.dir(), null, model.config().vocabSize());
                    if (!v.routed()) {
                        rows.add(new Row(v, "dense", Double.NaN, score(model, tokenizer, parallel, null, questions, v, "dense")));
                        continue;
                    }
                    TaskResult atHalf = score(model, tokenizer, parallel, ExecutionPolicy.threshold(0.5f), questions, v,
                            "θ = 0.5");
                    rows.add(new Row(v, "θ = 0.5", 0.5, atHalf));
                    say("calibrating θ of " + v.label() + " to the target ratio " + TARGET_RATIO + " on "
                            + heldOut.size() + " held-out examples");
                    float theta = new ThresholdCalibration(model, heldOut, parallel).forTargetRatio(TARGET_RATIO)
                            .threshold();
                    rows.add(new Row(v, "calibrated", theta, score(model, tokenizer, parallel,
                            ExecutionPolicy.threshold(theta), questions, v, String.format(Locale.ROOT, "θ = %.3f", theta))));
                    if (!v.weights().equals("fp")) {
                        double[] ratios = new double[THRESHOLDS.length];
                        double[] accuracies = new double[THRESHOLDS.length];
                        for (int i = 0; i < THRESHOLDS.length; i++) {
                            TaskResult r = THRESHOLDS[i] == 0.5 ? atHalf
                                    : score(model, tokenizer, parallel, ExecutionPolicy.threshold((float) THRESHOLDS[i]),
                                            questions, v, String.format(Locale.ROOT, "θ = %.2f", THRESHOLDS[i]));
                            ratios[i] = r.executionRatio();
                            accuracies[i] = r.accuracy();
                        }
                        lines.add(new ChartLine(v, ratios, accuracies));
                    }
                }
            }
        }
        return new Outcome(rows, lines, heldOut.size());
    }

    private TaskResult score(LlamaModel model, Tokenizer tokenizer, Parallel parallel, ExecutionPolicy policy,
            ChoiceTask questions, Variant v, String setting) {
        try (Progress progress = Progress.start("demo: " + v.label() + ", " + setting, questions.examples().size(), err)) {
            return new ChoiceEvaluator(model, tokenizer, parallel, policy).evaluate(questions,
                    done -> progress.update(done, ""));
        }
    }

    /** The routers fine-tuned from the default model (D-LLM when {@code entropyWeight} is 0), cached. */
    private Path fineTune(String method, double entropyWeight) {
        FineTuneSettings settings = new FineTuneSettings(TARGET_RATIO, RATE_WEIGHT, entropyWeight,
                FineTuneSettings.DEFAULT_LORA_RANK, FineTuneSettings.DEFAULT_LORA_DROPOUT, EPOCHS, LEARNING_RATE, 0.1, 8,
                256, FineTuneSettings.DEFAULT_WEIGHT_DECAY, SEED);
        Path out = models.resolve(base.getFileName() + "-" + method + "-"
                + Integer.toHexString((finetuneData + settings + VERSION).hashCode()));
        if (Files.isRegularFile(out.resolve(HfConfig.FILE))) {
            say("using the cached " + method + " model " + out);
            return out;
        }
        say("fine-tuning " + (method.equals("qtale") ? "QTALE" : "D-LLM") + " routers (target ratio " + TARGET_RATIO
                + (entropyWeight > 0 ? ", entropy weight " + entropyWeight : "") + ") into " + out);
        FineTuneJob.Request request = new FineTuneJob.Request(base, finetuneData, settings, 0, 2, 2, out, false,
                threads, 0);
        try (LazyProgress progress = new LazyProgress("demo: fine-tune " + method, err)) {
            FineTuneJob.run(request, TrainCommand.reporter(progress));
        }
        return out;
    }

    /** {@code model} quantized with AWQ at {@code bits}, cached. */
    private Path quantize(Path model, String method, int bits) {
        Path out = Path.of(model + "-awq" + bits + "-g" + GROUP_SIZE + "-" + Integer.toHexString(
                ("toyworld" + calibSamples + "x" + CALIB_LENGTH + VERSION).hashCode()));
        if (Files.isRegularFile(out.resolve(HfConfig.FILE))) {
            say("using the cached " + method + " AWQ " + bits + "-bit model " + out);
            return out;
        }
        say("quantizing the " + method + " model with AWQ at " + bits + " bits (groups of " + GROUP_SIZE + ")");
        QuantizeJob.Request request = new QuantizeJob.Request(model, QuantizeJob.Method.AWQ, bits, GROUP_SIZE, "toyworld",
                calibSamples, CALIB_LENGTH, 0, out, false, threads, 0);
        try (LazyProgress progress = new LazyProgress("demo: quantize " + method + " " + bits + "-bit", err)) {
            QuantizeJob.run(request, QuantizeCommand.reporter(progress));
        }
        return out;
    }

    private void say(String line) {
        err.println("[demo] " + line);
        err.flush();
    }
}
