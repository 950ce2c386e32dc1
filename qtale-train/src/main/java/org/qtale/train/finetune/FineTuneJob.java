package org.qtale.train.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.qtale.QtaleException;
import org.qtale.adaptive.RouterConfig;
import org.qtale.adaptive.RouterSet;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.ModelLoader;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.DType;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.OutputDirectory;
import org.qtale.train.corpus.CorpusSpec;
import org.qtale.train.corpus.MultipleChoice;
import org.qtale.train.corpus.ToyWorld;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.RouterParameters;
import org.qtale.train.nn.Routing;
import org.qtale.train.nn.RoutingStats;
import org.qtale.train.pretrain.ChoiceScorer;
import org.qtale.train.pretrain.PretrainJob;

/**
 * A whole router fine-tuning run as {@code qtale train} asks for it: load the model (and its routers, if it has
 * some, to continue from them), add LoRA to q, k and v and freeze the base, fine-tune, score the held-out data
 * dense and at a grid of thresholds θ, merge the adapters and write a Hugging Face directory with the routers
 * ({@code model.layers.{l}.router.*}, the {@code qtale} block in {@code config.json}), the tokenizer and
 * {@code finetune.json}, which appears complete or not at all.
 */
public final class FineTuneJob {
    public static final String SUMMARY_FILE = "finetune.json";
    /** The thresholds scored after training, from D-LLM's argmax down (QTALE's calibration grid). */
    public static final float[] THRESHOLDS = {0.5f, 0.45f, 0.4f, 0.35f, 0.3f, 0.25f, 0.2f, 0.1f};
    /** At most this many held-out examples are scored per threshold. */
    static final int SWEEP_EXAMPLES = 500;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to run; {@code routerWidth} 0 means the default ({@code max(16, dim/8)}). {@code questions} is how many
     * held-out multiple-choice questions to score per threshold when the data is the built-in corpus.
     */
    public record Request(Path model, String data, FineTuneSettings settings, int routerWidth, int startLayer,
            int reservedTokens, Path out, boolean overwrite, int threads, int questions) {
    }

    /**
     * One scored setting: {@code theta} NaN for the dense model. {@code loss} is the held-out cross-entropy per answer
     * token; the ratios are those of the held-out examples (all layers, and routed layers only); the accuracy is
     * null without questions.
     */
    public record SweepPoint(float theta, double loss, double executionRatio, double routedExecutionRatio,
            ChoiceScorer.Accuracy accuracy, double questionExecutionRatio) {
        public boolean dense() {
            return Float.isNaN(theta);
        }
    }

    public record Outcome(LlamaConfig config, RouterConfig routers, FineTuneData data, FineTuneSettings settings,
            long trainableParameters, List<EpochReport> epochs, List<RouterFineTuner.CurvePoint> curve,
            SweepPoint base, List<SweepPoint> sweep, double seconds, Path out) {
        /** "qtale" with the entropy regularizer, else "d-llm". */
        public String method() {
            return settings.entropyWeight() > 0 ? "qtale" : "d-llm";
        }

        /** The fine-tuned model run dense (every layer; {@link #base} is the model before fine-tuning). */
        public SweepPoint dense() {
            return sweep.get(0);
        }

        /** The point at D-LLM's θ = 0.5. */
        public SweepPoint argmax() {
            return sweep.get(1);
        }
    }

    /** Callbacks for the parts of a run that take a while. */
    public interface Reporter extends RouterFineTuner.Listener {
        default void log(String line) {
        }

        default void onSweepPoint(SweepPoint point) {
        }

        /** Called with the staging directory just before it becomes the output: add files here (charts). */
        default void finish(Path staging, Outcome outcome) {
        }
    }

    private FineTuneJob() {
    }

