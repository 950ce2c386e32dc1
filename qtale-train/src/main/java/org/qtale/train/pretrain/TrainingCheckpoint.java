package org.qtale.train.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.qtale.QtaleException;
import org.qtale.format.AtomicFiles;
import org.qtale.format.Safetensors;
import org.qtale.format.SafetensorsWriter;
import org.qtale.format.WritableTensor;
import org.qtale.tensor.DType;
import org.qtale.train.nn.Param;
import org.qtale.train.optim.AdamW;

/**
 * Everything a stopped run needs to continue to the same result: parameter values, the optimizer's moments and step,
 * the step reached and the losses so far. Written into a fresh sibling directory and moved into place (the previous
 * one renamed aside first), so the checkpoint directory never holds a half-written state.
 */
public final class TrainingCheckpoint {
    static final String TENSORS = "training_state.safetensors";
    static final String STATE = "training_state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The progress stored in a checkpoint. */
    public record Progress(int step, List<Double> trainLosses, List<PretrainResult.Evaluation> heldOut) {
    }

    private TrainingCheckpoint() {
    }

    /**
     * Refuses a checkpoint path that holds something else (a file, or a directory with other files), since the
     * first checkpoint replaces the directory.
     */
    public static void checkUsable(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new QtaleException("The checkpoint path " + dir + " is a file; name a new or empty directory.");
        }
        if (!exists(dir) && AtomicFiles.isNonEmptyDirectory(dir)) {
            throw new QtaleException("The checkpoint directory " + dir + " holds other files and no training "
                    + "checkpoint; name a new or empty directory.");
        }
    }

    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(STATE)) && Files.isRegularFile(dir.resolve(TENSORS));
    }

    public static void save(Path dir, AdamW optimizer, Progress progress, PretrainSettings settings,
            Map<String, String> identity) {
        Path target = dir.toAbsolutePath().normalize();
        SequencedMap<String, WritableTensor> tensors = new LinkedHashMap<>();
        List<Param> params = optimizer.params();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            int[] shape = {p.rows(), p.cols()};
            tensors.put(p.name(), WritableTensor.of(DType.F32, shape, p.value()));
            tensors.put("adam.m." + p.name(), WritableTensor.of(DType.F32, shape, optimizer.firstMoment(i)));
            tensors.put("adam.v." + p.name(), WritableTensor.of(DType.F32, shape, optimizer.secondMoment(i)));
        }
        ObjectNode state = JSON.createObjectNode();
        state.put("step", progress.step());
        state.put("optimizer_steps", optimizer.steps());
        state.set("settings", JSON.valueToTree(settings));
        state.set("identity", JSON.valueToTree(identity));
        ArrayNode losses = state.putArray("train_losses");
        progress.trainLosses().forEach(losses::add);
        ArrayNode heldOut = state.putArray("held_out");
        for (PretrainResult.Evaluation e : progress.heldOut()) {
            heldOut.addObject().put("step", e.step()).put("loss", e.loss());
        }
        try {
            Files.createDirectories(target.getParent());
            Path temp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".partial-");
            try {
                SafetensorsWriter.write(temp.resolve(TENSORS), tensors, Map.of("format", "qtale-training-state"));
                Files.write(temp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
                AtomicFiles.replaceDirectory(temp, target);
            } finally {
                AtomicFiles.deleteTreeQuietly(temp);
            }
        } catch (IOException e) {
            throw new QtaleException("Cannot write the training checkpoint " + target + ": " + e.getMessage() + ".", e);
        }
    }

    /**
     * Restores parameter values and optimizer state in place and returns the progress; the settings and the run's
     * identity (corpus, shape, tokenizer) must be those the checkpoint was written with.
     */
    public static Progress restore(Path dir, AdamW optimizer, PretrainSettings settings, Map<String, String> identity) {
        try (Arena arena = Arena.ofConfined()) {
            JsonNode state = JSON.readTree(dir.resolve(STATE).toFile());
            PretrainSettings saved = JSON.treeToValue(state.get("settings"), PretrainSettings.class);
            if (!saved.equals(settings)) {
                throw new QtaleException("The checkpoint in " + dir + " was written with other settings (" + saved
                        + "); resume with the same ones.");
            }
            Map<String, String> savedIdentity = JSON.convertValue(state.get("identity"),
                    JSON.getTypeFactory().constructMapType(Map.class, String.class, String.class));
            if (!identity.equals(savedIdentity)) {
                throw new QtaleException("The checkpoint in " + dir + " belongs to another run (" + savedIdentity
                        + "); resume with the same corpus, shape and tokenizer.");
            }
            Safetensors tensors = Safetensors.open(dir.resolve(TENSORS), arena);
            List<Param> params = optimizer.params();
            float[][] m = new float[params.size()][];
            float[][] v = new float[params.size()][];
            for (int i = 0; i < params.size(); i++) {
                Param p = params.get(i);
                float[] values = tensors.tensor(p.name()).toFloatArray();
                if (values.length != p.size()) {
                    throw new QtaleException("The checkpoint's " + p.name() + " has " + values.length + " values, the model "
                            + p.size() + ".");
                }
                System.arraycopy(values, 0, p.value(), 0, values.length);
                m[i] = tensors.tensor("adam.m." + p.name()).toFloatArray();
                v[i] = tensors.tensor("adam.v." + p.name()).toFloatArray();
            }
            optimizer.restore(state.get("optimizer_steps").asLong(), m, v);
            List<Double> losses = new ArrayList<>();
            state.get("train_losses").forEach(n -> losses.add(n.asDouble()));
            List<PretrainResult.Evaluation> heldOut = new ArrayList<>();
            state.get("held_out").forEach(n -> heldOut.add(new PretrainResult.Evaluation(n.get("step").asInt(), n.get("loss").asDouble())));
            return new Progress(state.get("step").asInt(), losses, heldOut);
        } catch (IOException e) {
            throw QtaleException.cannotRead("the training checkpoint", dir, e);
        }
    }
}
