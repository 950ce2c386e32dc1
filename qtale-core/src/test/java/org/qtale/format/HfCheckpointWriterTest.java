package org.qtale.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.DType;

class HfCheckpointWriterTest {
    @TempDir
    Path dir;

    private static HfCheckpointWriter.Options bf16() {
        return HfCheckpointWriter.Options.of(DType.BF16);
    }

    private List<String> entries(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesConfigAndTensorsWithAnAlignedHeader() throws IOException {
        Path out = dir.resolve("nested/model");
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            HfCheckpointWriter.write(model, out, bf16());
        }
        assertEquals(List.of("config.json", "model.safetensors"), entries(out));
        assertEquals(List.of("model"), entries(dir.resolve("nested")), "no temporary directory is left");
        byte[] file = Files.readAllBytes(out.resolve("model.safetensors"));
        long headerLength = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
        String header = new String(file, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.matches("\\{.*\\} {0,7}"), header);
        HfConfig config = HfConfig.read(out.resolve("config.json"));
        assertEquals("bfloat16", config.torchDtype());
        assertTrue(config.llama().tiedEmbeddings());
    }

    @Test
    void extraTensorsAndConfigBlocksAreWrittenToo() {
        ObjectNode qtale = Json.MAPPER.createObjectNode();
        qtale.putObject("qtale").put("router_hidden", 4).put("theta", 0.5);
        Map<String, WritableTensor> routers = Map.of(
                "model.layers.1.router.weight", WritableTensor.of(DType.F32, new int[] {2, 16}, new float[32]),
                "model.layers.0.router.weight", WritableTensor.of(DType.F32, new int[] {2, 16}, ramp(32)));
        Path out = dir.resolve("with-routers");
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            HfCheckpointWriter.write(model, out, bf16().withExtraTensors(routers).withExtraConfig(qtale));
        }
        HfConfig config = HfCheckpoint.readConfig(out);
        assertEquals(0.5, config.block("qtale").orElseThrow().path("theta").doubleValue());
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(out.resolve("model.safetensors"), arena);
            List<String> names = List.copyOf(st.names());
            assertEquals(List.of("model.layers.0.router.weight", "model.layers.1.router.weight"),
                    names.subList(names.size() - 2, names.size()));
            assertEquals(DType.F32, st.tensor("model.layers.0.router.weight").dtype());
            assertArrayEquals(ramp(32), st.tensor("model.layers.0.router.weight").toFloatArray());
            assertEquals(DType.BF16, st.tensor("model.norm.weight").dtype());
        }
        try (LlamaModel loaded = HfCheckpoint.load(out)) {
            assertEquals(2, loaded.config().nLayers(), "the engine ignores tensors it does not know");
        }
    }

    @Test
    void omittedTensorsAreNotWritten() {
        Path out = dir.resolve("omitting");
        Map<String, WritableTensor> replacement = Map.of("model.layers.0.mlp.up_proj.packed",
                WritableTensor.ofInts(new int[] {2}, new int[] {1, 2}));
        try (LlamaModel model = TinyModels.random(TinyModels.config(false), 1)) {
            HfCheckpointWriter.write(model, out, bf16().withExtraTensors(replacement)
                    .withOmittedTensors(Set.of("model.layers.0.mlp.up_proj.weight", "lm_head.weight")));
            QtaleException e = assertThrows(QtaleException.class, () -> HfCheckpointWriter.write(model, dir.resolve("x"),
                    bf16().withOmittedTensors(Set.of("model.layers.0.mlp.up.weight"))));
            assertEquals("Cannot omit the tensor model.layers.0.mlp.up.weight: the model has no tensor of that name.",
                    e.getMessage());
        }
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(out.resolve("model.safetensors"), arena);
            assertFalse(st.contains("model.layers.0.mlp.up_proj.weight"));
            assertFalse(st.contains("lm_head.weight"));
            assertTrue(st.contains("model.layers.1.mlp.up_proj.weight"));
            assertArrayEquals(new int[] {1, 2}, st.tensor("model.layers.0.mlp.up_proj.packed").toIntArray());
        }
        assertEquals(List.of("omitting"), assertDoesNotThrow(() -> entries(dir)));
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * 0.25f;
        }
        return v;
    }

    @Test
    void refusesToReplaceANonEmptyDirectory() throws IOException {
        Path out = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(out.resolve("notes.txt"), "keep me");
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            QtaleException e = assertThrows(QtaleException.class, () -> HfCheckpointWriter.write(model, out, bf16()));
            assertEquals(out + " already exists and is not empty; choose another directory or allow overwriting.",
                    e.getMessage());
        }
        assertEquals(List.of("notes.txt"), entries(out));
        assertEquals(List.of("taken"), entries(dir));
    }

    @Test
    void replacesADirectoryWhenAsked() throws IOException {
        Path out = Files.createDirectories(dir.resolve("old"));
        Files.writeString(out.resolve("notes.txt"), "replace me");
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            HfCheckpointWriter.write(model, out, bf16().withOverwrite(true));
        }
        assertEquals(List.of("config.json", "model.safetensors"), entries(out));
        assertEquals(List.of("old"), entries(dir));
    }

    @Test
    void writesIntoAnExistingEmptyDirectory() throws IOException {
        Path out = Files.createDirectories(dir.resolve("empty"));
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            HfCheckpointWriter.write(model, out, bf16());
        }
        assertEquals(List.of("config.json", "model.safetensors"), entries(out));
    }

    @Test
    void aFailureLeavesNothingBehind() throws IOException {
        Path out = dir.resolve("failed");
        Map<String, WritableTensor> broken = Map.of("zz.broken", new WritableTensor(DType.F32, new int[] {4}, () -> new float[3]));
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            QtaleException e = assertThrows(QtaleException.class,
                    () -> HfCheckpointWriter.write(model, out, bf16().withExtraTensors(broken)));
            assertEquals("Tensor zz.broken has 3 values but its shape [4] needs 4.", e.getMessage());
            Map<String, WritableTensor> clash = Map.of("model.norm.weight",
                    WritableTensor.of(DType.F32, new int[] {16}, new float[16]));
            e = assertThrows(QtaleException.class, () -> HfCheckpointWriter.write(model, out, bf16().withExtraTensors(clash)));
            assertEquals("The extra tensor model.norm.weight has the name of a model tensor.", e.getMessage());
        }
        assertEquals(List.of(), entries(dir));
    }

    @Test
    void aFailureKeepsTheDirectoryItWasToReplace() throws IOException {
        Path out = Files.createDirectories(dir.resolve("precious"));
        Files.writeString(out.resolve("notes.txt"), "still here");
        Map<String, WritableTensor> broken = Map.of("zz.broken", new WritableTensor(DType.F32, new int[] {4}, () -> {
            throw new QtaleException("The router tensors could not be computed.");
        }));
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            assertThrows(QtaleException.class,
                    () -> HfCheckpointWriter.write(model, out, bf16().withOverwrite(true).withExtraTensors(broken)));
        }
        assertEquals(List.of("precious"), entries(dir));
        assertEquals("still here", Files.readString(out.resolve("notes.txt")));
    }

    @Test
    void refusesAFileAsTarget() throws IOException {
        Path file = Files.writeString(dir.resolve("model"), "x");
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 1)) {
            QtaleException e = assertThrows(QtaleException.class,
                    () -> HfCheckpointWriter.write(model, file, bf16().withOverwrite(true)));
            assertEquals(file + " exists and is a file, so a model directory cannot be written there.", e.getMessage());
        }
        assertFalse(Files.isDirectory(file));
    }
}
