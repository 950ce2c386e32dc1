package org.qtale.format;

import java.nio.file.Files;
import java.nio.file.Path;
import org.qtale.QtaleException;
import org.qtale.model.LlamaModel;

/** Loads a model from whatever the user points at: a llama2.c {@code .bin} file or a Hugging Face directory. */
public final class ModelLoader {
    private ModelLoader() {
    }

    /**
     * Accepts a llama2.c checkpoint file ({@code *.bin}), a Hugging Face model directory, or that directory's
     * {@code config.json} / {@code *.safetensors} / index file.
     */
    public static LlamaModel loadModel(Path path) {
        if (!Files.exists(path)) {
            throw new QtaleException("No model found at " + path + ".");
        }
        if (Files.isDirectory(path)) {
            return HfCheckpoint.load(path);
        }
        String name = path.getFileName().toString();
        if (name.startsWith("pytorch_model") && name.endsWith(".bin")) {
            throw new QtaleException(path + " is a PyTorch pickle, which qtale does not read; save the model as safetensors.");
        }
        if (name.endsWith(".bin")) {
            return Llama2cCheckpoint.load(path);
        }
        Path dir = path.toAbsolutePath().getParent();
        boolean partOfHfDir = name.equals(HfConfig.FILE) || name.endsWith(".safetensors") || name.equals(Safetensors.INDEX_FILE);
        if (partOfHfDir && Files.isRegularFile(dir.resolve(HfConfig.FILE))) {
            return HfCheckpoint.load(dir);
        }
        throw new QtaleException(path + " is neither a llama2.c checkpoint (.bin) nor a Hugging Face model directory"
                + " (config.json with model.safetensors).");
    }
}