    public static Outcome run(Request request, Reporter reporter) {
        Path out = request.out().toAbsolutePath().normalize();
        OutputDirectory.check(out, request.overwrite());
        long begin = System.nanoTime();
        try (LlamaModel original = ModelLoader.loadModel(request.model()); Parallel parallel = new Parallel(request.threads())) {
            LlamaConfig config = original.config();
            Tokenizer tokenizer = TokenizerFiles.open(request.model(), null, config.vocabSize());
            int maxTokens = Math.min(request.settings().maxTokens(), config.contextLength());
            FineTuneSettings settings = request.settings().withMaxTokens(maxTokens);
            FineTuneData data = FineTuneData.load(request.data(), tokenizer, maxTokens);
            reporter.log(String.format("data %s: %,d training and %,d held-out examples%s", data.spec(),
                    data.train().size(), data.heldOut().size(),
                    data.droppedExamples() > 0 ? ", " + data.droppedExamples() + " dropped as too long" : ""));
            LlamaParameters params = LlamaParameters.copyOf(config, original.weights());
            RouterParameters routers = original.routers() != null ? RouterParameters.copyOf(original.routers())
                    : RouterParameters.initialize(config, routerConfig(request, config), settings.seed());
            if (original.routers() != null) {
                reporter.log("continuing from the model's routers (layers " + routers.config().startLayer() + " to "
                        + (config.nLayers() - 1) + ", width " + routers.config().width() + ", "
                        + routers.config().reservedTokens() + " reserved tokens); --start-layer, --router-width and "
                        + "--reserved-tokens apply to new routers only");
            }
            if (settings.loraRank() > 0) {
                params.addLora(List.of("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"),
                        settings.loraRank(), 1f, settings.seed());
            }
            params.freezeBase();
            long trainable = params.trainable().stream().mapToLong(p -> p.size()).sum()
                    + routers.all().stream().mapToLong(p -> p.size()).sum();
            reporter.log(String.format("%d routed layers of %d (router width %d), LoRA rank %d on q, k, v: %,d trainable"
                    + " parameters", routers.routedLayers(), config.nLayers(), routers.config().width(),
                    settings.loraRank(), trainable));
            RouterFineTuner tuner = new RouterFineTuner(params, routers, data.train(), data.heldOut(), settings, parallel);
            Scoring scoring = new Scoring(request, tuner, tokenizer, config, data);
            // the adapters start at B = 0, so before training the model computes the base model's function
            SweepPoint base = scoring.score(new Routing.Dense(), Float.NaN);
            reporter.log(String.format(java.util.Locale.ROOT, "base model, dense: held-out CE %.3f%s", base.loss(), base.accuracy() == null ? ""
                    : String.format(java.util.Locale.ROOT, ", questions %.1f%%", 100 * base.accuracy().value())));
            List<EpochReport> epochs = tuner.run(reporter);
            params.mergeLora();
            List<SweepPoint> sweep = scoring.sweep(reporter);
            Outcome outcome = new Outcome(config, routers.config(), data, settings, trainable, epochs, tuner.curve(), base, sweep,
                    (System.nanoTime() - begin) / 1e9, out);
            write(out, request, config, params, routers, tokenizer, outcome, reporter);
            return outcome;
        }
    }

    private static RouterConfig routerConfig(Request request, LlamaConfig config) {
        RouterConfig defaults = RouterConfig.defaults(config.dim());
        int width = request.routerWidth() > 0 ? request.routerWidth() : defaults.width();
        if (request.startLayer() < 0 || request.startLayer() >= config.nLayers()) {
            throw new QtaleException("--start-layer must be between 0 and " + (config.nLayers() - 1) + " for a model of "
                    + config.nLayers() + " layers.");
        }
        return new RouterConfig(width, request.startLayer(), request.reservedTokens(), RouterConfig.ARGMAX_THRESHOLD);
    }

    /** Scores held-out examples and (on the built-in corpus) questions under a routing. */
    private static final class Scoring {
        private final RouterFineTuner tuner;
        private final LlamaConfig config;
        private final List<TokenExample> heldOut;
        private final List<MultipleChoice> questions;
        private final ChoiceScorer scorer;

        Scoring(Request request, RouterFineTuner tuner, Tokenizer tokenizer, LlamaConfig config, FineTuneData data) {
            this.tuner = tuner;
            this.config = config;
            this.heldOut = data.heldOut().subList(0, Math.min(SWEEP_EXAMPLES, data.heldOut().size()));
            CorpusSpec spec = CorpusSpec.parse(request.data());
            this.questions = spec instanceof CorpusSpec.ToyWorldSpec toy && request.questions() > 0
                    ? ToyWorld.questions(PretrainJob.questionSeed(toy.seed()), request.questions(), toy.families())
                    : List.of();
            this.scorer = new ChoiceScorer(tuner.model(), tokenizer, config.contextLength());
        }

        /** Held-out loss, ratios and question accuracy, dense and at every threshold. */
        List<SweepPoint> sweep(Reporter reporter) {
            reporter.log("scoring " + heldOut.size() + " held-out examples" + (questions.isEmpty() ? ""
                    : " and " + questions.size() + " held-out questions") + " dense and at θ = 0.5 ... 0.1");
            List<SweepPoint> points = new ArrayList<>();
            points.add(score(new Routing.Dense(), Float.NaN));
            reporter.onSweepPoint(points.get(0));
            for (float theta : THRESHOLDS) {
                SweepPoint point = score(new Routing.Threshold(theta), theta);
                points.add(point);
                reporter.onSweepPoint(point);
            }
            return points;
        }

        SweepPoint score(Routing routing, float theta) {
            RouterFineTuner.Evaluation e = heldOut.isEmpty() ? null : tuner.evaluate(heldOut, routing);
            RoutingStats questionStats = new RoutingStats(config.nLayers(), tuner.model().routers().config().startLayer());
            ChoiceScorer.Accuracy accuracy = null;
            if (!questions.isEmpty()) {
                Routing before = tuner.model().routing();
                tuner.model().setRouting(routing);
                try {
                    accuracy = scorer.accuracy(questions, questionStats);
                } finally {
                    tuner.model().setRouting(before);
                }
            }
            boolean dense = routing instanceof Routing.Dense;
            return new SweepPoint(theta, e == null ? Double.NaN : e.loss(),
                    dense || e == null ? 1 : e.stats().executionRatio(),
                    dense || e == null ? 1 : e.stats().routedExecutionRatio(), accuracy,
                    dense || questions.isEmpty() ? 1 : questionStats.executionRatio());
        }
    }

