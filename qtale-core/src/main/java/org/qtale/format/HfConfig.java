package org.qtale.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.qtale.QtaleException;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaConfig.RopeScaling;
import org.qtale.tensor.DType;

/**
 * The {@code config.json} of a Hugging Face model directory, as far as qtale runs it: {@code LlamaForCausalLM} and
 * {@code MistralForCausalLM} (the same tensors). Defaults follow transformers' {@code LlamaConfig}. The whole JSON
 * tree stays available through {@link #raw()} and {@link #block(String)}, so that extra blocks (such as qtale's own)
 * can be read by the code that owns them.
 *
 * @param llama      the model's hyper-parameters
 * @param torchDtype the declared {@code torch_dtype} (or {@code dtype}), or null when absent
 * @param raw        the parsed file
 */
public record HfConfig(LlamaConfig llama, String torchDtype, JsonNode raw) {
    public static final String FILE = "config.json";
    public static final String LLAMA = "LlamaForCausalLM";
    public static final String MISTRAL = "MistralForCausalLM";

    public HfConfig {
        raw = raw.deepCopy();
    }

    /** A copy of the whole parsed file. */
    @Override
    public JsonNode raw() {
        return raw.deepCopy();
    }

    /** A copy of a top-level entry, e.g. {@code block("qtale")}, if present and not null. */
    public Optional<JsonNode> block(String name) {
        JsonNode node = raw.get(name);
        return node == null || node.isNull() ? Optional.empty() : Optional.of(node.deepCopy());
    }

    public static HfConfig read(Path file) {
        return parse(Json.readObject(file), file.toString());
    }

    /** Interprets a parsed {@code config.json}; {@code source} names it in error messages. */
    public static HfConfig parse(JsonNode root, String source) {
        Fields f = new Fields(root, source);
        String architecture = architecture(root, source);
        rejectUnsupportedFeatures(f);
        int dim = f.requiredInt("hidden_size");
        int heads = f.requiredInt("num_attention_heads");
        int headDim = f.optionalInt("head_dim", heads > 0 && dim % heads == 0 ? dim / heads : -1);
        if (headDim == -1) {
            throw new QtaleException(source + " has no 'head_dim' and hidden_size " + dim
                    + " is not divisible by num_attention_heads " + heads + ".");
        }
        LlamaConfig config = new LlamaConfig(architecture, dim, f.requiredInt("intermediate_size"),
                f.requiredInt("num_hidden_layers"), heads, f.optionalInt("num_key_value_heads", heads),
                f.requiredInt("vocab_size"), contextLength(f, architecture), headDim,
                (float) f.optionalDouble("rms_norm_eps", 1e-6), ropeTheta(f), ropeScaling(root, source),
                f.optionalBoolean("tie_word_embeddings", false));
        String dtype = f.optionalText("torch_dtype", f.optionalText("dtype", null));
        return new HfConfig(config, dtype, root);
    }

    private static String architecture(JsonNode root, String source) {
        List<String> declared = new ArrayList<>();
        root.path("architectures").forEach(a -> declared.add(a.asText()));
        if (declared.isEmpty()) {
            String modelType = root.path("model_type").asText("");
            if (modelType.equals("llama")) {
                return LLAMA;
            }
            if (modelType.equals("mistral")) {
                return MISTRAL;
            }
            throw new QtaleException(source + " names no architecture qtale runs (no 'architectures' and model_type '"
                    + modelType + "'); qtale runs " + LLAMA + " and " + MISTRAL + ".");
        }
        for (String name : declared) {
            if (name.equals(LLAMA) || name.equals(MISTRAL)) {
                return name;
            }
        }
        throw new QtaleException("Unsupported architecture " + String.join(", ", declared) + " in " + source
                + ": qtale runs " + LLAMA + " and " + MISTRAL + ".");
    }

    /** Options of the LLaMA family that change the computation and that the engine does not implement. */
    private static void rejectUnsupportedFeatures(Fields f) {
        for (String bias : List.of("attention_bias", "mlp_bias")) {
            if (f.optionalBoolean(bias, false)) {
                throw new QtaleException(f.source + " sets " + bias + ", but qtale implements LLaMA layers without biases.");
            }
        }
        String activation = f.optionalText("hidden_act", "silu");
        if (!activation.equals("silu")) {
            throw new QtaleException(f.source + " uses the activation '" + activation + "', but qtale implements silu only.");
        }
    }

    /**
     * Mistral's sliding window limits how far back a position attends. Capping the context at the window keeps every
     * sequence inside it, so the engine's full causal attention computes exactly what the window would.
     */
    private static int contextLength(Fields f, String architecture) {
        int maxPositions = f.optionalInt("max_position_embeddings", 2048);
        int window = architecture.equals(MISTRAL) ? f.optionalInt("sliding_window", maxPositions) : maxPositions;
        return Math.min(maxPositions, window);
    }

