package org.qtale.quant;

import java.util.ArrayList;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.quant.algo.GptqGrid;
import org.qtale.quant.algo.Rtn;
import org.qtale.quant.awq.AwqLayer;
import org.qtale.tensor.LinearWeights;
import org.qtale.train.nn.DecoderLayerPass;

/** The layer methods behind {@code qtale quantize --method}. */
public final class QuantizationMethods {
    private QuantizationMethods() {
    }

    public static LayerwiseQuantization.LayerMethod of(QuantizeJob.Method method, int bits, int groupSize) {
        return switch (method) {
            case RTN -> new RoundToNearest(bits, groupSize);
            case AWQ -> new AwqLayer(bits, groupSize, true);
            case GPTQ -> new GptqLayer(bits, groupSize, false);
            case MAGR_GPTQ -> new GptqLayer(bits, groupSize, true);
        };
    }

    /**
     * Round-to-nearest with the GPTQ repository's quantizer (asymmetric, the range forced through zero), each
     * projection on its own; the calibration inputs only serve the error report.
     */
    static final class RoundToNearest implements LayerwiseQuantization.LayerMethod {
        private final int bits;
        private final int groupSize;

        RoundToNearest(int bits, int groupSize) {
            this.bits = bits;
            this.groupSize = groupSize;
        }

        @Override
        public boolean propagatesQuantized() {
            return false;
        }

        @Override
        public QuantizedLayer quantize(int layer, LayerWeights w, boolean qkHalfSplit, float[] layerInput,
                LayerwiseQuantization.Captured inputs, DecoderLayerPass pass) {
            LinearWeights[] projections = {w.wq(), w.wk(), w.wv(), w.wo(), w.gate(), w.up(), w.down()};
            float[][] projectionInputs = {inputs.qkv(), inputs.qkv(), inputs.qkv(), inputs.o(), inputs.gateUp(),
                inputs.gateUp(), inputs.down()};
            List<QuantizedMatrix> out = new ArrayList<>();
            double[] errors = new double[projections.length];
            for (int i = 0; i < projections.length; i++) {
                float[][] rows = QuantizedLayer.rows(projections[i]);
                QuantizedMatrix m = Rtn.quantize(rows, GptqGrid.asymmetric(bits), groupSize);
                out.add(m);
                errors[i] = ReconstructionError.relative(projections[i], m, projectionInputs[i], inputs.tokens(),
                        pass.parallel());
            }
            return new QuantizedLayer(out, w.attentionNorm(), w.ffnNorm(), errors, "round to nearest");
        }
    }
}
