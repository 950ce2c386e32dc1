package org.qtale.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.quant.calib.CalibrationSet;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.DecoderLayerPass;

/**
 * Post-training quantization layer by layer: the calibration windows enter as embeddings, and for each decoder layer
 * the inputs of its projection groups are captured through the engine's weights ({@link DecoderLayerPass}), the
 * method quantizes the layer, and the layer's output becomes the next layer's input: the float output for methods
 * that keep float activations (AWQ, RTN), the quantized layer's output for those that correct the errors of earlier
 * layers (GPTQ).
 */
public final class LayerwiseQuantization {
    /** The inputs of a layer's projection groups on the calibration tokens (copies). */
    public record Captured(float[] qkv, float[] o, float[] gateUp, float[] down, int tokens) {
    }

    /** One method, applied to one layer at a time. */
    public interface LayerMethod {
        /**
         * @param layerInput the residual stream entering the layer ({@code tokens × dim}; do not modify)
         * @param pass       runs the layer's blocks on the calibration tokens, in their batch × sequence shape
         */
        QuantizedLayer quantize(int layer, LayerWeights weights, boolean qkHalfSplit, float[] layerInput, Captured inputs,
                DecoderLayerPass pass);

        /** Whether the next layer reads this layer's quantized output (GPTQ) rather than its float output (AWQ). */
        boolean propagatesQuantized();
    }

    /** Hears about each finished layer. */
    public interface Listener {
        void onLayer(int layer, int layers, QuantizedLayer result, double seconds);
    }

    private LayerwiseQuantization() {
    }

    public static List<QuantizedLayer> run(LlamaModel model, CalibrationSet calibration, LayerMethod method,
            Parallel parallel, Listener listener) {
        return run(model, calibration, method, parallel, model.config().nLayers(), listener);
    }

    /** Like {@link #run(LlamaModel, CalibrationSet, LayerMethod, Parallel, Listener)} for the first {@code count} layers. */
    public static List<QuantizedLayer> run(LlamaModel model, CalibrationSet calibration, LayerMethod method,
            Parallel parallel, int count, Listener listener) {
        LlamaConfig config = model.config();
        LlamaWeights weights = model.weights();
        int n = calibration.tokens().length;
        float[] x = new float[n * config.dim()];
        for (int t = 0; t < n; t++) {
            weights.tokenEmbedding().copyRow(calibration.tokens()[t], x, t * config.dim());
        }
        DecoderLayerPass pass = new DecoderLayerPass(config, calibration.samples(), calibration.length(), parallel);
        List<QuantizedLayer> layers = new ArrayList<>();
        for (int l = 0; l < Math.min(count, config.nLayers()); l++) {
            long begin = System.nanoTime();
            LayerWeights layer = weights.layers().get(l);
            float[] input = x.clone();
            float[][] captured = new float[DecoderLayerPass.Inputs.values().length][];
            pass.forward(layer, weights.qkHalfSplit(), x,
                    (group, in, rows, width) -> captured[group.ordinal()] = Arrays.copyOf(in, rows * width));
            Captured inputs = new Captured(captured[0], captured[1], captured[2], captured[3], n);
            QuantizedLayer result = method.quantize(l, layer, weights.qkHalfSplit(), input, inputs, pass);
            if (method.propagatesQuantized()) {
                x = input;
                pass.forward(result.weights(), weights.qkHalfSplit(), x, null);
            }
            layers.add(result);
            listener.onLayer(l, config.nLayers(), result, (System.nanoTime() - begin) / 1e9);
        }
        return layers;
    }
}
