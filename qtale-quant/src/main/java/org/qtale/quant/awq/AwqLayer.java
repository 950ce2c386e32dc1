package org.qtale.quant.awq;

import java.util.ArrayList;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.quant.LayerwiseQuantization;
import org.qtale.quant.QuantizedLayer;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.quant.ReconstructionError;
import org.qtale.tensor.Parallel;
import org.qtale.train.nn.DecoderLayerPass;

/**
 * AWQ for one decoder layer (llm-awq / AutoAWQ, quant.md §2): search per-input-channel scales for the four LLaMA
 * scale groups, fold them into the preceding norm or projection, search clipping thresholds, then quantize every
 * projection with the AWQ-style round-to-nearest quantizer.
 *
 * <p>The scale search, per group: {@code x̄[c] = mean_t |x[t][c]|}; with AutoAWQ's default duo scaling also
 * {@code w̄[c]} = the mean over output rows of {@code |W| / max|W|} within each quantization group, over the group's
 * projections concatenated; for α = 0, 0.05, ..., 0.95: {@code s = max(x̄^α / (w̄^(1−α) + 1e-4), 1e-4)},
 * {@code s /= √(max s · min s)}, every projection of the group replaced by {@code Q(W·diag(s))·diag(s)⁻¹}, and the
 * mean squared difference of the inspected module's output from the float output on the calibration tokens; the best
 * s is folded: the norm (or the previous projection's rows) divided by s, the projections' columns multiplied by s.
 * The v→o group exists only when v and o have the same shape (no GQA), as in AutoAWQ.
 *
 * <p>The clip search (every projection but q and k): on about 512 of the calibration tokens (every T/512-th), for
 * each output row and quantization group, the largest |w| shrunk by 0, 5, ..., 45% and the weights clamped to it; the
 * shrink with the smallest mean squared error of the group's partial dot products is kept.
 */
public final class AwqLayer implements LayerwiseQuantization.LayerMethod {
    /** The scale groups in AutoAWQ's order. */
    enum ScaleGroup { QKV, VO, GATE_UP, UP_DOWN }

    static final int SCALE_GRID = 20;
    static final int CLIP_GRID = 20;
    static final double MAX_SHRINK = 0.5;
    static final int CLIP_TOKENS = 512;

    private final AwqQuantizer quantizer;
    private final boolean duoScaling;

    public AwqLayer(int bits, int groupSize, boolean duoScaling) {
        this.quantizer = new AwqQuantizer(bits, groupSize);
        this.duoScaling = duoScaling;
    }

    /**
     * Scales, clips and quantizes the layer. {@code pass} evaluates the attention and MLP blocks on the calibration
     * tokens ({@code inputs.tokens()} rows, in its batch × sequence shape).
     */
    @Override
    public boolean propagatesQuantized() {
        return false;
    }