    private static void write(Path out, Request request, LlamaConfig config, LlamaParameters params,
            RouterParameters routers, Tokenizer tokenizer, Outcome outcome, Reporter reporter) {
        OutputDirectory.write(out, request.overwrite(), model -> {
            RouterSet set = routers.toRouterSet(config, RouterConfig.ARGMAX_THRESHOLD);
            HfCheckpointWriter.write(config, params.toWeights(), model, HfCheckpointWriter.Options.of(DType.F32)
                    .withExtraTensors(set.tensors()).withExtraConfig(set.configBlock()));
            OutputDirectory.copyTokenizer(request.model(), tokenizer, model);
            Files.write(model.resolve(SUMMARY_FILE), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(summary(request, outcome)));
        }, model -> reporter.finish(model, outcome), reporter::log);
    }

    /** {@code finetune.json}: the request, every epoch with per-layer routing figures, and the θ sweep. */
    public static ObjectNode summary(Request request, Outcome outcome) {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", request.model().toAbsolutePath().normalize().toString());
        o.put("data", outcome.data().spec());
        o.put("method", outcome.method());
        o.set("settings", JSON.valueToTree(request.settings()));
        o.put("router_width", outcome.routers().width());
        o.put("dynamic_start_layer", outcome.routers().startLayer());
        o.put("reserved_tokens", outcome.routers().reservedTokens());
        o.put("train_examples", outcome.data().train().size());
        o.put("held_out_examples", outcome.data().heldOut().size());
        o.put("dropped_examples", outcome.data().droppedExamples());
        o.put("trainable_parameters", outcome.trainableParameters());
        o.put("seconds", outcome.seconds());
        SweepPoint argmax = outcome.argmax();
        o.put("execution_ratio", argmax.executionRatio());
        o.put("routed_execution_ratio", argmax.routedExecutionRatio());
        o.put("held_out_loss", argmax.loss());
        o.put("dense_held_out_loss", outcome.dense().loss());
        o.put("base_held_out_loss", outcome.base().loss());
        if (outcome.base().accuracy() != null) {
            o.put("base_mc_accuracy", outcome.base().accuracy().value());
            o.put("mc_accuracy", argmax.accuracy().value());
            o.put("mc_accuracy_stderr", argmax.accuracy().standardError());
        }
        EpochReport last = outcome.epochs().get(outcome.epochs().size() - 1);
        o.put("train_execution_ratio", last.train().executionRatio());
        o.put("flip_probability", last.train().flipProbability());
        o.put("mean_abs_logit_gap", last.train().meanAbsGap());
        ArrayNode epochs = o.putArray("epochs");
        for (EpochReport e : outcome.epochs()) {
            ObjectNode n = epochs.addObject();
            n.put("epoch", e.epoch()).put("cross_entropy", e.crossEntropy()).put("rate_loss", e.rateLoss())
                    .put("entropy_loss", e.entropyLoss()).put("rate_weight", e.rateWeight())
                    .put("execution_ratio", e.train().executionRatio())
                    .put("routed_execution_ratio", e.train().routedExecutionRatio())
                    .put("mean_abs_logit_gap", e.train().meanAbsGap()).put("flip_probability", e.train().flipProbability())
                    .put("held_out_loss", e.heldOutLoss())
                    .put("held_out_execution_ratio", e.heldOut() == null ? Double.NaN : e.heldOut().executionRatio())
                    .put("tokens_per_s", e.tokensPerSecond());
            ArrayNode layers = n.putArray("layers");
            for (int l = e.train().startLayer(); l < e.train().layers(); l++) {
                layers.addObject().put("layer", l).put("execution_ratio", e.train().layerRatio(l))
                        .put("clean_execution_ratio", e.train().cleanLayerRatio(l))
                        .put("mean_abs_logit_gap", e.train().meanAbsGap(l))
                        .put("flip_probability", e.train().flipProbability(l));
            }
        }
        ArrayNode sweep = o.putArray("sweep");
        for (SweepPoint p : outcome.sweep()) {
            ObjectNode n = sweep.addObject();
            if (p.dense()) {
                n.put("policy", "dense");
            } else {
                n.put("threshold", p.theta());
            }
            n.put("held_out_loss", p.loss()).put("execution_ratio", p.executionRatio())
                    .put("routed_execution_ratio", p.routedExecutionRatio());
            if (p.accuracy() != null) {
                n.put("mc_accuracy", p.accuracy().value()).put("mc_accuracy_stderr", p.accuracy().standardError())
                        .put("mc_chance", p.accuracy().chance()).put("mc_questions", p.accuracy().total())
                        .put("mc_execution_ratio", p.questionExecutionRatio());
            }
        }
        return o;
    }
}
