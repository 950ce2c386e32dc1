package org.qtale.adaptive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.format.ModelLoader;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.DType;
import org.qtale.testing.SharedData;

class RouterSetTest {
    @Test
    void routersTravelWithTheCheckpointAndAPlainCheckpointHasNone(@TempDir Path dir) {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            RouterConfig config = new RouterConfig(16, 2, 2, 0.4f);
            RouterSet routers = RouterSet.initial(model.config(), config);
            SplittableRandom random = new SplittableRandom(1);
            for (Router r : routers.routers()) {
                if (r != null) {
                    for (int i = 0; i < r.w1().length; i++) {
                        r.w1()[i] = (float) random.nextGaussian();
                    }
                }
            }
            Path plain = dir.resolve("plain");
            HfCheckpointWriter.write(model, plain, HfCheckpointWriter.Options.of(DType.F32));
            assertTrue(RouterSet.load(plain).isEmpty(), "no qtale block: dense");

            Path routed = dir.resolve("routed");
            HfCheckpointWriter.write(model, routed, HfCheckpointWriter.Options.of(DType.F32)
                    .withExtraTensors(routers.tensors()).withExtraConfig(routers.configBlock()));
            RouterSet loaded = RouterSet.load(routed).orElseThrow();
            assertEquals(config, loaded.config());
            assertNull(loaded.router(0));
            assertNull(loaded.router(1));
            for (int l = 2; l < model.config().nLayers(); l++) {
                assertArrayEquals(routers.router(l).w1(), loaded.router(l).w1());
                assertArrayEquals(routers.router(l).b2(), loaded.router(l).b2());
            }
            try (LlamaModel again = ModelLoader.loadModel(routed)) {
                assertEquals(model.config().nLayers(), again.config().nLayers(), "the engine still loads it");
            }
        }
    }

    @Test
    void writingTheThresholdChangesThatOneValueAndNothingElse(@TempDir Path dir) throws IOException {
        Path routed = dir.resolve("routed");
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            RouterSet routers = RouterSet.initial(model.config(), new RouterConfig(16, 2, 2, 0.5f));
            HfCheckpointWriter.write(model, routed, HfCheckpointWriter.Options.of(DType.F32)
                    .withExtraTensors(routers.tensors()).withExtraConfig(routers.configBlock()));
        }
        Path config = routed.resolve("config.json");
        String before = Files.readString(config);
        byte[] weights = Files.readAllBytes(routed.resolve("model.safetensors"));
        assertTrue(before.contains("\"threshold\" : 0.5"), before);

        RouterSet.writeThreshold(routed, 0.3125f);
        String after = Files.readString(config);
        assertEquals(before.replace("\"threshold\" : 0.5", "\"threshold\" : 0.3125"), after,
                "the same file, key order and layout, with only the threshold changed");
        assertEquals(0.3125f, RouterSet.load(routed).orElseThrow().config().defaultThreshold());
        assertArrayEquals(weights, Files.readAllBytes(routed.resolve("model.safetensors")));
        try (var files = Files.list(routed)) {
            assertEquals(2, files.count(), "no temporary file left beside config.json");
        }
        assertThrows(QtaleException.class, () -> RouterSet.writeThreshold(routed, 1.5f));
        assertEquals(after, Files.readString(config));
    }

    @Test
    void aModelWithoutRoutersHasNoThresholdToWrite(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("plain");
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            HfCheckpointWriter.write(model, plain, HfCheckpointWriter.Options.of(DType.F32));
        }
        String before = Files.readString(plain.resolve("config.json"));
        QtaleException e = assertThrows(QtaleException.class, () -> RouterSet.writeThreshold(plain, 0.4f));
        assertTrue(e.getMessage().endsWith("has no routers (no qtale block in config.json), so it has no execution"
                + " threshold to set."), e.getMessage());
        assertEquals(before, Files.readString(plain.resolve("config.json")));
        assertThrows(QtaleException.class, () -> RouterSet.writeThreshold(dir.resolve("absent"), 0.4f));
    }
}
