package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.format.HfConfig;
import org.qtale.format.ModelLoader;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.GenerationResult;
import org.qtale.model.GenerationSettings;
import org.qtale.model.Generator;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.corpus.ToyWorld;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.TrainShapes;
import org.qtale.train.nn.TrainingModel;
import org.qtale.train.pretrain.PretrainJob;
import org.qtale.train.pretrain.PretrainSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The QTALE experiment in miniature: builds the embedded default model (pretrained on the built-in "
                + "toyworld corpus), fine-tunes D-LLM and QTALE routers from it, quantizes all three with AWQ at 4 and 3 "
                + "bits, scores every variant on the held-out questions (routed ones at θ = 0.5 and at a calibrated θ), "
                + "prints the comparison and the path of a report with a chart, and generates a sample showing the "
                + "layers each token ran. Every model is cached after the first run.")
final class DemoCommand implements Callable<Integer> {
    /** The embedded default model: its recipe. Changing any of it changes the cache key. */
    static final String SHAPE = "toy";
    static final long CORPUS_SEED = 1;
    static final String CORPUS = "toyworld:seed=" + CORPUS_SEED + ",docs=20000,heldout=400";
    static final int VOCAB = 512;
    static final int STEPS = 5500;
    static final int BATCH = 4;
    static final int SEQ_LEN = 256;
    static final float LR = 1e-2f;
    static final long SEED = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--steps", paramLabel = "N", description = "Pretraining steps (default " + STEPS + "); another count is another cached model.")
    Integer steps;

    @Option(names = "--rebuild", description = "Train the model again even if it is cached.")
    boolean rebuild;

    @Option(names = "--cache", paramLabel = "DIR", description = "Cache directory (default: $QTALE_CACHE, else $XDG_CACHE_HOME/qtale, else ~/.cache/qtale).")
    Path cache;

    @Option(names = "--finetune-docs", paramLabel = "N", defaultValue = "" + DemoPipeline.FINETUNE_DOCS,
            description = "toyworld documents the routers are fine-tuned on (default ${DEFAULT-VALUE}).")
    int finetuneDocs;

    @Option(names = "--calib-samples", paramLabel = "N", defaultValue = "" + DemoPipeline.CALIB_SAMPLES,
            description = "AWQ calibration windows of " + DemoPipeline.CALIB_LENGTH + " tokens (default ${DEFAULT-VALUE}).")
    int calibSamples;

    @Option(names = "--questions", paramLabel = "N", defaultValue = "" + DemoPipeline.QUESTIONS,
            description = "Held-out questions each variant is scored on (default ${DEFAULT-VALUE}, all of them).")
    int questionCount;

    @Option(names = "--json", description = "Print one JSON object with the results on stdout.")
    boolean json;

