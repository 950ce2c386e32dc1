package org.qtale.format;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.qtale.QtaleException;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.DType;
import org.qtale.tensor.LinearWeights;

/**
 * Writes a model as a Hugging Face directory ({@code config.json} and {@code model.safetensors}). Everything is
 * written into a hidden sibling directory first and renamed into place at the end, so a failure never leaves a
 * half-written model behind.
 */
public final class HfCheckpointWriter {
    /**
     * @param dtype          the dtype of the model's tensors
     * @param overwrite      whether a non-empty existing directory may be replaced
     * @param extraTensors   more tensors (each in its own dtype), written after the model's in name order
     * @param extraConfig    entries set at the top level of {@code config.json}, replacing any of the same name
     * @param omittedTensors model tensors not to write, such as the float weights of linear layers that extra tensors
     *                       store quantized; each must be a tensor of the model
     */
    public record Options(DType dtype, boolean overwrite, Map<String, WritableTensor> extraTensors, ObjectNode extraConfig,
            Set<String> omittedTensors) {
        public Options {
            if (!dtype.isFloat()) {
                throw new QtaleException("A model's weights are stored as F32, F16 or BF16, not " + dtype + ".");
            }
            extraTensors = Map.copyOf(extraTensors);
            extraConfig = extraConfig == null ? null : extraConfig.deepCopy();
            omittedTensors = Set.copyOf(omittedTensors);
        }

        @Override
        public ObjectNode extraConfig() {
            return extraConfig == null ? null : extraConfig.deepCopy();
        }

        public static Options of(DType dtype) {
            return new Options(dtype, false, Map.of(), null, Set.of());
        }

        public Options withOverwrite(boolean replace) {
            return new Options(dtype, replace, extraTensors, extraConfig, omittedTensors);
        }

        public Options withExtraTensors(Map<String, WritableTensor> tensors) {
            return new Options(dtype, overwrite, tensors, extraConfig, omittedTensors);
        }

        public Options withExtraConfig(ObjectNode config) {
            return new Options(dtype, overwrite, extraTensors, config, omittedTensors);
        }

        public Options withOmittedTensors(Set<String> names) {
            return new Options(dtype, overwrite, extraTensors, extraConfig, names);
        }
    }

    private HfCheckpointWriter() {
    }

    public static void write(LlamaModel model, Path dir, Options options) {
        write(model.config(), model.weights(), dir, options);
    }

    public static void write(LlamaConfig config, LlamaWeights weights, Path dir, Options options) {
        Path target = dir.toAbsolutePath().normalize();
        checkTarget(target, options.overwrite());
        SequencedMap<String, WritableTensor> tensors = tensors(config, weights, options);
        ObjectNode json = HfConfig.toJson(config, options.dtype());
        if (options.extraConfig() != null) {
            json.setAll(options.extraConfig());
        }
        Path temp = createSibling(target, ".partial-");
        try {
            SafetensorsWriter.write(temp.resolve(Safetensors.SINGLE_FILE), tensors, Map.of("format", "pt"));
            Files.write(temp.resolve(HfConfig.FILE), Json.MAPPER.writeValueAsBytes(json));
            AtomicFiles.replaceDirectory(temp, target);
        } catch (IOException e) {
            AtomicFiles.deleteTreeQuietly(temp);
            throw new QtaleException("Cannot write the model directory " + target + ": " + e.getMessage() + ".", e);
        } catch (RuntimeException e) {
            AtomicFiles.deleteTreeQuietly(temp);
            throw e;
        }
    }

    private static void checkTarget(Path target, boolean overwrite) {
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw new QtaleException(target + " exists and is a file, so a model directory cannot be written there.");
        }
        if (!overwrite && AtomicFiles.isNonEmptyDirectory(target)) {
            throw new QtaleException(target + " already exists and is not empty; choose another directory or allow overwriting.");
        }
    }


    /** The model's tensors in the Hugging Face layout and a stable order, less the omitted ones, then the extra ones by name. */
    static SequencedMap<String, WritableTensor> tensors(LlamaConfig c, LlamaWeights w, Options options) {
        DType dtype = options.dtype();
        SequencedMap<String, WritableTensor> out = new LinkedHashMap<>();
        out.put(HfCheckpoint.EMBEDDING, matrix(dtype, w.tokenEmbedding(), null));
        int[] qRows = w.qkHalfSplit() ? null : RotaryLayout.halfSplitSourceRows(c.nHeads(), c.headDim());
        int[] kRows = w.qkHalfSplit() ? null : RotaryLayout.halfSplitSourceRows(c.nKvHeads(), c.headDim());
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights layer = w.layers().get(l);
            List<WritableTensor> values = List.of(vector(dtype, layer.attentionNorm()), matrix(dtype, layer.wq(), qRows),
                    matrix(dtype, layer.wk(), kRows), matrix(dtype, layer.wv(), null), matrix(dtype, layer.wo(), null),
                    vector(dtype, layer.ffnNorm()), matrix(dtype, layer.gate(), null), matrix(dtype, layer.up(), null),
                    matrix(dtype, layer.down(), null));
            for (int i = 0; i < values.size(); i++) {
                out.put(HfCheckpoint.layerTensor(l, HfCheckpoint.LAYER_TENSORS.get(i)), values.get(i));
            }
        }
        out.put(HfCheckpoint.FINAL_NORM, vector(dtype, w.finalNorm()));
        if (!c.tiedEmbeddings()) {
            out.put(HfCheckpoint.OUTPUT, matrix(dtype, w.output(), null));
        }
        for (String omitted : new TreeSet<>(options.omittedTensors())) {
            if (out.remove(omitted) == null) {
                throw new QtaleException("Cannot omit the tensor " + omitted + ": the model has no tensor of that name.");
            }
        }
        for (Map.Entry<String, WritableTensor> extra : new TreeMap<>(options.extraTensors()).entrySet()) {
            if (out.putIfAbsent(extra.getKey(), extra.getValue()) != null) {
                throw new QtaleException("The extra tensor " + extra.getKey() + " has the name of a model tensor.");
            }
        }
        return out;
    }

    private static WritableTensor vector(DType dtype, float[] values) {
        return new WritableTensor(dtype, new int[] {values.length}, () -> values);
    }

    /** A matrix widened row by row; {@code sourceRows[r]} is the stored row that becomes row r, or null for as is. */
    private static WritableTensor matrix(DType dtype, LinearWeights w, int[] sourceRows) {
        return new WritableTensor(dtype, new int[] {w.rows(), w.cols()}, () -> {
            float[] values = new float[Math.toIntExact((long) w.rows() * w.cols())];
            for (int r = 0; r < w.rows(); r++) {
                w.copyRow(sourceRows == null ? r : sourceRows[r], values, r * w.cols());
            }
            return values;
        });
    }

    /** A new hidden directory beside {@code target}, created with the default permissions. */
    private static Path createSibling(Path target, String marker) {
        try {
            Files.createDirectories(target.getParent());
            return Files.createDirectory(target.resolveSibling("." + target.getFileName() + marker + UUID.randomUUID()));
        } catch (FileAlreadyExistsException e) {
            return createSibling(target, marker);
        } catch (IOException e) {
            throw new QtaleException("Cannot create a directory beside " + target + ": " + e.getMessage() + ".", e);
        }
    }
}
