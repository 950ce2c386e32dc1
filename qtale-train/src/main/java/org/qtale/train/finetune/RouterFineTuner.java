package org.qtale.train.finetune;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.qtale.QtaleException;
import org.qtale.adaptive.RouterConfig;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.CrossEntropyOp;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.Param;
import org.qtale.train.nn.RouterParameters;
import org.qtale.train.nn.Routing;
import org.qtale.train.nn.RoutingObjective;
import org.qtale.train.nn.RoutingStats;
import org.qtale.train.nn.TrainingModel;
import org.qtale.train.optim.AdamW;
import org.qtale.train.optim.LearningRateSchedule;

/**
 * D-LLM's router fine-tuning, with QTALE's entropy regularizer when its weight is positive: per step a batch of
 * examples runs with hard Gumbel decisions, and AdamW updates the routers and the LoRA adapters (the base weights
 * are frozen) on {@code CE(answer tokens) + α(e) · L_rate + λ2 · L_entropy}, with α ramped by D-LLM's sine schedule
 * over the whole run. After each epoch the held-out examples are scored with the engine's rule at θ = 0.5.
 */
public final class RouterFineTuner {
    /** Hears about progress. */
    public interface Listener {
        default void onStep(int step, int steps, double loss, double executionRatio, double tokensPerSecond) {
        }

        default void onEpoch(EpochReport report) {
        }
    }

    /** A padded batch: {@code lengths[b]} real tokens per row, targets ignored outside the answers. */
    record Batch(int[] tokens, int[] targets, int[] lengths, int size, int seqLen, int answerTokens) {
    }

    /** The training routing statistics of a stretch of steps ending at fractional epoch {@code epoch}. */
    public record CurvePoint(double epoch, RoutingStats stats) {
    }

    /** Points per epoch of {@link #curve()}. */
    static final int CURVE_POINTS_PER_EPOCH = 5;

    /** Mean cross-entropy per answer token and the routing statistics of a set of examples. */
    public record Evaluation(double loss, int answerTokens, RoutingStats stats) {
    }

    private static final int LENGTH_STEP = 32;

    private final LlamaParameters params;
    private final RouterParameters routers;
    private final List<TokenExample> train;
    private final List<TokenExample> heldOut;
    private final FineTuneSettings settings;
    private final TrainingModel model;
    private final List<Param> trainable;
    private final List<CurvePoint> curve = new ArrayList<>();

    public RouterFineTuner(LlamaParameters params, RouterParameters routers, List<TokenExample> train,
            List<TokenExample> heldOut, FineTuneSettings settings, Parallel parallel) {
        if (train.isEmpty()) {
            throw new QtaleException("The fine-tuning data has no training examples.");
        }
        this.params = params;
        this.routers = routers;
        this.train = train;
        this.heldOut = heldOut;
        this.settings = settings;
        this.model = new TrainingModel(params, routers, parallel);
        model.setLoraDropout(settings.loraDropout());
        trainable = new ArrayList<>(params.trainable());
        trainable.addAll(routers.all());
    }

    public TrainingModel model() {
        return model;
    }

    /** The routing statistics of the last run, a few points per epoch (finer than the epoch reports, for charts). */
    public List<CurvePoint> curve() {
        return List.copyOf(curve);
    }

    public int stepsPerEpoch() {
        return (train.size() + settings.batch() - 1) / settings.batch();
    }

