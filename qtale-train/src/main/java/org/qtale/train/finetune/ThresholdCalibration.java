package org.qtale.train.finetune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.ExecutionTrace;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.CrossEntropyOp;

/**
 * QTALE's post-training control of the execution ratio: picks the threshold θ (a routed layer runs for a token iff
 * p_exec ≥ θ) on a calibration set, either for a target execution ratio or for the largest saving whose loss stays
 * within ε of the dense model's.
 *
 * <p>Each θ is measured by running the whole set through the engine with that policy, because decisions interact
 * through the depth (a layer that runs changes what the next routers see); the distribution of p_exec from one pass
 * would not predict the ratio. Every example runs in a fresh sequence through the engine's batched prefill, with the
 * logits of every answer position scored against the next token.
 *
 * <p>The <b>execution ratio</b> is the one fine-tuning's rate loss aims at ({@code --target-ratio} of training, see
 * {@link org.qtale.train.nn.RoutingObjective}): the mean over tokens of the fraction of <b>all</b> layers a token ran
 * (those before the routers' start layer always run and count as executed), over every token of every example
 * except the reserved first positions of each sequence (which run everything by rule), prompt included. The ratio
 * over the routed layers only, over the same tokens, is reported beside it. The FLOPs ratio counts what the engine
 * spent on every token, reserved ones included ({@link ExecutionTrace#flopsRatio()}).
 */
public final class ThresholdCalibration {
    /** Bisections stop when the bracket of θ is this narrow. */
    public static final double TOLERANCE = 1e-3;
    /** The thresholds {@link #forMaxLossIncrease} tries, from D-LLM's argmax down to running every layer. */
    public static final List<Float> LOSS_GRID = grid();
    /** Positions scored per call of the all-position prefill (bounds the logits buffer). */
    private static final int CHUNK = 64;

    /**
     * What one policy does on the calibration set.
     *
     * @param policy               the policy measured
     * @param loss                 mean cross-entropy in nats per answer token
     * @param executionRatio       mean over the counted tokens of the fraction of all layers run
     * @param routedExecutionRatio the same over the routed layers only
     * @param flopsRatio           layer and router FLOPs over the dense model's, over every token run
     * @param answerTokens         tokens the loss covers
     * @param tokens               tokens the execution ratios count (all but the reserved first positions)
     */
    public record Evaluation(ExecutionPolicy policy, double loss, double executionRatio, double routedExecutionRatio,
            double flopsRatio, long answerTokens, long tokens) {
        /** θ, or NaN for a policy that is not a threshold (dense). */
        public float threshold() {
            return policy instanceof ExecutionPolicy.Threshold t ? t.theta() : Float.NaN;
        }
    }

    public enum Goal {
        TARGET_RATIO, MAX_LOSS_INCREASE
    }

    /**
     * The outcome of a search.
     *
     * @param goal      what was asked
     * @param goalValue the target execution ratio, or ε in nats per answer token
     * @param chosen    the evaluation of the chosen θ
     * @param dense     the dense model on the same set (every layer, no routers)
     * @param points    every θ evaluated, from the largest θ to the smallest
     * @param monotone  whether the execution ratio of the evaluated points never rises with θ (it need not: decisions
     *                  interact through the depth)
     */
    public record Result(Goal goal, double goalValue, Evaluation chosen, Evaluation dense, List<Evaluation> points,
            boolean monotone) {
        public Result {
            points = List.copyOf(points);
        }

        public float threshold() {
            return chosen.threshold();
        }
    }

    private final LlamaModel model;
    private final List<TokenExample> examples;
    private final Parallel parallel;
    private final Consumer<Evaluation> onPoint;
    private final Map<Float, Evaluation> evaluated = new LinkedHashMap<>();
    private Evaluation dense;