    /** {@code rope_theta} at the top level, or inside transformers v5's {@code rope_parameters}. */
    private static double ropeTheta(Fields f) {
        double nested = new Fields(f.root.path("rope_parameters"), f.source).optionalDouble("rope_theta", 10000.0);
        return f.optionalDouble("rope_theta", nested);
    }

    private static RopeScaling ropeScaling(JsonNode root, String source) {
        JsonNode node = root.path("rope_scaling");
        if (node.isMissingNode() || node.isNull()) {
            node = root.path("rope_parameters");
        }
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        Fields s = new Fields(node, source + " (rope_scaling)");
        String type = s.optionalText("rope_type", s.optionalText("type", "default"));
        return switch (type) {
            case "default" -> null;
            case "llama3" -> new RopeScaling(s.requiredDouble("factor"), s.requiredDouble("low_freq_factor"),
                    s.requiredDouble("high_freq_factor"), s.requiredInt("original_max_position_embeddings"));
            default -> throw new QtaleException("Unsupported rope_scaling type '" + type + "' in " + source
                    + ": qtale implements 'llama3' scaling only.");
        };
    }

    /** The {@code config.json} of a model with this configuration stored in {@code dtype}. */
    public static ObjectNode toJson(LlamaConfig c, DType dtype) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.putArray("architectures").add(c.architecture());
        o.put("model_type", c.architecture().equals(MISTRAL) ? "mistral" : "llama");
        o.put("hidden_size", c.dim());
        o.put("intermediate_size", c.hiddenDim());
        o.put("num_hidden_layers", c.nLayers());
        o.put("num_attention_heads", c.nHeads());
        o.put("num_key_value_heads", c.nKvHeads());
        o.put("head_dim", c.headDim());
        o.put("vocab_size", c.vocabSize());
        o.put("max_position_embeddings", c.contextLength());
        // Through the float's shortest decimal, so that 1e-5f is written as 1.0E-5 and reads back as the same float.
        o.put("rms_norm_eps", Double.parseDouble(Float.toString(c.normEps())));
        o.put("rope_theta", c.ropeTheta());
        if (c.ropeScaling() == null) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode s = o.putObject("rope_scaling");
            s.put("rope_type", "llama3");
            s.put("factor", c.ropeScaling().factor());
            s.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
            s.put("high_freq_factor", c.ropeScaling().highFreqFactor());
            s.put("original_max_position_embeddings", c.ropeScaling().originalContextLength());
        }
        o.put("hidden_act", "silu");
        o.put("attention_bias", false);
        o.put("mlp_bias", false);
        o.put("tie_word_embeddings", c.tiedEmbeddings());
        o.put("torch_dtype", torchName(dtype));
        return o;
    }

    /** The PyTorch name of a dtype, as {@code torch_dtype} spells it. */
    public static String torchName(DType dtype) {
        return switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case I32 -> "int32";
            case Q2, Q3, Q4, Q8 -> throw new IllegalArgumentException(dtype + " is not a torch dtype.");
        };
    }

    /** Typed access to the fields of one JSON object, treating {@code null} as absent. */
    private record Fields(JsonNode root, String source) {
        private JsonNode get(String key) {
            JsonNode node = root.get(key);
            return node == null || node.isNull() ? null : node;
        }

        int requiredInt(String key) {
            JsonNode node = get(key);
            if (node == null) {
                throw new QtaleException(source + " has no '" + key + "'.");
            }
            return toInt(key, node);
        }

        int optionalInt(String key, int fallback) {
            JsonNode node = get(key);
            return node == null ? fallback : toInt(key, node);
        }

        private int toInt(String key, JsonNode node) {
            if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                throw new QtaleException("'" + key + "' in " + source + " must be an integer, got " + node + ".");
            }
            return node.intValue();
        }

        double requiredDouble(String key) {
            if (get(key) == null) {
                throw new QtaleException(source + " has no '" + key + "'.");
            }
            return optionalDouble(key, 0);
        }

        double optionalDouble(String key, double fallback) {
            JsonNode node = get(key);
            if (node == null) {
                return fallback;
            }
            if (!node.isNumber()) {
                throw new QtaleException("'" + key + "' in " + source + " must be a number, got " + node + ".");
            }
            return node.doubleValue();
        }

        boolean optionalBoolean(String key, boolean fallback) {
            JsonNode node = get(key);
            if (node == null) {
                return fallback;
            }
            if (!node.isBoolean()) {
                throw new QtaleException("'" + key + "' in " + source + " must be true or false, got " + node + ".");
            }
            return node.booleanValue();
        }

        String optionalText(String key, String fallback) {
            JsonNode node = get(key);
            if (node == null) {
                return fallback;
            }
            if (!node.isTextual()) {
                throw new QtaleException("'" + key + "' in " + source + " must be a string, got " + node + ".");
            }
            return node.asText();
        }
    }
}
