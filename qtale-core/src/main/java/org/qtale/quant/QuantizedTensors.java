package org.qtale.quant;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeMap;
import org.qtale.QtaleException;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.MappedTensor;
import org.qtale.format.Safetensors;
import org.qtale.format.WritableTensor;
import org.qtale.quant.PackedTensors.FloatMatrix;
import org.qtale.quant.PackedTensors.IntMatrix;
import org.qtale.tensor.DType;

/**
 * The quantized linear layers of a GPTQ or AWQ checkpoint: layer {@code prefix} (such as
 * {@code model.layers.0.self_attn.q_proj}) is stored as {@code prefix.qweight}, {@code prefix.qzeros},
 * {@code prefix.scales} (float16) and, for GPTQ, {@code prefix.g_idx}, in place of {@code prefix.weight}, packed in
 * the {@link CheckpointLayout} of the {@link QuantizationConfig} in {@code config.json}. As with AutoGPTQ and AutoAWQ,
 * only the decoder layers' linear maps are quantized; the embedding, the norms and {@code lm_head} stay in float.
 */
public final class QuantizedTensors {
    public static final String QWEIGHT = ".qweight";
    public static final String QZEROS = ".qzeros";
    public static final String SCALES = ".scales";
    public static final String G_IDX = ".g_idx";
    /** The suffix of the float weight a quantized layer replaces. */
    public static final String WEIGHT = ".weight";

    private QuantizedTensors() {
    }

    /** Whether the checkpoint stores layer {@code prefix} quantized, i.e. has {@code prefix.qweight}. */
    public static boolean isQuantized(Safetensors tensors, String prefix) {
        return tensors.contains(prefix + QWEIGHT);
    }

    /** Reads layer {@code prefix} into canonical form, checking its tensors against each other and the config. */
    public static QuantizedMatrix read(Safetensors tensors, String prefix, QuantizationConfig config) {
        CheckpointLayout layout = config.layout();
        IntMatrix qweight = ints(tensors.tensor(prefix + QWEIGHT), 2);
        IntMatrix qzeros = ints(tensors.tensor(prefix + QZEROS), 2);
        FloatMatrix scales = floats(tensors.tensor(prefix + SCALES));
        int[] gIdx = layout instanceof GptqLayout
                ? tensors.find(prefix + G_IDX).map(t -> ints(t, 1).values()).orElse(null)
                : null;
        PackedTensors packed = new PackedTensors(qweight, qzeros, scales, gIdx);
        return layout.unpack(packed, config.bits(), config.groupSize(), prefix);
    }

    /** {@link #read}, checking that the layer maps {@code cols} inputs to {@code rows} outputs. */
    public static QuantizedMatrix read(Safetensors tensors, String prefix, QuantizationConfig config, int rows, int cols) {
        QuantizedMatrix m = read(tensors, prefix, config);
        if (m.rows() != rows || m.cols() != cols) {
            throw new QtaleException("The quantized layer " + prefix + " maps " + m.cols() + " inputs to " + m.rows()
                    + " outputs, but config.json implies " + cols + " to " + rows + ".");
        }
        return m;
    }

    private static IntMatrix ints(MappedTensor t, int dimensions) {
        int[] shape = requireDimensions(t, dimensions);
        int[] values = t.toIntArray();
        return dimensions == 1 ? new IntMatrix(1, shape[0], values) : new IntMatrix(shape[0], shape[1], values);
    }

    private static FloatMatrix floats(MappedTensor t) {
        int[] shape = requireDimensions(t, 2);
        return new FloatMatrix(shape[0], shape[1], t.toFloatArray());
    }

    private static int[] requireDimensions(MappedTensor t, int dimensions) {
        int[] shape = t.shape();
        if (shape.length != dimensions) {
            throw new QtaleException("Tensor " + t.name() + " in " + t.source() + " has shape " + t.shapeText()
                    + " but must have " + (dimensions == 1 ? "one dimension." : dimensions + " dimensions."));
        }
        return shape;
    }

    /**
     * The tensors that store {@code linears} (keyed by layer prefix) in {@code config}'s layout, in name order. Every
     * matrix is checked against the layout first; the packing itself happens as each tensor is written.
     */
    public static SequencedMap<String, WritableTensor> tensors(Map<String, QuantizedMatrix> linears,
            QuantizationConfig config) {
        CheckpointLayout layout = config.layout();
        SequencedMap<String, WritableTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, QuantizedMatrix> e : new TreeMap<>(linears).entrySet()) {
            String prefix = e.getKey();
            QuantizedMatrix m = e.getValue();
            checkAgainstConfig(m, config, prefix);
            layout.check(m, prefix);
            out.put(prefix + QWEIGHT, WritableTensor.ofInts(layout.qweightShape(m), () -> layout.qweight(m).values()));
            out.put(prefix + QZEROS, WritableTensor.ofInts(layout.qzerosShape(m), () -> layout.qzeros(m).values()));
            out.put(prefix + SCALES, new WritableTensor(DType.F16, new int[] {m.groups(), m.rows()},
                    () -> layout.scales(m).values()));
            if (layout instanceof GptqLayout) {
                out.put(prefix + G_IDX, WritableTensor.ofInts(new int[] {m.cols()}, () -> layout.gIdx(m)));
            }
        }
        return out;
    }

    /** The config names one bit width and group size for every layer, so each matrix must have them. */
    private static void checkAgainstConfig(QuantizedMatrix m, QuantizationConfig config, String prefix) {
        int groupSize = config.groupSize() == -1 ? m.cols() : config.groupSize();
        if (m.bits() != config.bits() || m.groupSize() != groupSize) {
            throw new QtaleException(prefix + " is quantized to " + m.bits() + " bits in groups of " + m.groupSize()
                    + ", but the quantization_config says " + config.bits() + " bits in groups of "
                    + (config.groupSize() == -1 ? "a whole row" : config.groupSize()) + ".");
        }
    }

    /**
     * {@code options} extended to write {@code linears} quantized: their packed tensors join the extra tensors, their
     * float {@code prefix.weight} is omitted, and {@code config} becomes {@code config.json}'s
     * {@value QuantizationConfig#BLOCK}. Pass the result to {@link HfCheckpointWriter#write}; the model's other
     * tensors (embedding, norms, {@code lm_head}) are written in float as usual.
     *
     * <p>The matrices are written as given: the rows of the q and k projections must already be in the Hugging Face
     * (rotate-half) order that the rest of the checkpoint uses.
     */
    public static HfCheckpointWriter.Options addTo(HfCheckpointWriter.Options options,
            Map<String, QuantizedMatrix> linears, QuantizationConfig config) {
        Map<String, WritableTensor> extra = new HashMap<>(options.extraTensors());
        for (Map.Entry<String, WritableTensor> e : tensors(linears, config).entrySet()) {
            if (extra.putIfAbsent(e.getKey(), e.getValue()) != null) {
                throw new QtaleException("The quantized tensor " + e.getKey() + " has the name of another extra tensor.");
            }
        }
        Set<String> omitted = new HashSet<>(options.omittedTensors());
        linears.keySet().forEach(prefix -> omitted.add(prefix + WEIGHT));
        ObjectNode json = options.extraConfig() == null ? JsonNodeFactory.instance.objectNode() : options.extraConfig();
        json.set(QuantizationConfig.BLOCK, config.toJson());
        return options.withExtraTensors(extra).withOmittedTensors(omitted).withExtraConfig(json);
    }
}
