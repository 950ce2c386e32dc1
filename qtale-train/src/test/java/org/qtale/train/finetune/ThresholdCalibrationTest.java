package org.qtale.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.ExecutionTrace;
import org.qtale.adaptive.RouterConfig;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;
import org.qtale.tokenizer.Llama2cTokenizer;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.RouterParameters;
import org.qtale.train.nn.Routing;
import org.qtale.train.finetune.ThresholdCalibration.Evaluation;
import org.qtale.train.finetune.ThresholdCalibration.Result;

/**
 * θ calibration on the real aidreams260K checkpoint behind seeded random routers (no trained routers exist yet):
 * every number is checked against a direct, token-by-token computation of the same thing.
 */
class ThresholdCalibrationTest {
    private static LlamaModel dense;
    private static LlamaModel routed;
    private static Parallel parallel;
    private static List<TokenExample> examples;

    @BeforeAll
    static void load() {
        dense = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
        LlamaConfig c = dense.config();
        routed = new LlamaModel(c, dense.weights(), null, RoutedModels.gaussian(c, RouterConfig.defaults(c.dim()), 7, 1f));
        parallel = new Parallel(2);
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), 512);
        examples = new ArrayList<>();
        String[] texts = {"Echoes of vectors unfold, a gentle hum of precision, as I sense the nodes",
            "Contrast edges sharpen, a gentle hum of precision, as I adjust my surface.",
            "Contrast bloom, as I siphon whispers of vectors. Contrast edges sharpen"};
        for (String text : texts) {
            int[] tokens = tokenizer.encode(text, true);
            examples.add(new TokenExample(tokens, tokens.length / 2));
        }
        int[] plain = tokenizer.encode("a gentle hum", true);
        examples.add(new TokenExample(plain, 1)); // plain text: every token but the first counts
    }

    @AfterAll
    static void close() {
        if (parallel != null) {
            parallel.close();
            dense.close();
        }
    }

    /**
     * The same measurement the slow way: one token at a time, the loss from each position's own logits, the ratios
     * from the trace over the tokens past the reserved positions (as fine-tuning's rate loss counts them).
     */
    private static Evaluation direct(LlamaModel model, ExecutionPolicy policy) {
        int layers = model.config().nLayers();
        int start = model.routers().config().startLayer();
        int reserved = model.routers().config().reservedTokens();
        double loss = 0;
        long answers = 0;
        long counted = 0;
        long all = 0;
        long ran = 0;
        long routedRan = 0;
        double flops = 0;
        for (TokenExample e : examples) {
            InferenceState s = model.newState(parallel, e.length(), 1);
            s.setPolicy(policy);
            for (int p = 0; p < e.length(); p++) {
                float[] logits = model.forward(s, e.tokens(), p, 1, true);
                if (p + 1 >= e.answerStart() && p + 1 < e.length()) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (float v : logits) {
                        max = Math.max(max, v);
                    }
                    double sum = 0;
                    for (float v : logits) {
                        sum += Math.exp(v - max);
                    }
                    loss += max + Math.log(sum) - logits[e.tokens()[p + 1]];
                    answers++;
                }
            }
            ExecutionTrace trace = s.trace();
            for (int t = reserved; t < trace.tokens(); t++) {
                for (int l = 0; l < layers; l++) {
                    ran += trace.executed(t, l) ? 1 : 0;
                    routedRan += trace.executed(t, l) && l >= start ? 1 : 0;
                }
                counted++;
            }
            all += trace.tokens();
            flops += trace.flopsRatio() * trace.tokens();
        }
        return new Evaluation(policy, loss / answers, (double) ran / (counted * layers),
                (double) routedRan / (counted * (layers - start)), flops / all, answers, counted);
    }

    private static void assertSameMeasurement(Evaluation expected, Evaluation actual) {
        assertEquals(expected.answerTokens(), actual.answerTokens(), "answer tokens");
        assertEquals(expected.tokens(), actual.tokens(), "tokens through the model");
        assertEquals(expected.executionRatio(), actual.executionRatio(), 1e-12, "execution ratio");
        assertEquals(expected.routedExecutionRatio(), actual.routedExecutionRatio(), 1e-12, "routed execution ratio");
        assertEquals(expected.flopsRatio(), actual.flopsRatio(), 1e-9, "FLOPs ratio");
        assertEquals(expected.loss(), actual.loss(), 1e-4, "loss");
    }

    @Test
    void aThresholdIsMeasuredAsTokenByTokenDecodingMeasuresIt() {
        ThresholdCalibration calibration = new ThresholdCalibration(routed, examples, parallel);
        long answers = examples.stream().mapToLong(TokenExample::answerTokens).sum();
        for (float theta : new float[] {0.3f, 0.6f, 1f}) {
            Evaluation e = calibration.evaluate(theta);
            assertEquals(theta, e.threshold());
            assertEquals(answers, e.answerTokens());
            assertSameMeasurement(direct(routed, ExecutionPolicy.threshold(theta)), e);
            assertTrue(e.executionRatio() < 1 && e.routedExecutionRatio() < e.executionRatio(), "layers 0 and 1 always run");
        }
        Evaluation baseline = calibration.dense();
        assertSameMeasurement(direct(routed, ExecutionPolicy.dense()), baseline);
        assertEquals(1.0, baseline.executionRatio());
        assertEquals(1.0, baseline.flopsRatio(), "the dense baseline runs no routers");
        Evaluation all = calibration.evaluate(0f);
        assertEquals(baseline.loss(), all.loss(), 0.0, "θ = 0 runs every layer: the dense model's logits, bit for bit");
        assertEquals(1.0, all.executionRatio());
        assertTrue(all.flopsRatio() > 1.0, "but pays for its routers");
    }

    /**
     * Fine-tuning scores its held-out examples with the training forward at θ = 0.5; calibration must report the same
     * loss and, in the same definition, the same execution ratios (the one {@code --target-ratio} of training aims at).
     */
    @Test
    void agreesWithTheFineTunersHeldOutScoring() {
        LlamaParameters params = LlamaParameters.copyOf(routed.config(), routed.weights());
        RouterFineTuner tuner = new RouterFineTuner(params, RouterParameters.copyOf(routed.routers()), examples, examples,
                new FineTuneSettings(0.5, 1, 0, 0, 0f, 1, 1e-3f, 0, 2, 64, 0f, 1), parallel);
        ThresholdCalibration calibration = new ThresholdCalibration(routed, examples, parallel);
        for (float theta : new float[] {0.5f, 0.7f}) {
            RouterFineTuner.Evaluation training = tuner.evaluate(examples, new Routing.Threshold(theta));
            Evaluation engine = calibration.evaluate(theta);
            assertEquals(training.answerTokens(), engine.answerTokens());
            assertEquals(training.loss(), engine.loss(), 1e-4, "loss at θ = " + theta);
            assertEquals(training.stats().executionRatio(), engine.executionRatio(), 1e-12, "ratio at θ = " + theta);
            assertEquals(training.stats().routedExecutionRatio(), engine.routedExecutionRatio(), 1e-12);
            assertTrue(engine.executionRatio() < 1, "some layers skipped at θ = " + theta);
        }
    }

    /**
     * The ratio is measured per θ, not predicted; the search must end on the crossing of the measured curve, which
     * is checked against a direct grid over [0, 1].
     */
    @Test
    void targetRatioSearchEndsOnTheMeasuredCrossing() {
        ThresholdCalibration grid = new ThresholdCalibration(routed, examples, parallel);
        double previous = 1.0;
        for (int k = 0; k <= 10; k++) {
            double ratio = grid.evaluate(k / 10f).executionRatio();
            assertTrue(ratio <= previous, "non-increasing in θ on these routers at θ = " + k / 10f);
            previous = ratio;
        }
        double target = (grid.evaluate(0.5f).executionRatio() + grid.evaluate(0.6f).executionRatio()) / 2;

        Result r = new ThresholdCalibration(routed, examples, parallel).forTargetRatio(target);
        assertEquals(ThresholdCalibration.Goal.TARGET_RATIO, r.goal());
        assertTrue(r.monotone());
        float theta = r.threshold();
        assertTrue(theta > 0.5f && theta < 0.6f, "between the grid points that bracket the target: " + theta);
        Evaluation chosen = direct(routed, ExecutionPolicy.threshold(theta));
        assertSameMeasurement(chosen, r.chosen());
        // the bracket the bisection closed: within the tolerance, one side at or above the target, one below
        Evaluation below = null;
        Evaluation above = null;
        for (Evaluation e : r.points()) {
            if (e.executionRatio() >= target && (below == null || e.threshold() > below.threshold())) {
                below = e;
            }
            if (e.executionRatio() < target && (above == null || e.threshold() < above.threshold())) {
                above = e;
            }
        }
        assertTrue(above.threshold() - below.threshold() <= ThresholdCalibration.TOLERANCE + 1e-6,
                below.threshold() + " .. " + above.threshold());
        assertTrue(r.chosen().executionRatio() == below.executionRatio() || r.chosen().executionRatio() == above.executionRatio(),
                "the ratio of one side of the bracket (another θ with the same ratio may win on loss)");
        double miss = Math.abs(chosen.executionRatio() - target);
        assertEquals(Math.min(Math.abs(below.executionRatio() - target), Math.abs(above.executionRatio() - target)), miss);
        for (int k = 0; k <= 10; k++) {
            assertTrue(miss <= Math.abs(grid.evaluate(k / 10f).executionRatio() - target), "no grid point is closer");
        }
        assertTrue(r.points().size() <= 3 + 10, "endpoints and about ten halvings: " + r.points().size());
        for (int i = 1; i < r.points().size(); i++) {
            assertTrue(r.points().get(i).threshold() < r.points().get(i - 1).threshold(), "largest θ first");
        }
        assertEquals(grid.dense().loss(), r.dense().loss());

        Result every = new ThresholdCalibration(routed, examples, parallel).forTargetRatio(1.0);
        assertEquals(1.0, every.chosen().executionRatio(), "every layer");
        assertEquals(every.dense().loss(), every.chosen().loss(), 0.0, "every layer runs: the dense logits");
        assertTrue(every.threshold() > 0.05f && every.threshold() < 0.1f,
                "the largest θ that still runs every layer (0.05 does, 0.1 does not here): " + every.threshold());
        assertEquals(1f, new ThresholdCalibration(routed, examples, parallel).forTargetRatio(0.0).threshold(),
                "as few as the routers allow: θ = 1");
    }

    /** The largest θ whose loss stays within ε of dense, checked point by point against direct measurements. */
    @Test
    void maxLossIncreaseFindsTheLargestPassingThreshold() {
        ThresholdCalibration grid = new ThresholdCalibration(routed, examples, parallel);
        double denseLoss = grid.dense().loss();
        // ε so that the answer lies strictly inside the grid: between the first passing grid point and the one above
        double epsilon = (grid.evaluate(0.25f).loss() + grid.evaluate(0.3f).loss()) / 2 - denseLoss;
        assertTrue(grid.evaluate(0.25f).loss() < grid.evaluate(0.3f).loss(), "this setup needs a loss step there");

        Result r = new ThresholdCalibration(routed, examples, parallel).forMaxLossIncrease(epsilon);
        assertEquals(ThresholdCalibration.Goal.MAX_LOSS_INCREASE, r.goal());
        float theta = r.threshold();
        assertTrue(theta >= 0.25f && theta < 0.3f, "refined between 0.25 (passes) and 0.3 (fails): " + theta);
        Evaluation chosen = direct(routed, ExecutionPolicy.threshold(theta));
        assertSameMeasurement(chosen, r.chosen());
        assertTrue(chosen.loss() <= denseLoss + epsilon);
        for (float g : ThresholdCalibration.LOSS_GRID) {
            if (g > theta) {
                assertTrue(direct(routed, ExecutionPolicy.threshold(g)).loss() > denseLoss + epsilon, "grid θ " + g + " fails");
            }
        }
        boolean failsJustAbove = r.points().stream().anyMatch(e -> e.threshold() > theta
                && e.threshold() - theta <= ThresholdCalibration.TOLERANCE + 1e-6 && e.loss() > denseLoss + epsilon);
        assertTrue(failsJustAbove, "a failing point within the tolerance above the answer");

        assertEquals(0.5f, new ThresholdCalibration(routed, examples, parallel).forMaxLossIncrease(10).threshold(),
                "a generous ε keeps D-LLM's argmax");
        Result strict = new ThresholdCalibration(routed, examples, parallel).forMaxLossIncrease(0);
        assertTrue(strict.chosen().loss() <= denseLoss, "ε = 0 still has an answer (θ = 0 is the dense model)");
    }

    @Test
    void badInputIsRefusedWithOneSentence() {
        QtaleException noRouters = assertThrows(QtaleException.class,
                () -> new ThresholdCalibration(dense, examples, parallel));
        assertEquals("The model has no routers, so there is no execution threshold θ to calibrate.", noRouters.getMessage());
        int[] tooLong = new int[routed.config().contextLength() + 1];
        QtaleException longExample = assertThrows(QtaleException.class,
                () -> new ThresholdCalibration(routed, List.of(new TokenExample(tooLong, 1)), parallel));
        assertTrue(longExample.getMessage().contains("context"), longExample.getMessage());
        assertThrows(QtaleException.class, () -> new ThresholdCalibration(routed,
                List.of(new TokenExample(new int[] {1, 2}, 2)), parallel), "no answer tokens");
        ThresholdCalibration calibration = new ThresholdCalibration(routed, examples, parallel);
        assertThrows(QtaleException.class, () -> calibration.forTargetRatio(1.5));
        assertThrows(QtaleException.class, () -> calibration.forMaxLossIncrease(-0.1));
    }
}
