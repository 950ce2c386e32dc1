package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.qtale.quant.QuantizedMatrices.assertSameMatrix;
import static org.qtale.quant.QuantizedTensorsTest.withHalfScales;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.qtale.QtaleException;
import org.qtale.format.HfCheckpoint;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.HfConfig;
import org.qtale.format.Safetensors;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.quant.QuantizationConfig.Awq;
import org.qtale.quant.QuantizationConfig.Gptq;
import org.qtale.tensor.DType;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearWeights;

/**
 * A model directory with quantized q/k/v/o/gate/up/down projections (quantized here by plain round-to-nearest) is
 * written in the GPTQ or AWQ layout and read back to the same matrices; the embedding, the norms and lm_head stay
 * in float, as AutoGPTQ and AutoAWQ keep them.
 */
class QuantizedCheckpointTest {
    private static final List<String> LINEARS = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void gptqModelsRoundTrip(int bits) {
        // every width a multiple of 32, as 3-bit packing needs
        LlamaConfig c = LlamaConfig.llama2c(32, 64, 2, 4, 4, 64, 32, false);
        Gptq config = Gptq.of(bits, 16, true, true);
        roundTrip(c, config, bits, 16, true, true);
    }

    @Test
    void awqModelsRoundTrip() {
        // grouped-query attention: k and v have 16 outputs
        LlamaConfig c = LlamaConfig.llama2c(32, 64, 2, 4, 2, 64, 32, true);
        roundTrip(c, Awq.of(16), 4, 16, false, false);
    }

    @Test
    void gptqPerChannelModelsRoundTrip() {
        LlamaConfig c = LlamaConfig.llama2c(32, 64, 2, 4, 2, 64, 32, false);
        roundTrip(c, Gptq.of(4, -1, false, true), 4, -1, true, false);
    }

