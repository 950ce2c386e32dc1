package org.qtale.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.qtale.QtaleException;
import org.qtale.format.HfConfig;

/**
 * The {@code quantization_config} block of a checkpoint's {@code config.json}, as AutoGPTQ ({@link Gptq}) and AutoAWQ
 * ({@link Awq}) write it and transformers reads it. It names the method, the code width and the group size, which
 * together with the method's {@link #layout()} say how to read the packed tensors of each quantized linear layer.
 * The other fields record how the weights were produced; qtale keeps and writes them but does not need them to run.
 */
public sealed interface QuantizationConfig permits QuantizationConfig.Gptq, QuantizationConfig.Awq {
    /** The name of the block in {@code config.json}. */
    String BLOCK = "quantization_config";

    /** Bits per code. */
    int bits();

    /** Input channels per group, or −1 for one group per output channel. */
    int groupSize();

    /** How the quantized tensors are packed. */
    CheckpointLayout layout();

    /** The block as the Python tools write it, fields in their order. */
    ObjectNode toJson();

    /** The block of a parsed {@code config.json}, if it has one; {@code source} names the file in error messages. */
    static Optional<QuantizationConfig> of(HfConfig config, String source) {
        return config.block(BLOCK).map(block -> parse(block, source));
    }

    /** Interprets a {@code quantization_config} block. */
    static QuantizationConfig parse(JsonNode block, String source) {
        if (!block.isObject()) {
            throw new QtaleException("'" + BLOCK + "' in " + source + " must be a JSON object, got " + block + ".");
        }
        JsonFields f = new JsonFields(block, source + " (" + BLOCK + ")");
        String method = f.text("quant_method", null);
        if (method == null) {
            throw new QtaleException(f.source() + " has no 'quant_method', so qtale cannot tell how the weights are packed.");
        }
        return switch (method.toLowerCase(Locale.ROOT)) {
            case "gptq" -> Gptq.parse(f);
            case "awq" -> Awq.parse(f);
            default -> throw new QtaleException(source + " is quantized with '" + method
                    + "', which qtale cannot read; it reads GPTQ and AWQ checkpoints.");
        };
    }

    /**
     * AutoGPTQ's {@code BaseQuantizeConfig}, with its defaults for absent fields.
     *
     * @param descAct           act-order: columns quantized by decreasing Hessian diagonal ({@code g_idx} then permutes groups)
     * @param sym               symmetric codes, zero point fixed at {@code 2^(bits−1)}
     * @param staticGroups      group parameters computed before act-order permutes the columns
     * @param dampPercent       the Hessian damping as a fraction of its mean diagonal
     * @param trueSequential    q/k/v, o, up/gate and down quantized one after another within a layer
     * @param format            {@code checkpoint_format}: the zero-point convention
     * @param modelNameOrPath   where the model came from, or null
     * @param modelFileBaseName the weights file name without extension, or null
     */
    record Gptq(int bits, int groupSize, boolean descAct, boolean sym, boolean staticGroups, double dampPercent,
            boolean trueSequential, GptqLayout format, String modelNameOrPath, String modelFileBaseName)
            implements QuantizationConfig {
        public Gptq {
            if (!GptqLayout.supportsBits(bits)) {
                throw new QtaleException("GPTQ checkpoints hold 2, 3, 4 or 8-bit weights, not " + bits + "-bit.");
            }
            checkGroupSize(groupSize);
            if (!(dampPercent >= 0 && dampPercent <= 1)) {
                throw new QtaleException("The GPTQ damp_percent must be between 0 and 1, got " + dampPercent + ".");
            }
        }

        /** A GPTQ configuration with AutoGPTQ's defaults for the rest, written as {@code model.safetensors}. */
        public static Gptq of(int bits, int groupSize, boolean descAct, boolean sym) {
            return new Gptq(bits, groupSize, descAct, sym, false, 0.01, true, GptqLayout.V1, null, "model");
        }

        @Override
        public CheckpointLayout layout() {
            return format;
        }

        @Override
        public ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("bits", bits);
            o.put("group_size", groupSize);
            o.put("damp_percent", dampPercent);
            o.put("desc_act", descAct);
            o.put("static_groups", staticGroups);
            o.put("sym", sym);
            o.put("true_sequential", trueSequential);
            o.put("model_name_or_path", modelNameOrPath);
            o.put("model_file_base_name", modelFileBaseName);
            o.put("quant_method", "gptq");
            o.put("checkpoint_format", format.checkpointFormat());
            return o;
        }

        private static Gptq parse(JsonFields f) {
            return new Gptq(f.requiredInt("bits"), f.integer("group_size", -1), f.bool("desc_act", true),
                    f.bool("sym", true), f.bool("static_groups", false), f.number("damp_percent", 0.01),
                    f.bool("true_sequential", true), GptqLayout.ofCheckpointFormat(f.text("checkpoint_format", "gptq")),
                    f.text("model_name_or_path", null), f.text("model_file_base_name", null));
        }
    }

    /**
     * AutoAWQ's configuration as it exports it to transformers. Only the GEMM layout with zero points exists for
     * checkpoints, so {@code bits} is 4 and {@code zeroPoint} true.
     *
     * @param version               the packing, {@code "gemm"}
     * @param modulesToNotConvert   names of modules left unquantized (empty for none)
     */
    record Awq(int bits, int groupSize, boolean zeroPoint, AwqLayout version, List<String> modulesToNotConvert)
            implements QuantizationConfig {
        public Awq {
            if (bits != 4) {
                throw new QtaleException("AWQ checkpoints hold 4-bit weights only (the GEMM layout), not " + bits + "-bit.");
            }
            checkGroupSize(groupSize);
            if (!zeroPoint) {
                throw new QtaleException("AWQ checkpoints without zero points (zero_point false) are not supported: the"
                        + " GEMM layout stores zero points.");
            }
            modulesToNotConvert = List.copyOf(modulesToNotConvert);
        }

        /** A 4-bit AWQ GEMM configuration with zero points, every linear layer quantized. */
        public static Awq of(int groupSize) {
            return new Awq(4, groupSize, true, AwqLayout.GEMM, List.of());
        }

        @Override
        public CheckpointLayout layout() {
            return version;
        }

        @Override
        public ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("quant_method", "awq");
            o.put("zero_point", zeroPoint);
            o.put("group_size", groupSize);
            o.put("bits", bits);
            o.put("version", version.version());
            if (modulesToNotConvert.isEmpty()) {
                o.putNull("modules_to_not_convert");
            } else {
                ArrayNode modules = o.putArray("modules_to_not_convert");
                modulesToNotConvert.forEach(modules::add);
            }
            return o;
        }

        /** Reads transformers' names, falling back to AutoAWQ's own ({@code w_bit}, {@code q_group_size}). */
        private static Awq parse(JsonFields f) {
            int bits = f.integer("bits", f.integer("w_bit", 4));
            int groupSize = f.integer("group_size", f.integer("q_group_size", 128));
            String version = f.text("version", "gemm").toLowerCase(Locale.ROOT);
            return new Awq(bits, groupSize, f.bool("zero_point", true), AwqLayout.ofVersion(version),
                    f.strings("modules_to_not_convert"));
        }
    }

    private static void checkGroupSize(int groupSize) {
        if (groupSize != -1 && groupSize < 1) {
            throw new QtaleException("The quantization group size must be positive or −1 (one group per output channel),"
                    + " got " + groupSize + ".");
        }
    }
}