    public List<EpochReport> run(Listener listener) {
        int perEpoch = stepsPerEpoch();
        int steps = perEpoch * settings.epochs();
        AdamW optimizer = new AdamW(trainable, 0.9f, 0.95f, 1e-8f, settings.weightDecay());
        int warmup = (int) Math.round(settings.warmupEpochs() * perEpoch);
        LearningRateSchedule schedule = new LearningRateSchedule(settings.learningRate(), warmup, steps, 0f);
        List<EpochReport> reports = new ArrayList<>();
        curve.clear();
        int segment = Math.max(1, perEpoch / CURVE_POINTS_PER_EPOCH);
        RoutingStats stretch = new RoutingStats(params.config().nLayers(), routers.config().startLayer());
        int step = 0;
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            int[] order = shuffled(train.size(), new SplittableRandom(settings.seed() * 31 + epoch));
            RoutingStats stats = new RoutingStats(params.config().nLayers(), routers.config().startLayer());
            double ce = 0;
            double rate = 0;
            double entropy = 0;
            double alpha = 0;
            long tokens = 0;
            long begin = System.nanoTime();
            for (int first = 0; first < order.length; first += settings.batch(), step++) {
                List<TokenExample> examples = new ArrayList<>();
                for (int i = first; i < Math.min(order.length, first + settings.batch()); i++) {
                    examples.add(train.get(order[i]));
                }
                Batch batch = batch(examples);
                alpha = settings.rateWeight() * Math.sin(Math.PI / 2 * Math.min(1.0, (step + 1.0) / steps));
                RoutingObjective objective = new RoutingObjective(settings.targetRatio(), alpha, settings.entropyWeight());
                model.setRouting(new Routing.Gumbel(noiseSeed(step)));
                trainable.forEach(Param::zeroGrad);
                float ceScale = batch.answerTokens() == 0 ? 0f : 1f / batch.answerTokens();
                TrainingModel.RoutedStep result = model.lossAndBackward(batch.tokens(), batch.targets(), batch.lengths(),
                        batch.size(), batch.seqLen(), ceScale, objective);
                double stepCe = result.crossEntropySum() * ceScale;
                if (!Double.isFinite(stepCe) || !Double.isFinite(result.rateLoss())) {
                    throw new QtaleException("The fine-tuning loss became " + stepCe + " at step " + (step + 1)
                            + "; lower the learning rate.");
                }
                optimizer.step(schedule.at(step));
                ce += stepCe * examples.size();
                rate += result.rateLoss() * examples.size();
                entropy += result.entropyLoss() * examples.size();
                stats.addAll(result.stats());
                stretch.addAll(result.stats());
                if ((step + 1) % segment == 0 || first + settings.batch() >= order.length) {
                    curve.add(new CurvePoint((double) (step + 1) / perEpoch, stretch));
                    stretch = new RoutingStats(params.config().nLayers(), routers.config().startLayer());
                }
                for (int length : batch.lengths()) {
                    tokens += length;
                }
                double seconds = (System.nanoTime() - begin) / 1e9;
                listener.onStep(step + 1, steps, stepCe, result.stats().executionRatio(), tokens / Math.max(seconds, 1e-9));
            }
            double seconds = (System.nanoTime() - begin) / 1e9;
            Evaluation held = heldOut.isEmpty() ? null : evaluate(heldOut, new Routing.Threshold(RouterConfig.ARGMAX_THRESHOLD));
            int n = train.size();
            EpochReport report = new EpochReport(epoch + 1, ce / n, rate / n, entropy / n, alpha, stats,
                    held == null ? Double.NaN : held.loss(), held == null ? null : held.stats(), tokens / seconds);
            reports.add(report);
            listener.onEpoch(report);
        }
        return reports;
    }

    /** Scores examples with the given routing (no noise, no dropout). */
    public Evaluation evaluate(List<TokenExample> examples, Routing routing) {
        Routing before = model.routing();
        model.setRouting(routing);
        try {
            RoutingStats stats = new RoutingStats(params.config().nLayers(), routers.config().startLayer());
            double loss = 0;
            int counted = 0;
            for (int first = 0; first < examples.size(); first += settings.batch()) {
                Batch batch = batch(examples.subList(first, Math.min(examples.size(), first + settings.batch())));
                loss += model.loss(batch.tokens(), batch.targets(), batch.size(), batch.seqLen());
                counted += batch.answerTokens();
                if (!(routing instanceof Routing.Dense)) {
                    stats.addAll(model.routingStats(batch.lengths()));
                }
            }
            return new Evaluation(counted == 0 ? Double.NaN : loss / counted, counted, stats);
        } finally {
            model.setRouting(before);
        }
    }

    /** Pads the examples to a common length (a multiple of 32, at most {@code maxTokens}), cutting longer ones. */
    Batch batch(List<TokenExample> examples) {
        int longest = 0;
        for (TokenExample e : examples) {
            longest = Math.max(longest, Math.min(e.length(), settings.maxTokens()));
        }
        int seqLen = Math.min(settings.maxTokens(), (longest + LENGTH_STEP - 1) / LENGTH_STEP * LENGTH_STEP);
        int size = examples.size();
        int[] tokens = new int[size * seqLen];
        int[] targets = new int[size * seqLen];
        java.util.Arrays.fill(targets, CrossEntropyOp.IGNORE);
        int[] lengths = new int[size];
        int answerTokens = 0;
        for (int b = 0; b < size; b++) {
            TokenExample e = examples.get(b);
            int length = Math.min(e.length(), seqLen);
            lengths[b] = length;
            System.arraycopy(e.tokens(), 0, tokens, b * seqLen, length);
            // position i predicts token i + 1, which counts when it is an answer token
            for (int i = Math.max(0, e.answerStart() - 1); i + 1 < length; i++) {
                targets[b * seqLen + i] = e.tokens()[i + 1];
                answerTokens++;
            }
        }
        return new Batch(tokens, targets, lengths, size, seqLen, answerTokens);
    }

    private long noiseSeed(int step) {
        return settings.seed() * 0x9E37_79B9_7F4A_7C15L + step + 1;
    }

    private static int[] shuffled(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
