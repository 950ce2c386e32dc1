package org.qtale.quant.awq;

import java.util.ArrayList;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.quant.calib.CalibrationSet;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.DecoderLayerPass;

/**
 * AWQ over a whole model: the calibration windows go through the float model layer by layer; each layer's projection
 * inputs are captured, the layer is scaled, clipped and quantized ({@link AwqLayer}), and the float layer's output
 * (not the quantized one, as in the reference) feeds the next layer.
 */
public final class AwqQuantization {
    /** Hears about each finished layer. */
    public interface Listener {
        void onLayer(int layer, int layers, AwqLayer.Result result);
    }

    /** The quantized projections per layer and the norms with the scales folded in. */
    public record Result(List<AwqLayer.Result> layers) {
        /** The engine's weights with every projection dequantized to float (for measuring the quantization alone). */
        public LlamaWeights dequantized(LlamaWeights original) {
            List<LayerWeights> out = new ArrayList<>();
            for (AwqLayer.Result r : layers) {
                List<QuantizedMatrix> p = r.projections();
                out.add(new LayerWeights(r.attentionNorm(), dense(p.get(0)), dense(p.get(1)), dense(p.get(2)),
                        dense(p.get(3)), r.ffnNorm(), dense(p.get(4)), dense(p.get(5)), dense(p.get(6))));
            }
            return new LlamaWeights(original.tokenEmbedding(), out, original.finalNorm(), original.output(),
                    original.qkHalfSplit());
        }
    }

    private AwqQuantization() {
    }

    public static Result run(LlamaModel model, CalibrationSet calibration, int bits, int groupSize, Parallel parallel,
            Listener listener) {
        LlamaConfig config = model.config();
        int n = calibration.tokens().length;
        float[] x = new float[n * config.dim()];
        for (int t = 0; t < n; t++) {
            model.weights().tokenEmbedding().copyRow(calibration.tokens()[t], x, t * config.dim());
        }
        DecoderLayerPass pass = new DecoderLayerPass(config, calibration.samples(), calibration.length(), parallel);
        AwqLayer awq = new AwqLayer(bits, groupSize, true);
        List<AwqLayer.Result> layers = new ArrayList<>();
        for (int l = 0; l < config.nLayers(); l++) {
            LayerWeights weights = model.weights().layers().get(l);
            float[][] captured = new float[DecoderLayerPass.Inputs.values().length][];
            pass.forward(weights, model.weights().qkHalfSplit(), x,
                    (group, input, rows, width) -> captured[group.ordinal()] = java.util.Arrays.copyOf(input, rows * width));
            AwqLayer.Inputs inputs = new AwqLayer.Inputs(captured[0], captured[1], captured[2], captured[3], n);
            AwqLayer.Result result = awq.quantize(weights, model.weights().qkHalfSplit(), inputs, pass);
            layers.add(result);
            listener.onLayer(l, config.nLayers(), result);
        }
        return new Result(layers);
    }

    private static LinearWeights dense(QuantizedMatrix q) {
        float[] values = new float[q.rows() * q.cols()];
        for (int r = 0; r < q.rows(); r++) {
            for (int c = 0; c < q.cols(); c++) {
                values[r * q.cols() + c] = Float.float16ToFloat(Float.floatToFloat16(q.scale(r, q.group(c))))
                        * (q.code(r, c) - q.zero(r, q.group(c)));
            }
        }
        return F32Weights.of(values, q.rows(), q.cols());
    }
}
