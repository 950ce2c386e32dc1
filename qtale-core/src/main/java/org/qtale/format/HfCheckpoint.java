package org.qtale.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.qtale.QtaleException;
import org.qtale.adaptive.RouterSet;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.quant.QuantizationConfig;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.quant.QuantizedTensors;
import org.qtale.tensor.LinearWeights;

/**
 * A Hugging Face model directory: {@code config.json} plus {@code model.safetensors} (or shards and their index).
 * Weight matrices stay memory-mapped in their stored dtype; norm vectors are widened to float. Hugging Face stores
 * the rows of the q and k projections in the rotate-half layout, which {@link LlamaWeights#qkHalfSplit()} tells the
 * forward pass.
 */
public final class HfCheckpoint {
    /** Tensor names of the Hugging Face LLaMA layout. */
    static final String EMBEDDING = "model.embed_tokens.weight";
    static final String FINAL_NORM = "model.norm.weight";
    static final String OUTPUT = "lm_head.weight";

    /** The per-layer tensor suffixes, in the order the writer stores them. */
    static final List<String> LAYER_TENSORS = List.of("input_layernorm", "self_attn.q_proj", "self_attn.k_proj",
            "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj",
            "mlp.down_proj");

    private HfCheckpoint() {
    }

    /** The name of a layer's tensor, e.g. {@code model.layers.3.mlp.up_proj.weight}. */
    static String layerTensor(int layer, String suffix) {
        return layerPrefix(layer, suffix) + ".weight";
    }

    /** The name of a layer's module, e.g. {@code model.layers.3.mlp.up_proj}, which prefixes its tensors. */
    public static String layerPrefix(int layer, String suffix) {
        return "model.layers." + layer + "." + suffix;
    }

    /** Reads the configuration of a model directory. */
    public static HfConfig readConfig(Path dir) {
        requireDirectory(dir);
        Path file = dir.resolve(HfConfig.FILE);
        if (!Files.isRegularFile(file)) {
            throw new QtaleException(dir + " has no " + HfConfig.FILE + ", so it is not a Hugging Face model directory.");
        }
        return HfConfig.read(file);
    }

    /**
     * Rewrites the {@code config.json} of a model directory with {@code edit} applied to its top-level object, keeping
     * every other entry and its order, in the format the writer uses; readers see the old file or the new one, never
     * a mix.
     */
    public static void updateConfig(Path dir, Consumer<ObjectNode> edit) {
        readConfig(dir); // a directory with a config.json qtale can read
        Path file = dir.resolve(HfConfig.FILE);
        ObjectNode root = (ObjectNode) Json.readObject(file);
        edit.accept(root);
        try {
            AtomicFiles.write(file, Json.MAPPER.writeValueAsBytes(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("JSON serialization failed", e);
        }
    }

    public static LlamaModel load(Path dir) {
        HfConfig config = readConfig(dir);
        Arena arena = Arena.ofShared();
        try {
            QuantizationConfig quantization = QuantizationConfig.of(config, dir.resolve(HfConfig.FILE).toString())
                    .orElse(null);
            Safetensors tensors = Safetensors.openDirectory(dir, arena);
            RouterSet routers = RouterSet.load(dir).orElse(null);
            return new LlamaModel(config.llama(), weights(tensors, config.llama(), quantization), arena, routers);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void requireDirectory(Path dir) {
        if (!Files.exists(dir)) {
            throw new QtaleException("Model directory not found: " + dir + ".");
        }
        if (!Files.isDirectory(dir)) {
            throw new QtaleException(dir + " is a file, not a Hugging Face model directory.");
        }
    }

    /** Picks the model's tensors out of {@code tensors}, checking each shape against {@code c}. */
    public static LlamaWeights weights(Safetensors tensors, LlamaConfig c) {
        return weights(tensors, c, null);
    }

    /**
     * {@link #weights(Safetensors, LlamaConfig)} for a checkpoint whose linear layers may be stored quantized as
     * {@code quantization} (null for none) describes.
     */
    public static LlamaWeights weights(Safetensors tensors, LlamaConfig c, QuantizationConfig quantization) {
        Shapes s = new Shapes(tensors, quantization);
        LinearWeights embedding = s.matrix(EMBEDDING, c.vocabSize(), c.dim());
        List<LayerWeights> layers = new ArrayList<>(c.nLayers());
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(layer(s, l, c));
        }
        float[] finalNorm = s.vector(FINAL_NORM, c.dim());
        LinearWeights output = c.tiedEmbeddings() ? embedding : s.matrix(OUTPUT, c.vocabSize(), c.dim());
        return new LlamaWeights(embedding, layers, finalNorm, output, true);
    }

    private static LayerWeights layer(Shapes s, int l, LlamaConfig c) {
        int dim = c.dim();
        return new LayerWeights(
                s.vector(layerTensor(l, "input_layernorm"), dim),
                s.linear(l, "self_attn.q_proj", c.qDim(), dim),
                s.linear(l, "self_attn.k_proj", c.kvDim(), dim),
                s.linear(l, "self_attn.v_proj", c.kvDim(), dim),
                s.linear(l, "self_attn.o_proj", dim, c.qDim()),
                s.vector(layerTensor(l, "post_attention_layernorm"), dim),
                s.linear(l, "mlp.gate_proj", c.hiddenDim(), dim),
                s.linear(l, "mlp.up_proj", c.hiddenDim(), dim),
                s.linear(l, "mlp.down_proj", dim, c.hiddenDim()));
    }

    /**
     * Looks tensors up and checks that their shapes are the ones the configuration implies.
     *
     * @param quantization how quantized linear layers are stored, or null when the checkpoint has none
     */
    private record Shapes(Safetensors tensors, QuantizationConfig quantization) {
        MappedTensor get(String name, int... expected) {
            MappedTensor t = tensors.find(name).orElseThrow(() -> new QtaleException(
                    "The checkpoint is missing tensor " + name + " (expected shape " + Arrays.toString(expected) + ")."));
            if (!Arrays.equals(t.shape(), expected)) {
                throw new QtaleException("Tensor " + name + " has shape " + t.shapeText() + " but " + HfConfig.FILE
                        + " implies " + Arrays.toString(expected) + ".");
            }
            return t;
        }

        LinearWeights matrix(String name, int rows, int cols) {
            return get(name, rows, cols).asLinearWeights();
        }

        /** A decoder layer's linear map, read from its quantized tensors when the checkpoint stores it so. */
        LinearWeights linear(int layer, String suffix, int rows, int cols) {
            String prefix = layerPrefix(layer, suffix);
            if (QuantizedTensors.isQuantized(tensors, prefix)) {
                if (quantization == null) {
                    throw new QtaleException("The checkpoint stores " + prefix + " quantized, but " + HfConfig.FILE
                            + " has no " + QuantizationConfig.BLOCK + " saying how.");
                }
                QuantizedMatrix m = QuantizedTensors.read(tensors, prefix, quantization, rows, cols);
                return org.qtale.quant.GroupQuantizedWeights.of(m);
            }
            return matrix(layerTensor(layer, suffix), rows, cols);
        }

        float[] vector(String name, int length) {
            return get(name, length).toFloatArray();
        }
    }
}
