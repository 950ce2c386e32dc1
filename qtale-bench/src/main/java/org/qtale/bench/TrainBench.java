package org.qtale.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.qtale.model.LlamaConfig;
import org.qtale.tensor.Parallel;
import org.qtale.train.TrainShapes;
import org.qtale.train.nn.Gemm;
import org.qtale.train.nn.LinearOp;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.Param;
import org.qtale.train.nn.TrainingModel;
import org.qtale.train.optim.AdamW;
import org.qtale.train.optim.GradientClipping;

/**
 * Training speed of a whole step (forward, backward, clipping, AdamW) beside the matrix kernels alone on the same
 * shapes: the forward product and the two backward products of every linear layer, timed in isolation. The ratio
 * says how much of a step is spent outside the kernels.
 */
public final class TrainBench {
    /** What to measure. */
    public record Plan(String shape, int vocab, int batch, int seqLen, int steps, int threads) {
    }

    /** What was measured. */
    public record Result(Plan plan, long parameters, double stepSeconds, double tokensPerSecond, double stepGflops,
            double kernelGflops) {
        public double ratio() {
            return stepGflops / kernelGflops;
        }
    }

    private TrainBench() {
    }

    public static Result run(Plan plan, Consumer<String> progress) {
        TrainShapes.Shape shape = TrainShapes.get(plan.shape());
        LlamaConfig config = shape.config(plan.vocab()).withContextLength(Math.max(plan.seqLen(), shape.contextLength()));
        LlamaParameters params = LlamaParameters.initialize(config, 1);
        int n = plan.batch() * plan.seqLen();
        int[] tokens = new int[n];
        int[] targets = new int[n];
        SplittableRandom random = new SplittableRandom(7);
        for (int t = 0; t < n; t++) {
            tokens[t] = random.nextInt(config.vocabSize());
            targets[t] = random.nextInt(config.vocabSize());
        }
        try (Parallel parallel = new Parallel(plan.threads())) {
            TrainingModel model = new TrainingModel(params, parallel);
            AdamW optimizer = new AdamW(params.trainable(), 0.9f, 0.95f, 1e-8f, 0.1f);
            double best = Double.MAX_VALUE;
            for (int step = 0; step < plan.steps() + 2; step++) {
                long start = System.nanoTime();
                params.zeroGrad();
                model.lossAndBackward(tokens, targets, plan.batch(), plan.seqLen(), 1f / n);
                GradientClipping.clip(optimizer.params(), 1.0);
                optimizer.step(1e-4f);
                double seconds = (System.nanoTime() - start) / 1e9;
                progress.accept(String.format("step %d/%d: %.3f s%s", step + 1, plan.steps() + 2, seconds,
                        step < 2 ? " (warm-up)" : ""));
                if (step >= 2) {
                    best = Math.min(best, seconds);
                }
            }
            double stepFlops = stepFlops(config, plan.batch(), plan.seqLen());
            double kernelGflops = kernelGflops(config, n, parallel, progress);
            return new Result(plan, params.count(), best, n / best, stepFlops / best / 1e9, kernelGflops);
        }
    }

    /** Floating-point operations of one step: 6·n per weight of every linear layer, plus attention's products. */
    static double stepFlops(LlamaConfig c, int batch, int seqLen) {
        double n = (double) batch * seqLen;
        double linear = 0;
        for (int[] shape : linearShapes(c)) {
            linear += (double) shape[0] * shape[1] * shape[2];
        }
        // per layer and head: q·k and p·v over the causal triangle, 2 FLOPs per multiply-add; backward twice that
        double triangle = seqLen * (seqLen + 1) / 2.0;
        double attention = 3 * 2 * 2 * (double) batch * c.nHeads() * triangle * c.headDim() * c.nLayers();
        return 6 * n * linear + attention;
    }

    /** {rows, cols, count} of every linear product of a step. */
    static List<int[]> linearShapes(LlamaConfig c) {
        List<int[]> shapes = new ArrayList<>();
        shapes.add(new int[] {c.qDim(), c.dim(), c.nLayers()});
        shapes.add(new int[] {c.kvDim(), c.dim(), 2 * c.nLayers()});
        shapes.add(new int[] {c.dim(), c.qDim(), c.nLayers()});
        shapes.add(new int[] {c.hiddenDim(), c.dim(), 2 * c.nLayers()});
        shapes.add(new int[] {c.dim(), c.hiddenDim(), c.nLayers()});
        shapes.add(new int[] {c.vocabSize(), c.dim(), 1});
        return shapes;
    }

    /** GFLOP/s of the three products of every linear layer of a step, each shape timed alone. */
    static double kernelGflops(LlamaConfig c, int n, Parallel parallel, Consumer<String> progress) {
        SplittableRandom random = new SplittableRandom(3);
        double flops = 0;
        double seconds = 0;
        for (int[] shape : linearShapes(c)) {
            int rows = shape[0];
            int cols = shape[1];
            Param weight = new Param("w", rows, cols, randoms(random, rows * cols));
            float[] w = weight.value();
            float[] x = randoms(random, n * cols);
            float[] y = new float[n * rows];
            float[] dx = new float[n * cols];
            float[] dw = new float[rows * cols];
            // each timed block repeats the three products long enough (about 20 ms) that a late thread wake-up
            // does not dominate it; the best of five blocks is kept
            double flopsPerRound = 6.0 * n * rows * cols;
            int rounds = (int) Math.max(1, Math.min(10_000, 2e9 / flopsPerRound));
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 6; rep++) {
                long start = System.nanoTime();
                for (int round = 0; round < rounds; round++) {
                    LinearOp.multiply(parallel, weight, x, n, y);
                    Gemm.inputGradient(parallel, y, n, w, rows, cols, dx);
                    Gemm.weightGradient(parallel, y, x, n, rows, cols, dw);
                }
                double s = (System.nanoTime() - start) / 1e9 / rounds;
                if (rep > 0) {
                    best = Math.min(best, s);
                }
            }
            progress.accept(String.format("kernels %dx%d: %.1f GFLOP/s", rows, cols, 6.0 * n * rows * cols / best / 1e9));
            flops += 6.0 * n * rows * cols * shape[2];
            seconds += best * shape[2];
        }
        return flops / seconds / 1e9;
    }

    private static float[] randoms(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextDouble() - 0.5);
        }
        return values;
    }
}
