package org.qtale.quant;

import java.util.ArrayList;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.tensor.LinearWeights;

/**
 * One decoder layer after quantization: its seven projections (q, k, v, o, gate, up, down), its norms (AWQ folds
 * scales into them), each projection's relative output error on the calibration inputs, and what the method chose.
 */
public record QuantizedLayer(List<QuantizedMatrix> projections, float[] attentionNorm, float[] ffnNorm,
        double[] relativeErrors, String detail) {
    public static final List<String> NAMES = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

    /** The engine's layer: the projections in the packed group-quantized format, the norms as they are. */
    public LayerWeights weights() {
        List<LinearWeights> w = new ArrayList<>();
        for (QuantizedMatrix q : projections) {
            w.add(GroupQuantizedWeights.of(q));
        }
        return new LayerWeights(attentionNorm, w.get(0), w.get(1), w.get(2), w.get(3), ffnNorm, w.get(4), w.get(5), w.get(6));
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
