package org.qtale.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.quant.algo.GptqGrid;
import org.qtale.quant.algo.GptqOptions;
import org.qtale.quant.algo.GptqResult;
import org.qtale.quant.algo.Hessian;
import org.qtale.quant.algo.MagrGptq;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.DecoderLayerPass;

/**
 * GPTQ (or MagR + GPTQ) for one decoder layer, "true sequential" as the reference LLaMA script runs it: q, k, v from
 * the Hessian of the layer's normed input; o from the attention output computed with the quantized q, k, v; gate and
 * up from the FFN input after the quantized attention; down from its input after the quantized gate and up. Groups of
 * {@code groupSize} columns, asymmetric, 1% damping, no act-order (the defaults of IST-DASLab/gptq's LLaMA script,
 * with groups).
 */
final class GptqLayer implements LayerwiseQuantization.LayerMethod {
    private final int bits;
    private final int groupSize;
    private final boolean magr;

    GptqLayer(int bits, int groupSize, boolean magr) {
        this.bits = bits;
        this.groupSize = groupSize;
        this.magr = magr;
    }

    @Override
    public boolean propagatesQuantized() {
        return true;
    }

    @Override
    public QuantizedLayer quantize(int index, LayerWeights w, boolean qkHalfSplit, float[] layerInput,
            LayerwiseQuantization.Captured inputs, DecoderLayerPass pass) {
        List<QuantizedMatrix> q = new ArrayList<>();
        double[] errors = new double[7];
        double loss = 0;
        int n = inputs.tokens();
        Hessian qkv = hessian(inputs.qkv(), n, w.wq().cols(), pass);
        LinearWeights[] projections = {w.wq(), w.wk(), w.wv(), w.wo(), w.gate(), w.up(), w.down()};
        for (int i = 0; i < 3; i++) {
            loss += add(pass.parallel(), q, errors, i, projections[i], qkv, inputs.qkv(), n);
        }
        float[] oInput = capture(pass, partial(w, q), qkHalfSplit, layerInput, DecoderLayerPass.Inputs.O);
        loss += add(pass.parallel(), q, errors, 3, projections[3], hessian(oInput, n, w.wo().cols(), pass), oInput, n);
        float[] mlpInput = capture(pass, partial(w, q), qkHalfSplit, layerInput, DecoderLayerPass.Inputs.GATE_UP);
        Hessian mlp = hessian(mlpInput, n, w.gate().cols(), pass);
        loss += add(pass.parallel(), q, errors, 4, projections[4], mlp, mlpInput, n);
        loss += add(pass.parallel(), q, errors, 5, projections[5], mlp, mlpInput, n);
        float[] downInput = capture(pass, partial(w, q), qkHalfSplit, layerInput, DecoderLayerPass.Inputs.DOWN);
        loss += add(pass.parallel(), q, errors, 6, projections[6], hessian(downInput, n, w.down().cols(), pass), downInput, n);
        return new QuantizedLayer(q, w.attentionNorm(), w.ffnNorm(), errors,
                String.format(java.util.Locale.ROOT, "GPTQ loss %.4g", loss));
    }

    private double add(Parallel parallel, List<QuantizedMatrix> out, double[] errors, int i, LinearWeights weights,
            Hessian h, float[] x, int n) {
        float[][] rows = QuantizedLayer.rows(weights);
        GptqOptions options = GptqOptions.of(groupSize);
        GptqResult result = magr
                ? MagrGptq.quantize(rows, h, bits, false, options, MagrGptq.Options.reference(bits, groupSize),
                        parallel)
                : org.qtale.quant.algo.Gptq.quantize(rows, h, GptqGrid.asymmetric(bits), options, parallel);
        out.add(result.matrix());
        errors[i] = ReconstructionError.relative(weights, result.matrix(), x, n, parallel);
        return result.loss();
    }

    /** The layer with its first {@code q.size()} projections quantized (packed, as the engine runs them). */
    private static LayerWeights partial(LayerWeights w, List<QuantizedMatrix> q) {
        LinearWeights[] p = {w.wq(), w.wk(), w.wv(), w.wo(), w.gate(), w.up(), w.down()};
        for (int i = 0; i < q.size(); i++) {
            p[i] = GroupQuantizedWeights.of(q.get(i));
        }
        return new LayerWeights(w.attentionNorm(), p[0], p[1], p[2], p[3], w.ffnNorm(), p[4], p[5], p[6]);
    }

    private static float[] capture(DecoderLayerPass pass, LayerWeights w, boolean qkHalfSplit, float[] layerInput,
            DecoderLayerPass.Inputs wanted) {
        float[][] captured = new float[1][];
        pass.forward(w, qkHalfSplit, layerInput.clone(), (group, input, rows, width) -> {
            if (group == wanted) {
                captured[0] = Arrays.copyOf(input, rows * width);
            }
        });
        return captured[0];
    }

    private static Hessian hessian(float[] x, int n, int cols, DecoderLayerPass pass) {
        Hessian h = new Hessian(cols);
        h.add(x, n, pass.batch(), pass.parallel());
        return h;
    }

}
