package org.qtale.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.adaptive.Router;
import org.qtale.adaptive.RouterConfig;
import org.qtale.adaptive.RouterSet;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;
import org.qtale.testing.SharedData;

/** Routed training: the router against the engine's, and the straight-through gradients against finite differences. */
class RoutedTrainingTest {
    private static final LlamaConfig SMALL = LlamaConfig.llama2c(16, 24, 4, 4, 2, 11, 8, false);

    @Test
    void routerForwardMatchesTheEngineRouter() {
        RouterParameters routers = randomRouters(SMALL, new RouterConfig(8, 1, 1, 0.5f), 3, 1.0);
        RouterSet engine = routers.toRouterSet(SMALL, 0.5f);
        int n = 13;
        float[] x = Gradients.random(new SplittableRandom(4), n * SMALL.dim(), 2.0);
        float[] hidden = new float[8];
        float[] lanes = VectorOps.laneScratch();
        try (Parallel parallel = new Parallel(2)) {
            for (int l = 1; l < SMALL.nLayers(); l++) {
                float[] gaps = new float[n];
                RouterOp.forward(parallel, routers.layer(l), x, n, SMALL.normEps(), new RouterOp.Saved(n, 8), gaps);
                for (int t = 0; t < n; t++) {
                    float expected = engine.router(l).logitGap(x, t * SMALL.dim(), hidden, lanes);
                    assertEquals(expected, gaps[t], 1e-5 * (1 + Math.abs(expected)), "layer " + l + ", row " + t);
                }
            }
        }
    }

    @Test
    void routerBackwardMatchesFiniteDifferences() {
        RouterParameters routers = randomRouters(SMALL, new RouterConfig(8, 1, 1, 0.5f), 5, 1.0);
        RouterParameters.Layer router = routers.layer(2);
        int n = 7;
        int dim = SMALL.dim();
        SplittableRandom random = new SplittableRandom(6);
        float[] x = Gradients.random(random, n * dim, 2.0);
        float[] weights = Gradients.random(random, n, 1.0);
        try (Parallel parallel = new Parallel(2)) {
            RouterOp.Saved saved = new RouterOp.Saved(n, 8);
            RouterOp.forward(parallel, router, x, n, SMALL.normEps(), saved, new float[n]);
            float[] dx = new float[n * dim];
            RouterOp.backward(parallel, router, weights, x, n, saved, dx);
            java.util.function.DoubleSupplier loss = () -> Reference.dot(
                    Reference.routerGaps(router, Reference.toDouble(x), n, dim, SMALL.normEps()), Reference.toDouble(weights));
            for (Param p : List.of(router.w1(), router.b1(), router.norm(), router.w2(), router.b2())) {
                Gradients.check(p.name(), p.grad(), p.value(), loss, 0, p.name().hashCode());
            }
            Gradients.check("x", dx, x, loss, 0, 1);
        }
    }

