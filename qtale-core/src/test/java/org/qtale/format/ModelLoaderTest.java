package org.qtale.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.DType;
import org.qtale.testing.SharedData;

class ModelLoaderTest {
    @TempDir
    Path dir;

    private Path hfDirectory() {
        Path out = dir.resolve("hf");
        try (LlamaModel model = TinyModels.random(TinyModels.config(false), 11)) {
            HfCheckpointWriter.write(model, out, HfCheckpointWriter.Options.of(DType.F16));
        }
        return out;
    }

    @Test
    void loadsAHuggingFaceDirectoryOrOneOfItsFiles() {
        Path hf = hfDirectory();
        for (Path p : new Path[] {hf, hf.resolve("config.json"), hf.resolve("model.safetensors")}) {
            try (LlamaModel model = ModelLoader.loadModel(p)) {
                assertEquals(TinyModels.config(false), model.config());
                assertTrue(model.weights().qkHalfSplit());
                assertEquals(DType.F16, model.weights().output().dtype());
            }
        }
    }

    @Test
    void loadsALlama2cCheckpoint() {
        try (LlamaModel model = ModelLoader.loadModel(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            assertEquals(LlamaConfig.llama2c(64, 172, 4, 4, 4, 512, 128, true), model.config());
            assertFalse(model.weights().qkHalfSplit());
        }
    }

    private static void assertFails(Path path, String message) {
        QtaleException e = assertThrows(QtaleException.class, () -> ModelLoader.loadModel(path));
        assertEquals(message, e.getMessage());
    }

    @Test
    void rejectsEverythingElseInOneSentence() throws IOException {
        assertFails(dir.resolve("absent"), "No model found at " + dir.resolve("absent") + ".");
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello");
        assertFails(text, text + " is neither a llama2.c checkpoint (.bin) nor a Hugging Face model directory"
                + " (config.json with model.safetensors).");
        Path lone = Files.writeString(dir.resolve("lone.safetensors"), "x");
        assertFails(lone, lone + " is neither a llama2.c checkpoint (.bin) nor a Hugging Face model directory"
                + " (config.json with model.safetensors).");
        Path pickle = Files.writeString(dir.resolve("pytorch_model.bin"), "x");
        assertFails(pickle, pickle + " is a PyTorch pickle, which qtale does not read; save the model as safetensors.");
        Path tiny = Files.write(dir.resolve("tiny.bin"), new byte[] {1, 2});
        assertFails(tiny, tiny + " is too short to be a llama2.c checkpoint (2 bytes).");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertFails(empty, empty + " has no config.json, so it is not a Hugging Face model directory.");
    }
}
