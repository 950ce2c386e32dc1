package org.qtale.quant.awq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.quant.QuantizedLayer;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.DecoderLayerPass;
import org.qtale.train.nn.LlamaParameters;

/** AWQ on layers with known structure. */
class AwqTest {
    private static final LlamaConfig CONFIG = LlamaConfig.llama2c(128, 256, 1, 4, 4, 32, 16, false);

    /**
     * A layer whose inputs have a few channels 30x larger than the rest (through the norm weights, as outlier channels
     * arise in LLMs): at 3 bits, AWQ's scaled quantization reproduces the layer's output better than plain
     * round-to-nearest with the same quantizer.
     */
    @Test
    void awqBeatsRoundToNearestWhenAFewInputChannelsAreLarge() {
        LlamaParameters params = LlamaParameters.initialize(CONFIG, 5);
        SplittableRandom random = new SplittableRandom(9);
        for (var p : params.all()) {
            if (p.isMatrix()) {
                float[] v = p.value();
                for (int i = 0; i < v.length; i++) {
                    v[i] *= 10;
                }
            }
        }
        for (int c = 0; c < CONFIG.dim(); c += 16) {
            params.layer(0).attentionNorm().value()[c] = 30;
            params.layer(0).ffnNorm().value()[c] = 30;
        }
        LayerWeights layer = params.toWeights().layers().get(0);
        int batch = 4;
        int seqLen = 16;
        int n = batch * seqLen;
        float[] x = new float[n * CONFIG.dim()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        try (Parallel parallel = new Parallel(2)) {
            DecoderLayerPass pass = new DecoderLayerPass(CONFIG, batch, seqLen, parallel);
            float[][] captured = new float[4][];
            float[] floatOut = x.clone();
            pass.forward(layer, false, floatOut, (g, input, rows, width) -> captured[g.ordinal()] =
                    java.util.Arrays.copyOf(input, rows * width));
            var inputs = new org.qtale.quant.LayerwiseQuantization.Captured(captured[0], captured[1], captured[2],
                    captured[3], n);
            QuantizedLayer awq = new AwqLayer(3, 32, true).quantize(0, layer, false, x, inputs, pass);
            assertEquals(7, awq.projections().size());
            AwqQuantizer rtn = new AwqQuantizer(3, 32);
            List<QuantizedMatrix> plain = List.of(layer.wq(), layer.wk(), layer.wv(), layer.wo(), layer.gate(), layer.up(),
                    layer.down()).stream().map(w -> {
                        float[] values = new float[w.rows() * w.cols()];
                        for (int r = 0; r < w.rows(); r++) {
                            w.copyRow(r, values, r * w.cols());
                        }
                        return rtn.quantize(values, w.rows(), w.cols());
                    }).toList();
            double awqError = error(pass, floatOut, x, awq);
            double rtnError = error(pass, floatOut, x, new QuantizedLayer(plain, layer.attentionNorm(), layer.ffnNorm(),
                    new double[7], "rtn"));
            System.out.printf("layer output error: AWQ %.4g, RTN %.4g (%s)%n", awqError, rtnError, awq.detail());
            assertTrue(awqError < 0.8 * rtnError, "AWQ " + awqError + " vs RTN " + rtnError);
        }
    }

    @Test
    void scalesAreNormalizedAroundOne() {
        float[] s = AwqLayer.scales(new double[] {1, 4, 16}, null, 0.5);
        // x̄^0.5 = 1, 2, 4; divided by √(4·1) = 2
        assertEquals(0.5f, s[0], 1e-6f);
        assertEquals(1f, s[1], 1e-6f);
        assertEquals(2f, s[2], 1e-6f);
    }

    @Test
    void theQuantizerFollowsAwqsRounding() {
        AwqQuantizer q = new AwqQuantizer(2, 4);
        // range [-1, 2]: scale 1, zero rint(1) = 1; codes rint(x) + 1
        QuantizedMatrix m = q.quantize(new float[] {-1f, 0.5f, 1.5f, 2f}, 1, 4);
        assertEquals(1f, m.scale(0, 0));
        assertEquals(1, m.zero(0, 0));
        // rint(0.5) = 0 and rint(1.5) = 2 (half to even)
        assertEquals(List.of(0, 1, 3, 3), List.of(m.code(0, 0), m.code(0, 1), m.code(0, 2), m.code(0, 3)));
    }

    /** Mean squared difference of the layer's output with the quantized weights from the float output. */
    private static double error(DecoderLayerPass pass, float[] floatOut, float[] x, QuantizedLayer quantized) {
        float[] out = x.clone();
        pass.forward(quantized.weights(), false, out, null);
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            double d = out[i] - floatOut[i];
            sum += d * d;
        }
        return sum / out.length;
    }
}