    @Override
    public QuantizedLayer quantize(int index, LayerWeights weights, boolean qkHalfSplit, float[] layerInput,
            LayerwiseQuantization.Captured inputs, DecoderLayerPass pass) {
        FloatLayer layer = new FloatLayer(weights);
        int n = inputs.tokens();
        List<String> chosen = new ArrayList<>();
        float[] qkvIn = inputs.qkv().clone();
        float[] oIn = inputs.o().clone();
        float[] gateUpIn = inputs.gateUp().clone();
        float[] downIn = inputs.down().clone();

        // q, k, v behind the attention norm, judged on the whole attention block
        float[] reference = pass.attentionBlock(layer.weights(), qkHalfSplit, qkvIn, null).clone();
        Search qkv = search(qkvIn, n, List.of(layer.wq, layer.wk, layer.wv), candidate -> pass.attentionBlock(
                layer.weights(candidate.get(0), candidate.get(1), candidate.get(2), null, null, null, null),
                qkHalfSplit, qkvIn, null), reference);
        fold(layer.attentionNorm, qkv.scales, List.of(layer.wq, layer.wk, layer.wv), qkvIn, n);
        chosen.add("qkv α " + qkv.alpha);

        // o behind v, when the shapes allow it
        if (layer.wv.rows == layer.wo.cols && layer.wv.cols == layer.wo.rows) {
            float[] oReference = pass.project(layer.wo.weights(), oIn);
            Search vo = search(oIn, n, List.of(layer.wo), candidate -> pass.project(candidate.get(0).weights(), oIn),
                    oReference);
            layer.wv.unscaleRows(vo.scales);
            layer.wo.scaleColumns(vo.scales);
            divideColumns(oIn, n, vo.scales);
            chosen.add("vo α " + vo.alpha);
        }

        // gate and up behind the FFN norm, judged on the whole MLP block
        float[] mlpReference = pass.mlpBlock(layer.weights(), gateUpIn, null).clone();
        Search gateUp = search(gateUpIn, n, List.of(layer.gate, layer.up), candidate -> pass.mlpBlock(
                layer.weights(null, null, null, null, candidate.get(0), candidate.get(1), null), gateUpIn, null),
                mlpReference);
        fold(layer.ffnNorm, gateUp.scales, List.of(layer.gate, layer.up), gateUpIn, n);
        chosen.add("gate/up α " + gateUp.alpha);

        // down behind up
        float[] downReference = pass.project(layer.down.weights(), downIn);
        Search upDown = search(downIn, n, List.of(layer.down), candidate -> pass.project(candidate.get(0).weights(), downIn),
                downReference);
        layer.up.unscaleRows(upDown.scales);
        layer.down.scaleColumns(upDown.scales);
        divideColumns(downIn, n, upDown.scales);
        chosen.add("up/down α " + upDown.alpha);

        List<FloatLayer.Matrix> scaled = List.of(layer.wq.copy(), layer.wk.copy(), layer.wv.copy(), layer.wo.copy(),
                layer.gate.copy(), layer.up.copy(), layer.down.copy());
        // clipping, on the scaled inputs (q and k are left alone, as the reference does)
        clip(layer.wv, qkvIn, n, pass.parallel());
        clip(layer.wo, oIn, n, pass.parallel());
        clip(layer.gate, gateUpIn, n, pass.parallel());
        clip(layer.up, gateUpIn, n, pass.parallel());
        clip(layer.down, downIn, n, pass.parallel());

        List<QuantizedMatrix> projections = new ArrayList<>();
        for (FloatLayer.Matrix m : List.of(layer.wq, layer.wk, layer.wv, layer.wo, layer.gate, layer.up, layer.down)) {
            projections.add(quantizer.quantize(m.values, m.rows, m.cols));
        }
        // each projection's output error on its (scaled) calibration input, against the scaled float weights
        List<float[]> projectionInputs = List.of(qkvIn, qkvIn, qkvIn, oIn, gateUpIn, gateUpIn, downIn);
        double[] errors = new double[projections.size()];
        for (int i = 0; i < errors.length; i++) {
            errors[i] = ReconstructionError.relative(scaled.get(i).weights(), projections.get(i), projectionInputs.get(i), n,
                    pass.parallel());
        }
        return new QuantizedLayer(projections, layer.attentionNorm, layer.ffnNorm, errors, String.join(", ", chosen));
    }

    private record Search(float[] scales, double alpha, double loss) {
    }

    /** Evaluates a module with some of its projections replaced. */
    private interface Module {
        float[] output(List<FloatLayer.Matrix> candidate);
    }