    /**
     * @param onPoint called after each θ is evaluated (and after the dense baseline), for progress
     */
    public ThresholdCalibration(LlamaModel model, List<TokenExample> examples, Parallel parallel, Consumer<Evaluation> onPoint) {
        requireRouters(model);
        int context = model.config().contextLength();
        long answerTokens = 0;
        for (int i = 0; i < examples.size(); i++) {
            TokenExample e = examples.get(i);
            if (e.length() > context) {
                throw new QtaleException("Calibration example " + (i + 1) + " has " + e.length()
                        + " tokens but the model's context holds " + context + "; cut the examples shorter.");
            }
            answerTokens += e.answerTokens();
        }
        if (answerTokens == 0) {
            throw new QtaleException("The calibration set has no answer tokens to score the loss on.");
        }
        this.model = model;
        this.examples = List.copyOf(examples);
        this.parallel = parallel;
        this.onPoint = onPoint == null ? e -> { } : onPoint;
    }

    public ThresholdCalibration(LlamaModel model, List<TokenExample> examples, Parallel parallel) {
        this(model, examples, parallel, null);
    }

    /** Refuses, with one sentence, a model without routers (nothing to calibrate). */
    public static void requireRouters(LlamaModel model) {
        if (model.routers() == null) {
            throw new QtaleException("The model has no routers, so there is no execution threshold θ to calibrate.");
        }
    }

    /** The dense model (every layer, routers not run) on the calibration set; measured once. */
    public Evaluation dense() {
        if (dense == null) {
            dense = measure(ExecutionPolicy.dense());
            onPoint.accept(dense);
        }
        return dense;
    }

    /** The threshold policy θ on the calibration set; each θ is measured once. */
    public Evaluation evaluate(float theta) {
        Evaluation e = evaluated.get(theta);
        if (e == null) {
            e = measure(ExecutionPolicy.threshold(theta));
            evaluated.put(theta, e);
            onPoint.accept(e);
        }
        return e;
    }

    /** Any policy on the calibration set, measured afresh. */
    public Evaluation evaluate(ExecutionPolicy policy) {
        return measure(policy);
    }

    /**
     * The θ whose measured execution ratio (over all layers) is closest to {@code target}: a bisection of θ over
     * [0, 1] to {@link #TOLERANCE} that keeps ratio(low) ≥ target > ratio(high), then the closest of all evaluated
     * points (ties: the lower loss, then the larger θ). θ = 0 runs every layer (ratio 1); θ = 1 runs the fewest.
     */
    public Result forTargetRatio(double target) {
        if (!(target >= 0 && target <= 1)) {
            throw new QtaleException("The target execution ratio must be in [0, 1], got " + target + ".");
        }
        Evaluation baseline = dense();
        Evaluation low = evaluate(0f);
        Evaluation high = evaluate(1f);
        if (low.executionRatio() >= target && high.executionRatio() < target) {
            while (high.threshold() - low.threshold() > TOLERANCE) {
                Evaluation mid = evaluate((float) ((low.threshold() + (double) high.threshold()) / 2));
                if (mid.executionRatio() >= target) {
                    low = mid;
                } else {
                    high = mid;
                }
            }
        }
        Evaluation chosen = points().stream()
                .min(Comparator.<Evaluation>comparingDouble(e -> Math.abs(e.executionRatio() - target))
                        .thenComparingDouble(Evaluation::loss))
                .orElseThrow();
        return result(Goal.TARGET_RATIO, target, chosen, baseline);
    }

