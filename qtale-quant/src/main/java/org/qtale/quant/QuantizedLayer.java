package org.qtale.quant;

import java.util.ArrayList;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearWeights;

/**
 * One decoder layer after quantization: its seven projections (q, k, v, o, gate, up, down), its norms (AWQ folds
 * scales into them), each projection's relative output error on the calibration inputs, and what the method chose.
 */
public record QuantizedLayer(List<QuantizedMatrix> projections, float[] attentionNorm, float[] ffnNorm,
        double[] relativeErrors, String detail) {
    public static final List<String> NAMES = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

    /** The engine's layer with every projection dequantized to float (float16 scales, as stored). */
    public LayerWeights dequantized() {
        List<LinearWeights> w = new ArrayList<>();
        for (QuantizedMatrix q : projections) {
            w.add(F32Weights.of(dequantize(q), q.rows(), q.cols()));
        }
        return new LayerWeights(attentionNorm, w.get(0), w.get(1), w.get(2), w.get(3), ffnNorm, w.get(4), w.get(5), w.get(6));
    }

    /** {@code scale · (code − zero)} with the scale rounded to float16 as checkpoints and the packed formats keep it. */
    public static float[] dequantize(QuantizedMatrix q) {
        float[] values = new float[q.rows() * q.cols()];
        for (int r = 0; r < q.rows(); r++) {
            for (int c = 0; c < q.cols(); c++) {
                int g = q.group(c);
                values[r * q.cols() + c] = Float.float16ToFloat(Float.floatToFloat16(q.scale(r, g))) * (q.code(r, c) - q.zero(r, g));
            }
        }
        return values;
    }

    /** A projection's weights as float rows (widened from whatever format they are stored in). */
    public static float[][] rows(LinearWeights w) {
        float[][] rows = new float[w.rows()][w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, rows[r], 0);
        }
        return rows;
    }
}