    @Mixin
    ThreadOptions threads;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        threads.validate(cl);
        int stepCount = steps != null ? steps : STEPS;
        if (stepCount < 1) {
            throw new CommandLine.ParameterException(cl, "--steps must be at least 1, got " + stepCount + ".");
        }
        if (finetuneDocs < 20 || calibSamples < 1 || questionCount < 1 || questionCount > DemoPipeline.QUESTIONS) {
            throw new CommandLine.ParameterException(cl, "--finetune-docs must be >= 20, --calib-samples >= 1 and "
                    + "--questions between 1 and " + DemoPipeline.QUESTIONS + ".");
        }
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        Path modelDir = cacheRoot().resolve("models").resolve(recipeKey(stepCount));
        boolean cached = !rebuild && Files.isRegularFile(modelDir.resolve(HfConfig.FILE));
        long start = System.nanoTime();
        PretrainJob.QuestionReport questions = null;
        if (!cached) {
            say(err, "building the default model (once; later runs reuse " + modelDir + ")");
            PretrainSettings settings = PretrainSettings.defaults(stepCount, BATCH, SEQ_LEN, LR, SEED)
                    .withEvaluation(Math.max(1, stepCount / 5), 32);
            PretrainJob.Request request = new PretrainJob.Request(CORPUS, null, VOCAB, SHAPE, settings, modelDir, true, null,
                    threads.count());
            try (Progress progress = Progress.start("pretrain", stepCount, err)) {
                questions = PretrainJob.run(request, PretrainCommand.reporter(progress)).questions();
            }
        } else {
            say(err, "using the cached default model " + modelDir);
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        try (LlamaModel model = ModelLoader.loadModel(modelDir); Parallel parallel = threads.parallel()) {
            Tokenizer tokenizer = TokenizerFiles.open(modelDir, null, model.config().vocabSize());
            if (questions == null) {
                say(err, "scoring " + PretrainJob.QUESTIONS + " held-out multiple-choice questions");
                TrainingModel scoring = new TrainingModel(LlamaParameters.copyOf(model.config(), model.weights()), parallel);
                questions = PretrainJob.QuestionReport.score(scoring, tokenizer, model.config().contextLength(),
                        PretrainJob.questionSeed(CORPUS_SEED), PretrainJob.QUESTIONS, ToyWorld.families());
            }
        }
        DemoPipeline.Outcome outcome = new DemoPipeline(modelDir, threads.count(), err, finetuneDocs, calibSamples,
                questionCount).run();
        DemoPipeline.Row sampled = outcome.rows().stream()
                .filter(r -> r.variant().method().equals("qtale") && r.variant().weights().equals("awq4")
                        && r.setting().equals("calibrated"))
                .findFirst().orElseThrow();
        String prompt = samplePrompt();
        boolean terminal = System.console() != null && System.console().isTerminal();
        Sample sample;
        try (LlamaModel model = ModelLoader.loadModel(sampled.variant().dir()); Parallel parallel = threads.parallel()) {
            Tokenizer tokenizer = TokenizerFiles.open(sampled.variant().dir(), null, model.config().vocabSize());
            int[] promptTokens = tokenizer.encode(prompt, true);
            InferenceState state = model.newState(parallel, Math.min(model.config().contextLength(), promptTokens.length + 48), 64);
            state.setPolicy(ExecutionPolicy.threshold((float) sampled.threshold()));
            GenerationResult result = Generator.generate(model, state, tokenizer, promptTokens,
                    GenerationSettings.greedy(48, tokenizer.stopTokens()), (id, text) -> { });
            int first = result.promptTokens().length;
            int[] layers = new int[Math.max(0, Math.min(result.tokens().length, state.trace().tokens() - first))];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = state.trace().layersRun(first + i);
            }
            sample = new Sample(result, GenerateCommand.layersLine(state, tokenizer, result, false),
                    GenerateCommand.layersLine(state, tokenizer, result, terminal), state.trace().executionRatio(false),
                    layers);
        }
        String sampleTitle = String.format(Locale.ROOT, "%s at θ = %.3f (greedy), execution ratio %.3f",
                sampled.variant().label(), sampled.threshold(), sample.executionRatio());
        Path reportDir = cacheRoot().resolve("reports").resolve(modelDir.getFileName() + "-" + recipeSuffix());
        Path report = DemoReport.write(reportDir, outcome, sampleTitle + "\n" + prompt + sample.result().text() + "\n"
                + sample.plainLayers());
        if (json) {
            ObjectNode o = report(modelDir, cached, trainSeconds, questions, prompt, sample.result());
            o.set("comparison", DemoReport.json(outcome));
            o.set("chart_lines", DemoReport.chartJson(outcome));
            o.put("report", report.toString());
            o.put("chart", reportDir.resolve(DemoReport.CHART).toString());
            o.put("sample_model", sampled.variant().label());
            o.put("sample_threshold", sampled.threshold());
            o.put("sample_execution_ratio", sample.executionRatio());
            com.fasterxml.jackson.databind.node.ArrayNode layers = o.putArray("sample_layers_per_token");
            for (int ran : sample.layersPerToken()) {
                layers.add(ran);
            }
            out.println(Json.write(o));
        } else {
            out.printf(Locale.ROOT, "default model: %s (%s)%n%n", modelDir,
                    cached ? "cached" : String.format(Locale.ROOT, "trained in %.0f s", trainSeconds));
            PretrainCommand.printQuestions(out, questions);
            out.println();
            out.println("token-adaptive layers and quantization, on the held-out questions:");
            out.println();
            out.print(DemoReport.table(outcome));
            out.println();
            out.println("sample, " + sampleTitle + (terminal ? "; the generated text in bold" : "") + ":");
            out.println("  " + prompt + (terminal ? "\u001b[1m" + sample.result().text() + "\u001b[0m" : sample.result().text()));
            out.println("  " + sample.colouredLayers());
            out.println();
            out.println("report: " + report);
            out.println("chart: " + reportDir.resolve(DemoReport.CHART));
            out.println("loss curve: " + modelDir.resolve(PretrainCommand.LOSS_CHART));
        }
        out.flush();
        return 0;
    }

    /** The generated sample, its layers per token (plain and for the terminal) and its execution ratio. */
    private record Sample(GenerationResult result, String plainLayers, String colouredLayers, double executionRatio,
            int[] layersPerToken) {
    }

    /** The pipeline's part of the report's cache key. */
    private String recipeSuffix() {
        return Integer.toHexString((finetuneDocs + "|" + calibSamples + "|" + questionCount + "|"
                + DemoPipeline.VERSION).hashCode());
    }

    private static ObjectNode report(Path modelDir, boolean cached, double seconds, PretrainJob.QuestionReport questions,
            String prompt, GenerationResult sample) {
        ObjectNode o = Json.object();
        o.put("model", modelDir.toString());
        o.put("cached", cached);
        o.put("train_seconds", cached ? 0 : seconds);
        PretrainJob.putQuestions(o, questions);
        o.put("sample_prompt", prompt);
        o.put("sample", sample.text());
        o.put("loss_chart", modelDir.resolve(PretrainCommand.LOSS_CHART).toString());
        return o;
    }

    /** The start of a held-out document, cut after its first sentence. */
    private static String samplePrompt() {
        String doc = ToyWorld.heldOutDocuments(PretrainJob.questionSeed(CORPUS_SEED) + 1, 1).getFirst();
        int end = doc.indexOf(". ");
        return end > 0 ? doc.substring(0, end + 1) : doc.substring(0, Math.min(60, doc.length()));
    }

    /** The cache key: the recipe plus a version to bump whenever the training code changes the numbers. */
    static String recipeKey(int steps) {
        String recipe = String.join("|", TrainShapes.get(SHAPE).toString(), CORPUS, Integer.toString(VOCAB), Integer.toString(steps),
                Integer.toString(BATCH), Integer.toString(SEQ_LEN), Float.toString(LR), Long.toString(SEED), "v2");
        return SHAPE + "-" + Integer.toHexString(recipe.hashCode());
    }

    private Path cacheRoot() {
        if (cache != null) {
            return cache;
        }
        String env = System.getenv("QTALE_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "qtale");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "qtale");
    }

    private static void say(PrintWriter err, String line) {
        err.println("[demo] " + line);
        err.flush();
    }
}
