package org.qtale.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.quant.LayerwiseQuantization;
import org.qtale.quant.QuantizationMethods;
import org.qtale.quant.QuantizeJob;
import org.qtale.quant.calib.CalibrationSet;
import org.qtale.tensor.DType;
import org.qtale.tensor.Parallel;

/**
 * Wall time of a whole post-training quantization on a real model shape: random BF16 weights (as checkpoints ship)
 * and random calibration tokens, run through the same layer-by-layer pass as {@code qtale quantize} (capture each
 * layer's inputs, quantize its seven projections, propagate). The arithmetic, and so the time, does not depend on the
 * weights' values; perplexity does, so none is reported.
 */
public final class QuantizeBench {
    /**
     * What to time: {@code layers} decoder layers are quantized, from the first (the whole model when it is at least
     * its depth), on {@code samples} windows of {@code length} tokens (at most the shape's context).
     */
    public record Plan(String shape, QuantizeJob.Method method, int bits, int groupSize, int samples, int length,
            int threads, int layers, long seed) {
    }

    /** One decoder layer: seconds for capture, quantization and propagation, and the worst relative output error. */
    public record Layer(int layer, double seconds, double worstRelativeError) {
    }

    public record Result(LlamaConfig config, int calibLength, double buildSeconds, double seconds, List<Layer> layers) {
    }

    private QuantizeBench() {
    }

    public static Result run(Plan plan, Consumer<String> log) {
        LlamaConfig config = ModelShapes.get(plan.shape());
        QuantizeJob.checkGroups(config, plan.groupSize());
        int length = Math.min(plan.length(), config.contextLength());
        try (Parallel parallel = new Parallel(plan.threads())) {
            log.accept("building " + plan.shape() + " with random BF16 weights");
            long built = System.nanoTime();
            try (LlamaModel model = RandomModels.build(config, DType.BF16, plan.seed(), parallel)) {
                double buildSeconds = (System.nanoTime() - built) / 1e9;
                int[] tokens = new int[plan.samples() * length];
                Random random = new Random(plan.seed());
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = random.nextInt(config.vocabSize());
                }
                CalibrationSet calibration = new CalibrationSet("random tokens", tokens, plan.samples(), length, null);
                log.accept(String.format(Locale.ROOT, "%s at %d bits, groups of %d, on %d windows of %d tokens, %d threads",
                        plan.method().cliName(), plan.bits(), plan.groupSize(), plan.samples(), length,
                        plan.threads()));
                List<Layer> layers = new ArrayList<>();
                long begin = System.nanoTime();
                LayerwiseQuantization.run(model, calibration,
                        QuantizationMethods.of(plan.method(), plan.bits(), plan.groupSize()), parallel, plan.layers(),
                        (layer, count, result, seconds) -> {
                            double worst = 0;
                            for (double e : result.relativeErrors()) {
                                worst = Math.max(worst, e);
                            }
                            layers.add(new Layer(layer, seconds, worst));
                            log.accept(String.format(Locale.ROOT, "layer %d/%d: %.1f s", layer + 1,
                                    Math.min(count, plan.layers()), seconds));
                        });
                return new Result(config, length, buildSeconds, (System.nanoTime() - begin) / 1e9, layers);
            }
        }
    }
}