    private Search search(float[] x, int n, List<FloatLayer.Matrix> projections, Module module, float[] reference) {
        int cols = projections.get(0).cols;
        double[] xMean = new double[cols];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < cols; c++) {
                xMean[c] += Math.abs(x[t * cols + c]);
            }
        }
        for (int c = 0; c < cols; c++) {
            xMean[c] /= n;
        }
        double[] wMean = duoScaling ? weightMean(projections) : null;
        Search best = null;
        for (int r = 0; r < SCALE_GRID; r++) {
            double alpha = (double) r / SCALE_GRID;
            float[] s = scales(xMean, wMean, alpha);
            List<FloatLayer.Matrix> candidate = new ArrayList<>();
            for (FloatLayer.Matrix w : projections) {
                FloatLayer.Matrix scaled = w.copy();
                scaled.scaleColumns(s);
                quantizer.pseudoQuantize(scaled.values, scaled.rows, scaled.cols);
                scaled.unscaleColumns(s);
                candidate.add(scaled);
            }
            double loss = meanSquaredDifference(module.output(candidate), reference);
            if (best == null || loss < best.loss) {
                best = new Search(s, alpha, loss);
            }
        }
        return best;
    }

    /** {@code s = max(x̄^α / (w̄^(1−α) + 1e-4), 1e-4)} (without w̄: {@code max(x̄^α, 1e-4)}), normalized. */
    static float[] scales(double[] xMean, double[] wMean, double alpha) {
        int cols = xMean.length;
        double[] s = new double[cols];
        double max = 0;
        double min = Double.POSITIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            double value = Math.pow(xMean[c], alpha);
            if (wMean != null) {
                value /= Math.pow(wMean[c], 1 - alpha) + 1e-4;
            }
            s[c] = Math.max(value, 1e-4);
            max = Math.max(max, s[c]);
            min = Math.min(min, s[c]);
        }
        double norm = Math.sqrt(max * min);
        float[] out = new float[cols];
        for (int c = 0; c < cols; c++) {
            double v = s[c] / norm;
            out[c] = Double.isFinite(v) ? (float) v : 1f;
        }
        return out;
    }

    /** AutoAWQ's w̄: per quantization group |W| / max |W|, averaged over all rows of all the group's projections. */
    private double[] weightMean(List<FloatLayer.Matrix> projections) {
        int cols = projections.get(0).cols;
        int g = quantizer.groupSize(cols);
        double[] mean = new double[cols];
        int rows = 0;
        for (FloatLayer.Matrix w : projections) {
            for (int r = 0; r < w.rows; r++) {
                for (int start = 0; start < cols; start += g) {
                    double max = 0;
                    for (int c = start; c < start + g; c++) {
                        max = Math.max(max, Math.abs(w.values[r * cols + c]));
                    }
                    for (int c = start; c < start + g; c++) {
                        mean[c] += Math.abs(w.values[r * cols + c]) / (max + 1e-6);
                    }
                }
            }
            rows += w.rows;
        }
        for (int c = 0; c < cols; c++) {
            mean[c] /= rows;
        }
        return mean;
    }

    /** Folds {@code 1/s} into the norm before the projections and {@code s} into their columns; divides the input. */
    private static void fold(float[] norm, float[] s, List<FloatLayer.Matrix> projections, float[] input, int n) {
        for (int c = 0; c < norm.length; c++) {
            norm[c] /= s[c];
        }
        for (FloatLayer.Matrix w : projections) {
            w.scaleColumns(s);
        }
        divideColumns(input, n, s);
    }

    private static void divideColumns(float[] x, int n, float[] s) {
        int cols = s.length;
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < cols; c++) {
                x[t * cols + c] /= s[c];
            }
        }
    }

    private static double meanSquaredDifference(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            sum += d * d;
        }
        return sum / a.length;
    }

    /**
     * Clamps each (row, group) of W to the shrink of its largest |w| whose pseudo-quantized partial dot products with
     * about 512 sampled input rows differ least from the float ones. Rows are independent and split across
     * {@code parallel}.
     */
    private void clip(FloatLayer.Matrix w, float[] x, int n, Parallel parallel) {
        parallel.forRange(w.rows, (from, to) -> clipRows(w, x, n, from, to));
        w.changed();
    }

    private void clipRows(FloatLayer.Matrix w, float[] x, int n, int fromRow, int toRow) {
        int cols = w.cols;
        int g = quantizer.groupSize(cols);
        int step = Math.max(1, n / CLIP_TOKENS);
        int samples = (n + step - 1) / step;
        float[] group = new float[g];
        float[] quantized = new float[g];
        int steps = (int) Math.round(MAX_SHRINK * CLIP_GRID);
        for (int r = fromRow; r < toRow; r++) {
            for (int start = 0; start < cols; start += g) {
                int offset = r * cols + start;
                float maxAbs = 0;
                for (int c = 0; c < g; c++) {
                    group[c] = w.values[offset + c];
                    maxAbs = Math.max(maxAbs, Math.abs(group[c]));
                }
                double[] reference = new double[samples];
                for (int s = 0; s < samples; s++) {
                    reference[s] = dot(group, x, s * step * cols + start, g);
                }
                float best = maxAbs;
                double bestError = Double.POSITIVE_INFINITY;
                for (int i = 0; i < steps; i++) {
                    float bound = (float) (maxAbs * (1 - (double) i / CLIP_GRID));
                    for (int c = 0; c < g; c++) {
                        quantized[c] = Math.max(-bound, Math.min(bound, group[c]));
                    }
                    quantizer.pseudoQuantizeGroup(quantized, 0, g);
                    double error = 0;
                    for (int s = 0; s < samples; s++) {
                        double d = dot(quantized, x, s * step * cols + start, g) - reference[s];
                        error += d * d;
                    }
                    if (error < bestError) {
                        bestError = error;
                        best = bound;
                    }
                }
                for (int c = 0; c < g; c++) {
                    w.values[offset + c] = Math.max(-best, Math.min(best, group[c]));
                }
            }
        }
    }

    private static double dot(float[] w, float[] x, int xOffset, int length) {
        double sum = 0;
        for (int c = 0; c < length; c++) {
            sum += (double) w[c] * x[xOffset + c];
        }
        return sum;
    }
}