    /**
     * A whole routed step on a 4-layer model (3 routed layers, one reserved position, padding in the second sequence):
     * the loss equals the double-precision reference, and every parameter's gradient, routers included, equals the
     * finite-difference gradient of the straight-through surrogate {@code w = hard + σ(Δ + g) − σ(Δ₀ + g)}.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(longs = {11, 12})
    void routedStepGradientsAreTheStraightThroughGradients(long noiseSeed) {
        LlamaParameters params = LlamaParameters.initialize(SMALL, 7);
        SplittableRandom random = new SplittableRandom(3);
        for (Param p : params.all()) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) {
                v[i] = p.isMatrix() ? v[i] * 10 : 1 + (float) (random.nextDouble() - 0.5);
            }
        }
        RouterParameters routers = randomRouters(SMALL, new RouterConfig(8, 1, 1, 0.5f), 9, 1.0);
        int batch = 2;
        int seqLen = 6;
        int[] lengths = {6, 4};
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[batch * seqLen];
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = random.nextInt(SMALL.vocabSize());
            boolean padding = t % seqLen >= lengths[t / seqLen];
            targets[t] = padding || t % 3 == 0 ? CrossEntropyOp.IGNORE : random.nextInt(SMALL.vocabSize());
        }
        RoutingObjective objective = new RoutingObjective(0.6, 0.7, 0.3);
        float ceScale = 0.25f;
        try (Parallel parallel = new Parallel(2)) {
            TrainingModel model = new TrainingModel(params, routers, parallel);
            model.setRouting(new Routing.Gumbel(noiseSeed));
            params.zeroGrad();
            routers.all().forEach(Param::zeroGrad);
            TrainingModel.RoutedStep step = model.lossAndBackward(tokens, targets, lengths, batch, seqLen, ceScale, objective);
            float[][] noise = new float[SMALL.nLayers()][];
            float[][] hard = new float[SMALL.nLayers()][];
            float[][] soft = new float[SMALL.nLayers()][];
            for (int l = 1; l < SMALL.nLayers(); l++) {
                noise[l] = model.noise(l);
                hard[l] = model.decisions(l);
                soft[l] = model.softDecisions(l);
                int executed = 0;
                for (int t = 0; t < hard[l].length; t++) {
                    executed += t % seqLen >= 1 ? (int) hard[l][t] : 0;
                }
                assertTrue(executed > 1 && executed < hard[l].length - batch, "layer " + l + " executes for some rows "
                        + "and skips others: " + executed);
            }
            java.util.function.DoubleSupplier loss = () -> Reference.routedLoss(params, routers, tokens, targets, lengths,
                    batch, seqLen, noise, hard, soft, ceScale, objective);
            double total = ceScale * step.crossEntropySum() + objective.rateWeight() * step.rateLoss()
                    + objective.entropyWeight() * step.entropyLoss();
            assertEquals(loss.getAsDouble(), total, 1e-4 * Math.abs(total));
            for (Param p : params.all()) {
                Gradients.check(p.name(), p.grad(), p.value(), loss, 30, p.name().hashCode());
            }
            for (Param p : routers.all()) {
                Gradients.check(p.name(), p.grad(), p.value(), loss, 30, p.name().hashCode());
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameDecisionsAndAnotherSeedOthers() {
        LlamaParameters params = LlamaParameters.initialize(SMALL, 7);
        RouterParameters routers = randomRouters(SMALL, new RouterConfig(8, 1, 1, 0.5f), 9, 0.1);
        int[] tokens = new int[16];
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = t % SMALL.vocabSize();
        }
        try (Parallel parallel = new Parallel(2)) {
            TrainingModel model = new TrainingModel(params, routers, parallel);
            model.setRouting(new Routing.Gumbel(1));
            model.forward(tokens, 2, 8);
            float[] first = model.decisions(3);
            model.forward(tokens, 2, 8);
            org.junit.jupiter.api.Assertions.assertArrayEquals(first, model.decisions(3));
            model.setRouting(new Routing.Gumbel(2));
            model.forward(tokens, 2, 8);
            assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(model.decisions(3)));
        }
    }

    /**
     * With the engine's rule and no noise, the training forward computes what the engine computes with real skipping
     * and KV eviction, at every position of a real checkpoint.
     */
    @Test
    void thresholdRoutingMatchesTheEngineWithRealSkipping() {
        Path path = SharedData.file("models/stories260K-plctlab-unverified/stories260K.bin");
        try (LlamaModel dense = Llama2cCheckpoint.load(path); Parallel parallel = new Parallel(2)) {
            LlamaConfig config = dense.config();
            RouterParameters routers = randomRouters(config, new RouterConfig(16, 1, 2, 0.5f), 21, 1.0);
            int batch = 2;
            int seqLen = 20;
            int[] tokens = new int[batch * seqLen];
            SplittableRandom random = new SplittableRandom(5);
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = t % seqLen == 0 ? 1 : random.nextInt(config.vocabSize());
            }
            TrainingModel training = new TrainingModel(LlamaParameters.copyOf(config, dense.weights()), routers, parallel);
            float theta = 0.45f;
            training.setRouting(new Routing.Threshold(theta));
            float[] logits = training.forward(tokens, batch, seqLen).clone();
            RoutingStats stats = training.routingStats(new int[] {seqLen, seqLen});
            double ratio = stats.routedExecutionRatio();
            assertTrue(ratio > 0.2 && ratio < 0.8, "the routers skip some layers and run others: " + ratio);
            LlamaModel routed = new LlamaModel(config, dense.weights(), null, routers.toRouterSet(config, theta));
            int vocab = config.vocabSize();
            for (int b = 0; b < batch; b++) {
                InferenceState state = routed.newState(parallel, seqLen, 1);
                for (int i = 0; i < seqLen; i++) {
                    float[] engine = routed.forward(state, tokens, b * seqLen + i, 1, true);
                    for (int v = 0; v < vocab; v++) {
                        assertEquals(engine[v], logits[(b * seqLen + i) * vocab + v], 1e-4,
                                "sequence " + b + ", position " + i + ", token " + v);
                    }
                }
                for (int l = 1; l < config.nLayers(); l++) {
                    float[] decisions = training.decisions(l);
                    for (int i = 0; i < seqLen; i++) {
                        assertEquals(state.trace().executed(i, l), decisions[b * seqLen + i] == 1f, "layer " + l + ", position " + i);
                    }
                }
            }
        }
    }

    /** LoRA dropout: {@code y = W x + s · keep ⊙ (B A x)} and its gradients, keep holding 0 or 1/(1 − p). */
    @Test
    void loraDropoutBranchMatchesFiniteDifferences() {
        SplittableRandom random = new SplittableRandom(8);
        Param w = new Param("w", 6, 5, Gradients.random(random, 30, 1.0));
        LoraAdapter lora = new LoraAdapter(new Param("a", 3, 5, Gradients.random(random, 15, 1.0)),
                new Param("b", 6, 3, Gradients.random(random, 18, 1.0)), 0.7f);
        int n = 4;
        float[] x = Gradients.random(random, n * 5, 1.0);
        float[] keep = new float[n * 6];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = i % 3 == 1 ? 0f : 1f / 0.9f;
        }
        float[] weights = Gradients.random(random, n * 6, 1.0);
        try (Parallel parallel = new Parallel(2)) {
            float[] y = new float[n * 6];
            float[] hidden = new float[n * 3];
            LinearOp.forward(parallel, w, lora, x, n, y, hidden, keep);
            java.util.function.DoubleSupplier loss = () -> {
                double[] base = Reference.linear(Reference.toDouble(x), Reference.toDouble(w.value()), n, 6, 5);
                double[] h = Reference.linear(Reference.toDouble(x), Reference.toDouble(lora.a().value()), n, 3, 5);
                double[] update = Reference.linear(h, Reference.toDouble(lora.b().value()), n, 6, 3);
                double total = 0;
                for (int i = 0; i < base.length; i++) {
                    total += weights[i] * (base[i] + 0.7 * keep[i] * update[i]);
                }
                return total;
            };
            double expected = loss.getAsDouble();
            assertEquals(expected, Reference.dot(Reference.toDouble(y), Reference.toDouble(weights)), 1e-4 * (1 + Math.abs(expected)));
            float[] dx = new float[n * 5];
            LinearOp.backward(parallel, w, lora, weights, x, n, dx, hidden, keep);
            Gradients.check("a", lora.a().grad(), lora.a().value(), loss, 0, 1);
            Gradients.check("b", lora.b().grad(), lora.b().value(), loss, 0, 2);
            Gradients.check("x", dx, x, loss, 0, 3);
        }
    }

    /** Training steps drop about p of the LoRA outputs; a plain forward pass drops none. */
    @Test
    void loraDropoutActsInTrainingStepsOnly() {
        LlamaParameters params = LlamaParameters.initialize(SMALL, 7);
        params.addLora(List.of("q_proj.weight"), 2, 1f, 3);
        params.freezeBase();
        for (Param p : params.trainable()) {
            java.util.Arrays.fill(p.value(), 0.1f);
        }
        RouterParameters routers = randomRouters(SMALL, new RouterConfig(8, 1, 1, 0.5f), 9, 1.0);
        int batch = 4;
        int seqLen = 8;
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[batch * seqLen];
        for (int t = 0; t < tokens.length; t++) {
            tokens[t] = t % SMALL.vocabSize();
            targets[t] = (t + 1) % SMALL.vocabSize();
        }
        int[] lengths = {8, 8, 8, 8};
        try (Parallel parallel = new Parallel(2)) {
            TrainingModel model = new TrainingModel(params, routers, parallel);
            model.setRouting(new Routing.Gumbel(4));
            float[] plain = model.forward(tokens, batch, seqLen).clone();
            assertArrayEquals(plain, model.forward(tokens, batch, seqLen), "no dropout without a training step");
            model.setLoraDropout(0.25f);
            assertArrayEquals(plain, model.forward(tokens, batch, seqLen), "dropout is for training steps only");
            org.junit.jupiter.api.Assertions.assertNull(model.loraDropoutMask(params.layer(0).wq()));
            model.lossAndBackward(tokens, targets, lengths, batch, seqLen, 1f, new RoutingObjective(0.5, 0, 0));
            float[] keep = model.loraDropoutMask(params.layer(0).wq());
            int dropped = 0;
            for (float k : keep) {
                if (k == 0f) {
                    dropped++;
                } else {
                    assertEquals(1 / 0.75f, k, 1e-6f);
                }
            }
            double share = (double) dropped / keep.length;
            assertTrue(Math.abs(share - 0.25) < 0.04, "dropped share " + share + " of " + keep.length);
            model.forward(tokens, batch, seqLen);
            org.junit.jupiter.api.Assertions.assertNull(model.loraDropoutMask(params.layer(0).wq()));
        }
    }

    /** Routers with weights scaled by {@code scale} and output biases near zero, so that decisions go both ways. */
    static RouterParameters randomRouters(LlamaConfig model, RouterConfig config, long seed, double scale) {
        RouterParameters routers = RouterParameters.initialize(model, config, seed);
        SplittableRandom random = new SplittableRandom(seed + 1);
        for (Param p : routers.all()) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) {
                v[i] = p.name().endsWith("norm.weight") ? 1 + (float) (random.nextDouble() - 0.5)
                        : p.name().endsWith("linear_2.bias") ? (float) (random.nextDouble() - 0.5) * 0.2f
                        : (float) ((random.nextDouble() * 2 - 1) * scale * (p.name().contains("linear_2") ? 2 : 1));
            }
        }
        return routers;
    }
}