    private void roundTrip(LlamaConfig c, QuantizationConfig config, int bits, int groupSize, boolean sym,
            boolean actOrder) {
        Path out = dir.resolve("model");
        Map<String, QuantizedMatrix> linears;
        ObjectNode qtaleBlock = JsonNodeFactory.instance.objectNode();
        qtaleBlock.putObject("qtale").put("theta", 0.5);
        try (LlamaModel model = model(c, 1)) {
            linears = quantize(model, bits, groupSize, sym, actOrder, 2);
            HfCheckpointWriter.Options options = HfCheckpointWriter.Options.of(DType.F16).withExtraConfig(qtaleBlock);
            HfCheckpointWriter.write(model, out, QuantizedTensors.addTo(options, linears, config));
        }
        HfConfig written = HfCheckpoint.readConfig(out);
        assertEquals(config, QuantizationConfig.of(written, "written").orElseThrow());
        assertEquals(0.5, written.block("qtale").orElseThrow().path("theta").doubleValue(), "other blocks are kept");
        assertEquals(c, written.llama());
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.openDirectory(out, arena);
            for (Map.Entry<String, QuantizedMatrix> e : linears.entrySet()) {
                assertFalse(st.contains(e.getKey() + ".weight"), "no float weight for " + e.getKey());
                assertSameMatrix(withHalfScales(e.getValue()), QuantizedTensors.read(st, e.getKey(), config));
            }
            for (String name : List.of("model.embed_tokens.weight", "model.norm.weight",
                    "model.layers.1.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight")) {
                assertEquals(DType.F16, st.tensor(name).dtype(), name);
            }
            assertEquals(!c.tiedEmbeddings(), st.contains("lm_head.weight"));
        }
        // the engine runs the packed weights: every weight is the written matrix's, dequantized
        try (LlamaModel loaded = HfCheckpoint.load(out)) {
            for (int l = 0; l < c.nLayers(); l++) {
                var layer = loaded.weights().layers().get(l);
                org.qtale.tensor.LinearWeights[] runtime = {layer.wq(), layer.wk(), layer.wv(), layer.wo(), layer.gate(),
                    layer.up(), layer.down()};
                String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
                for (int i = 0; i < names.length; i++) {
                    QuantizedMatrix expected = withHalfScales(linears.get("model.layers." + l + "." + names[i]));
                    assertEquals(DType.quantized(bits), runtime[i].dtype(), names[i]);
                    for (int r = 0; r < expected.rows(); r++) {
                        for (int col = 0; col < expected.cols(); col++) {
                            assertEquals(expected.dequantize(r, col), runtime[i].get(r, col), 0f, names[i] + " " + r + "," + col);
                        }
                    }
                }
            }
        }
    }

    @Test
    void loadingNamesAMissingOrForeignQuantizationConfig() {
        LlamaConfig c = LlamaConfig.llama2c(32, 64, 1, 4, 4, 64, 32, true);
        Path out = dir.resolve("model");
        try (LlamaModel model = model(c, 1)) {
            Map<String, QuantizedMatrix> linears = quantize(model, 4, 16, true, false, 2);
            HfCheckpointWriter.write(model, out,
                    QuantizedTensors.addTo(HfCheckpointWriter.Options.of(DType.F16), linears, Gptq.of(4, 16, false, true)));
        }
        HfCheckpoint.updateConfig(out, root -> ((ObjectNode) root.get(QuantizationConfig.BLOCK)).put("quant_method", "fp8"));
        QtaleException e = assertThrows(QtaleException.class, () -> HfCheckpoint.load(out));
        assertEquals(out.resolve("config.json") + " is quantized with 'fp8', which qtale cannot read; it reads GPTQ and"
                + " AWQ checkpoints.", e.getMessage());
        HfCheckpoint.updateConfig(out, root -> root.remove(QuantizationConfig.BLOCK));
        e = assertThrows(QtaleException.class, () -> HfCheckpoint.load(out));
        assertEquals("The checkpoint stores model.layers.0.self_attn.q_proj quantized, but config.json has no"
                + " quantization_config saying how.", e.getMessage());
    }

    /** A small random model in the Hugging Face (rotate-half) layout, so that its q and k rows are written as they are. */
    private static LlamaModel model(LlamaConfig c, long seed) {
        Random random = new Random(seed);
        LinearWeights embedding = matrix(random, c.vocabSize(), c.dim());
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(new LayerWeights(ones(c.dim()), matrix(random, c.qDim(), c.dim()),
                    matrix(random, c.kvDim(), c.dim()), matrix(random, c.kvDim(), c.dim()),
                    matrix(random, c.dim(), c.qDim()), ones(c.dim()), matrix(random, c.hiddenDim(), c.dim()),
                    matrix(random, c.hiddenDim(), c.dim()), matrix(random, c.dim(), c.hiddenDim())));
        }
        LinearWeights output = c.tiedEmbeddings() ? embedding : matrix(random, c.vocabSize(), c.dim());
        return new LlamaModel(c, new LlamaWeights(embedding, layers, ones(c.dim()), output, true), null);
    }

    private static LinearWeights matrix(Random random, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 0.1);
        }
        return F32Weights.of(v, rows, cols);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    /** Every decoder linear of {@code model}, by layer prefix, quantized by {@link #rtn}. */
    private static Map<String, QuantizedMatrix> quantize(LlamaModel model, int bits, int groupSize, boolean sym,
            boolean actOrder, long seed) {
        Random random = new Random(seed);
        Map<String, QuantizedMatrix> out = new LinkedHashMap<>();
        for (int l = 0; l < model.config().nLayers(); l++) {
            LayerWeights layer = model.weights().layers().get(l);
            List<LinearWeights> weights = List.of(layer.wq(), layer.wk(), layer.wv(), layer.wo(), layer.gate(),
                    layer.up(), layer.down());
            for (int i = 0; i < LINEARS.size(); i++) {
                LinearWeights w = weights.get(i);
                int g = groupSize == -1 ? w.cols() : groupSize;
                int[] groupIndex = actOrder ? actOrderGroups(w.cols(), g, random) : null;
                out.put(HfCheckpoint.layerPrefix(l, LINEARS.get(i)), rtn(w, bits, g, sym, groupIndex));
            }
        }
        return out;
    }

    /** Groups of consecutive positions in a random column order, as GPTQ's act-order forms them. */
    private static int[] actOrderGroups(int cols, int groupSize, Random random) {
        List<Integer> order = new ArrayList<>();
        for (int c = 0; c < cols; c++) {
            order.add(c);
        }
        Collections.shuffle(order, random);
        int[] groups = new int[cols];
        for (int position = 0; position < cols; position++) {
            groups[order.get(position)] = position / groupSize;
        }
        return groups;
    }

    /**
     * Round to nearest, per row and group: symmetric with the zero point fixed at {@code 2^(bits−1)} (AutoGPTQ's
     * default), or asymmetric over the group's own range (AWQ's quantizer).
     */
    private static QuantizedMatrix rtn(LinearWeights w, int bits, int groupSize, boolean sym, int[] groupIndex) {
        int rows = w.rows();
        int cols = w.cols();
        int groups = cols / groupSize;
        int maxq = (1 << bits) - 1;
        byte[] codes = new byte[rows * cols];
        byte[] zeros = new byte[rows * groups];
        float[] scales = new float[rows * groups];
        for (int r = 0; r < rows; r++) {
            float[] min = new float[groups];
            float[] max = new float[groups];
            Arrays.fill(min, Float.POSITIVE_INFINITY);
            Arrays.fill(max, Float.NEGATIVE_INFINITY);
            for (int c = 0; c < cols; c++) {
                int g = groupIndex == null ? c / groupSize : groupIndex[c];
                min[g] = Math.min(min[g], w.get(r, c));
                max[g] = Math.max(max[g], w.get(r, c));
            }
            for (int g = 0; g < groups; g++) {
                float absMax = Math.max(Math.abs(min[g]), Math.abs(max[g]));
                float scale = sym ? 2 * absMax / maxq : Math.max(max[g] - min[g], 1e-5f) / maxq;
                int zero = sym ? (maxq + 1) / 2 : (int) Math.min(maxq, Math.max(0, -Math.rint(min[g] / scale)));
                scales[r * groups + g] = scale;
                zeros[r * groups + g] = (byte) zero;
            }
            for (int c = 0; c < cols; c++) {
                int g = groupIndex == null ? c / groupSize : groupIndex[c];
                double q = Math.rint(w.get(r, c) / scales[r * groups + g]) + (zeros[r * groups + g] & 0xFF);
                codes[r * cols + c] = (byte) Math.min(maxq, Math.max(0, q));
            }
        }
        return new QuantizedMatrix(rows, cols, bits, groupSize, codes, scales, zeros, groupIndex);
    }

    @Test
    void rtnIsCloseToTheWeights() {
        try (LlamaModel model = model(LlamaConfig.llama2c(32, 64, 1, 4, 4, 64, 32, false), 3)) {
            LinearWeights w = model.weights().layers().get(0).up();
            QuantizedMatrix m = rtn(w, 8, 16, false, null);
            for (int r = 0; r < w.rows(); r++) {
                for (int c = 0; c < w.cols(); c++) {
                    assertTrue(Math.abs(m.dequantize(r, c) - w.get(r, c)) <= 0.51 * m.scale(r, c / 16),
                            "8-bit RTN at " + r + "," + c);
                }
            }
        }
    }
}
