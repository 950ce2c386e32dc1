package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
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
import org.qtale.train.corpus.MultipleChoice;
import org.qtale.train.corpus.ToyWorld;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.TrainingModel;
import org.qtale.train.pretrain.ChoiceScorer;
import org.qtale.train.pretrain.PretrainJob;
import org.qtale.train.pretrain.PretrainSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Builds the embedded default model (pretrained on the built-in toyworld corpus, cached after the first run), "
                + "reports its held-out multiple-choice accuracy and generates a sample.")
final class DemoCommand implements Callable<Integer> {
    /** The embedded default model: its recipe. Changing any of it changes the cache key. */
    static final String SHAPE = "toy";
    static final String CORPUS = "toyworld:seed=1,docs=20000,heldout=400";
    static final int VOCAB = 1024;
    static final int STEPS = 400;
    static final int BATCH = 8;
    static final int SEQ_LEN = 256;
    static final float LR = 3e-3f;
    static final long SEED = 1;
    static final long QUESTION_SEED = 7;
    static final int QUESTIONS = 240;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rebuild", description = "Train the model again even if it is cached.")
    boolean rebuild;

    @Option(names = "--cache", paramLabel = "DIR", description = "Cache directory (default: $QTALE_CACHE, else $XDG_CACHE_HOME/qtale, else ~/.cache/qtale).")
    Path cache;

    @Option(names = "--json", description = "Print one JSON object with the results on stdout.")
    boolean json;

    @Mixin
    ThreadOptions threads;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        threads.validate(cl);
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        Path modelDir = cacheRoot().resolve("models").resolve(recipeKey());
        boolean cached = !rebuild && Files.isRegularFile(modelDir.resolve(HfConfig.FILE));
        long start = System.nanoTime();
        if (!cached) {
            say(err, "building the default model (once; later runs reuse " + modelDir + ")");
            PretrainSettings settings = PretrainSettings.defaults(STEPS, BATCH, SEQ_LEN, LR, SEED).withEvaluation(STEPS / 5, 32);
            PretrainJob.Request request = new PretrainJob.Request(CORPUS, null, VOCAB, SHAPE, settings, modelDir, true, null,
                    threads.count());
            try (Progress progress = Progress.start("pretrain", STEPS, err)) {
                PretrainJob.run(request, PretrainCommand.reporter(progress));
            }
        } else {
            say(err, "using the cached default model " + modelDir);
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        try (LlamaModel model = ModelLoader.loadModel(modelDir); Parallel parallel = threads.parallel()) {
            Tokenizer tokenizer = TokenizerFiles.open(modelDir, null, model.config().vocabSize());
            say(err, "scoring " + QUESTIONS + " held-out multiple-choice questions");
            TrainingModel scoringModel = new TrainingModel(LlamaParameters.copyOf(model.config(), model.weights()), parallel);
            ChoiceScorer scorer = new ChoiceScorer(scoringModel, tokenizer, model.config().contextLength());
            List<MultipleChoice> questions = ToyWorld.questions(QUESTION_SEED, QUESTIONS);
            ChoiceScorer.Accuracy overall = scorer.accuracy(questions);
            Map<String, ChoiceScorer.Accuracy> byFamily = new LinkedHashMap<>();
            for (String family : ToyWorld.families()) {
                List<MultipleChoice> subset = questions.stream().filter(q -> q.family().equals(family)).toList();
                if (!subset.isEmpty()) {
                    byFamily.put(family, scorer.accuracy(subset));
                }
            }
            String prompt = samplePrompt();
            int[] promptTokens = tokenizer.encode(prompt, true);
            InferenceState state = model.newState(parallel, Math.min(model.config().contextLength(), promptTokens.length + 48), 64);
            GenerationResult sample = Generator.generate(model, state, tokenizer, promptTokens,
                    GenerationSettings.greedy(48, tokenizer.stopTokens()), (id, text) -> { });
            if (json) {
                out.println(Json.write(report(modelDir, cached, trainSeconds, overall, byFamily, prompt, sample)));
            } else {
                printReport(out, modelDir, cached, trainSeconds, overall, byFamily, prompt, sample);
            }
            out.flush();
        }
        return 0;
    }

    private static void printReport(PrintWriter out, Path modelDir, boolean cached, double seconds,
            ChoiceScorer.Accuracy overall, Map<String, ChoiceScorer.Accuracy> byFamily, String prompt, GenerationResult sample) {
        out.printf(Locale.ROOT, "default model: %s (%s)%n", modelDir, cached ? "cached" : String.format(Locale.ROOT, "trained in %.0f s", seconds));
        out.println();
        out.println("held-out multiple choice (log-likelihood of each answer):");
        out.printf(Locale.ROOT, "  %-10s %9s %8s %8s%n", "family", "questions", "accuracy", "chance");
        for (Map.Entry<String, ChoiceScorer.Accuracy> e : byFamily.entrySet()) {
            ChoiceScorer.Accuracy a = e.getValue();
            out.printf(Locale.ROOT, "  %-10s %9d %7.1f%% %7.1f%%%n", e.getKey(), a.total(), 100 * a.value(), 100 * a.chance());
        }
        out.printf(Locale.ROOT, "  %-10s %9d %7.1f%% %7.1f%%   (± %.1f%% standard error)%n", "all", overall.total(),
                100 * overall.value(), 100 * overall.chance(), 100 * overall.standardError());
        out.println();
        out.println("sample (greedy):");
        out.println("  " + prompt + "\u001b[1m" + sample.text() + "\u001b[0m");
        out.println();
        out.println("loss curve: " + modelDir.resolve(PretrainCommand.LOSS_CHART));
    }

    private static ObjectNode report(Path modelDir, boolean cached, double seconds, ChoiceScorer.Accuracy overall,
            Map<String, ChoiceScorer.Accuracy> byFamily, String prompt, GenerationResult sample) {
        ObjectNode o = Json.object();
        o.put("model", modelDir.toString());
        o.put("cached", cached);
        o.put("train_seconds", cached ? 0 : seconds);
        o.put("accuracy", overall.value());
        o.put("accuracy_stderr", overall.standardError());
        o.put("chance", overall.chance());
        o.put("questions", overall.total());
        ObjectNode families = o.putObject("families");
        byFamily.forEach((name, a) -> families.putObject(name).put("accuracy", a.value()).put("chance", a.chance())
                .put("questions", a.total()));
        o.put("sample_prompt", prompt);
        o.put("sample", sample.text());
        o.put("loss_chart", modelDir.resolve(PretrainCommand.LOSS_CHART).toString());
        return o;
    }

    /** The start of a held-out document, cut after its first sentence. */
    private static String samplePrompt() {
        String doc = ToyWorld.heldOutDocuments(QUESTION_SEED, 1).getFirst();
        int end = doc.indexOf(". ");
        return end > 0 ? doc.substring(0, end + 1) : doc.substring(0, Math.min(60, doc.length()));
    }

    static String recipeKey() {
        String recipe = String.join("|", SHAPE, CORPUS, Integer.toString(VOCAB), Integer.toString(STEPS),
                Integer.toString(BATCH), Integer.toString(SEQ_LEN), Float.toString(LR), Long.toString(SEED), "v1");
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