    /**
     * The largest θ of {@link #LOSS_GRID} (0.5 down to 0) whose loss is at most the dense loss + {@code epsilon} (nats
     * per answer token), refined by bisection to {@link #TOLERANCE} towards the next larger grid point when that one
     * failed. θ = 0 runs every layer and computes the dense model's logits, so the grid always ends with a pass.
     * Thresholds above 0.5 (fewer layers than the routers' own argmax) are not tried.
     */
    public Result forMaxLossIncrease(double epsilon) {
        if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
            throw new QtaleException("The allowed loss increase ε must be a finite number >= 0, got " + epsilon + ".");
        }
        Evaluation baseline = dense();
        double limit = baseline.loss() + epsilon;
        Evaluation pass = null;
        Evaluation fail = null;
        for (float theta : LOSS_GRID) {
            Evaluation e = evaluate(theta);
            if (e.loss() <= limit) {
                pass = e;
                break;
            }
            fail = e;
        }
        if (pass == null) {
            throw new QtaleException("No threshold keeps the loss within " + epsilon + " nats of the dense model's "
                    + baseline.loss() + ", not even θ = 0 (the loss is not finite).");
        }
        while (fail != null && fail.threshold() - pass.threshold() > TOLERANCE) {
            Evaluation mid = evaluate((float) ((pass.threshold() + (double) fail.threshold()) / 2));
            if (mid.loss() <= limit) {
                pass = mid;
            } else {
                fail = mid;
            }
        }
        return result(Goal.MAX_LOSS_INCREASE, epsilon, pass, baseline);
    }

    /** Every θ evaluated so far, from the largest to the smallest. */
    public List<Evaluation> points() {
        List<Evaluation> points = new ArrayList<>(evaluated.values());
        points.sort(Comparator.comparingDouble(Evaluation::threshold).reversed());
        return points;
    }

    private Result result(Goal goal, double value, Evaluation chosen, Evaluation baseline) {
        List<Evaluation> points = points();
        boolean monotone = true;
        for (int i = 1; i < points.size(); i++) {
            monotone &= points.get(i).executionRatio() >= points.get(i - 1).executionRatio();
        }
        return new Result(goal, value, chosen, baseline, points, monotone);
    }

    private Evaluation measure(ExecutionPolicy policy) {
        int vocab = model.config().vocabSize();
        int layers = model.config().nLayers();
        int startLayer = Math.min(model.routers().config().startLayer(), layers);
        int reserved = model.routers().config().reservedTokens();
        float[] logits = new float[CHUNK * vocab];
        double lossSum = 0;
        double flopsSum = 0;
        long flopsTokens = 0;
        long answerTokens = 0;
        long counted = 0;
        long ran = 0;
        long routedRan = 0;
        for (TokenExample e : examples) {
            int length = e.length();
            InferenceState s = model.newState(parallel, length, Math.min(length, CHUNK));
            s.setPolicy(policy);
            int prompt = e.answerStart() - 1; // positions before the first one whose logits predict an answer token
            model.forward(s, e.tokens(), 0, prompt, false);
            for (int p = prompt; p < length; p += CHUNK) {
                int n = Math.min(CHUNK, length - p);
                model.forwardAll(s, e.tokens(), p, n, logits);
                for (int i = 0; i < n && p + i + 1 < length; i++) {
                    lossSum += CrossEntropyOp.exactLoss(logits, i * vocab, vocab, e.tokens()[p + i + 1]);
                }
            }
            answerTokens += e.answerTokens();
            ExecutionTrace trace = s.trace();
            for (int t = reserved; t < trace.tokens(); t++) {
                for (int l = 0; l < layers; l++) {
                    if (trace.executed(t, l)) {
                        ran++;
                        if (l >= startLayer) {
                            routedRan++;
                        }
                    }
                }
                counted++;
            }
            // every token would cost the same dense FLOPs, so token-weighted ratios pool exactly
            flopsSum += trace.flopsRatio() * trace.tokens();
            flopsTokens += trace.tokens();
        }
        int routedLayers = layers - startLayer;
        // no token past the reserved positions: nothing was routed, every layer ran
        double ratio = counted == 0 ? 1.0 : (double) ran / ((double) counted * layers);
        double routedRatio = counted == 0 || routedLayers == 0 ? 1.0 : (double) routedRan / ((double) counted * routedLayers);
        return new Evaluation(policy, lossSum / answerTokens, ratio, routedRatio, flopsSum / flopsTokens, answerTokens,
                counted);
    }

    private static List<Float> grid() {
        List<Float> grid = new ArrayList<>();
        for (int k = 10; k >= 0; k--) {
            grid.add((float) (k / 20.0));
        }
        return List.copyOf(grid);
    }
}
