package org.qtale.quant;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.qtale.adaptive.RouterSet;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.RotaryLayout;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.DType;
import org.qtale.train.OutputDirectory;

/** Quantized layers as the engine runs them and as a Hugging Face directory stores them. */
public final class QuantizedCheckpoint {
    private QuantizedCheckpoint() {
    }

    /** The model's weights with its decoder projections in the packed group-quantized format. */
    public static LlamaWeights weights(LlamaWeights original, List<QuantizedLayer> layers) {
        List<LayerWeights> out = new ArrayList<>();
        for (QuantizedLayer layer : layers) {
            out.add(layer.weights());
        }
        return new LlamaWeights(original.tokenEmbedding(), out, original.finalNorm(), original.output(),
                original.qkHalfSplit());
    }

    /**
     * The quantization block for {@code config.json}: AWQ's GEMM layout for AWQ at 4 bits, else GPTQ's (format v1,
     * whose zero − 1 convention cannot hold a zero point of 0; then GPTQModel's v2, which stores zeros as they are).
     */
    static QuantizationConfig config(QuantizeJob.Request request, Map<String, QuantizedMatrix> linears,
            Consumer<String> log) {
        if (request.method() == QuantizeJob.Method.AWQ && request.bits() == 4) {
            return QuantizationConfig.Awq.of(request.groupSize());
        }
        QuantizationConfig.Gptq v1 = QuantizationConfig.Gptq.of(request.bits(), request.groupSize(), false, false);
        for (Map.Entry<String, QuantizedMatrix> e : linears.entrySet()) {
            for (byte zero : e.getValue().zeros()) {
                if (zero == 0) {
                    log.accept(e.getKey() + " has a zero point of 0, which AutoGPTQ's format (zero − 1) cannot store; "
                            + "writing GPTQModel's gptq_v2 format, which AutoGPTQ does not read");
                    return new QuantizationConfig.Gptq(v1.bits(), v1.groupSize(), false, false, false, v1.dampPercent(),
                            true, GptqLayout.V2, null, "model");
                }
            }
        }
        return v1;
    }

    /**
     * Writes the quantized model: packed projections, the rest (embedding, norms with any AWQ scales folded in, the
     * output head, routers) in the source's float format, {@code quantization_config}, and the tokenizer; atomically.
     */
    static void write(QuantizeJob.Request request, LlamaModel model, List<QuantizedLayer> layers, Path out,
            Consumer<String> log) {
        LlamaConfig config = model.config();
        LlamaWeights original = model.weights();
        Map<String, QuantizedMatrix> linears = new LinkedHashMap<>();
        int[] qRows = original.qkHalfSplit() ? null : RotaryLayout.halfSplitSourceRows(config.nHeads(), config.headDim());
        int[] kRows = original.qkHalfSplit() ? null : RotaryLayout.halfSplitSourceRows(config.nKvHeads(), config.headDim());
        List<LayerWeights> normsOnly = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            QuantizedLayer layer = layers.get(l);
            for (int i = 0; i < QuantizedLayer.NAMES.size(); i++) {
                QuantizedMatrix m = layer.projections().get(i);
                int[] rows = i == 0 ? qRows : i == 1 ? kRows : null;
                linears.put("model.layers." + l + "." + QuantizedLayer.NAMES.get(i), rows == null ? m : permuteRows(m, rows));
            }
            LayerWeights w = original.layers().get(l);
            normsOnly.add(new LayerWeights(layer.attentionNorm(), w.wq(), w.wk(), w.wv(), w.wo(), layer.ffnNorm(), w.gate(),
                    w.up(), w.down()));
        }
        LlamaWeights withNorms = new LlamaWeights(original.tokenEmbedding(), normsOnly, original.finalNorm(),
                original.output(), original.qkHalfSplit());
        DType dtype = original.tokenEmbedding().dtype();
        HfCheckpointWriter.Options options = HfCheckpointWriter.Options.of(dtype.isFloat() ? dtype : DType.F32);
        if (model.routers() != null) {
            options = options.withExtraTensors(model.routers().tensors()).withExtraConfig(model.routers().configBlock());
        }
        HfCheckpointWriter.Options quantized = QuantizedTensors.addTo(options, linears, config(request, linears, log));
        OutputDirectory.write(out, request.overwrite(), dir -> {
            HfCheckpointWriter.write(config, withNorms, dir, quantized);
            OutputDirectory.copyTokenizer(request.model(), TokenizerFiles.open(request.model(), null, config.vocabSize()), dir);
        }, dir -> { }, line -> { });
    }

    /** Row {@code r} of the result is row {@code source[r]} of {@code m}. */
    static QuantizedMatrix permuteRows(QuantizedMatrix m, int[] source) {
        int cols = m.cols();
        int groups = m.groups();
        byte[] codes = new byte[m.codes().length];
        float[] scales = new float[m.scales().length];
        byte[] zeros = new byte[m.zeros().length];
        for (int r = 0; r < m.rows(); r++) {
            System.arraycopy(m.codes(), source[r] * cols, codes, r * cols, cols);
            System.arraycopy(m.scales(), source[r] * groups, scales, r * groups, groups);
            System.arraycopy(m.zeros(), source[r] * groups, zeros, r * groups, groups);
        }
        return new QuantizedMatrix(m.rows(), cols, m.bits(), m.groupSize(), codes, scales, zeros, m.groupIndex());
    }
}
