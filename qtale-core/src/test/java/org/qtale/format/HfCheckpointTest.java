package org.qtale.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.BF16Weights;
import org.qtale.tensor.DType;
import org.qtale.tensor.F16Weights;
import org.qtale.tensor.F32Weights;

/** Hugging Face directories written from small random models and read back. */
class HfCheckpointTest {
    private static final int[] PROMPT = {1, 5, 9, 30, 2, 17, 17, 4, 0, 31, 12, 8};
    private static final int[] DECODE = {3, 22, 6};

    @TempDir
    Path dir;

    private Path written(LlamaModel model, DType dtype) {
        Path out = dir.resolve("model-" + dtype);
        HfCheckpointWriter.write(model, out, HfCheckpointWriter.Options.of(dtype));
        return out;
    }

    @Test
    void f32DirectoryComputesExactlyTheSameLogits() {
        for (boolean tied : new boolean[] {true, false}) {
            try (LlamaModel original = TinyModels.random(TinyModels.config(tied), 42)) {
                Path out = dir.resolve("tied-" + tied);
                HfCheckpointWriter.write(original, out, HfCheckpointWriter.Options.of(DType.F32));
                try (LlamaModel loaded = HfCheckpoint.load(out)) {
                    assertEquals(original.config(), loaded.config());
                    assertTrue(loaded.weights().qkHalfSplit());
                    assertEquals(tied, loaded.weights().output() == loaded.weights().tokenEmbedding());
                    TinyModels.assertIdenticalLogits(original, loaded, PROMPT, DECODE);
                }
            }
        }
    }

    @Test
    void writesTheHuggingFaceTensorNamesInAStableOrder() {
        try (LlamaModel model = TinyModels.random(TinyModels.config(false), 1); Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(written(model, DType.F32).resolve("model.safetensors"), arena);
            List<String> names = List.copyOf(st.names());
            assertEquals(2 + 2 * 9 + 1, names.size());
            assertEquals("model.embed_tokens.weight", names.get(0));
            assertEquals(List.of("model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                    "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight",
                    "model.layers.0.self_attn.o_proj.weight", "model.layers.0.post_attention_layernorm.weight",
                    "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                    "model.layers.0.mlp.down_proj.weight"), names.subList(1, 10));
            assertEquals(List.of("model.norm.weight", "lm_head.weight"), names.subList(19, 21));
            assertEquals(Map.of("format", "pt"), st.metadata());
        }
    }

    /** A loaded directory is already in the rotate-half layout, so writing it again must not permute q and k. */
    @Test
    void rewritingALoadedDirectoryGivesTheSameBytes() throws IOException {
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            try (LlamaModel original = TinyModels.random(TinyModels.config(false), 8)) {
                Path first = written(original, dtype);
                Path second = dir.resolve("again-" + dtype);
                try (LlamaModel loaded = HfCheckpoint.load(first)) {
                    HfCheckpointWriter.write(loaded, second, HfCheckpointWriter.Options.of(dtype));
                }
                assertArrayEquals(Files.readAllBytes(first.resolve("model.safetensors")),
                        Files.readAllBytes(second.resolve("model.safetensors")));
                assertEquals(Files.readString(first.resolve("config.json")), Files.readString(second.resolve("config.json")));
            }
        }
    }

    @Test
    void sixteenBitDirectoriesStayCompressed() {
        try (LlamaModel original = TinyModels.random(TinyModels.config(true), 7)) {
            try (LlamaModel f16 = HfCheckpoint.load(written(original, DType.F16));
                    LlamaModel bf16 = HfCheckpoint.load(written(original, DType.BF16));
                    LlamaModel f32 = HfCheckpoint.load(written(original, DType.F32))) {
                assertInstanceOf(F16Weights.class, f16.weights().layers().get(0).wq());
                assertInstanceOf(BF16Weights.class, bf16.weights().layers().get(1).down());
                assertInstanceOf(F32Weights.class, f32.weights().tokenEmbedding());
                assertSame(bf16.weights().tokenEmbedding(), bf16.weights().output());
                List<float[]> expected = TinyModels.logits(original, PROMPT, DECODE);
                // random weights of scale 0.3 give logits of a few units; 16-bit rounding moves them by far less than 0.1
                assertTrue(TinyModels.maxAbsDifference(expected, TinyModels.logits(f16, PROMPT, DECODE)) < 0.02f);
                assertTrue(TinyModels.maxAbsDifference(expected, TinyModels.logits(bf16, PROMPT, DECODE)) < 0.1f);
            }
        }
    }

    @Test
    void shardedDirectoryLoadsLikeTheSingleFile() throws IOException {
        try (LlamaModel original = TinyModels.random(TinyModels.config(false), 3)) {
            Path single = written(original, DType.F32);
            Path sharded = dir.resolve("sharded");
            shard(single, sharded);
            try (LlamaModel a = HfCheckpoint.load(single); LlamaModel b = HfCheckpoint.load(sharded)) {
                TinyModels.assertIdenticalLogits(a, b, PROMPT, DECODE);
            }
        }
    }

    /** Splits a single-file directory into two shards and an index, as transformers' save_pretrained does. */
    private static void shard(Path single, Path out) throws IOException {
        Files.createDirectories(out);
        Files.copy(single.resolve("config.json"), out.resolve("config.json"));
        ObjectNode index = Json.MAPPER.createObjectNode();
        ObjectNode weightMap = index.putObject("weight_map");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(single.resolve("model.safetensors"), arena);
            List<SequencedMap<String, WritableTensor>> shards = List.of(new LinkedHashMap<>(), new LinkedHashMap<>());
            int i = 0;
            for (String name : st.names()) {
                MappedTensor t = st.tensor(name);
                int s = i++ < st.names().size() / 2 ? 0 : 1;
                shards.get(s).put(name, WritableTensor.of(t.dtype(), t.shape(), t.toFloatArray()));
                weightMap.put(name, "model-0000" + (s + 1) + "-of-00002.safetensors");
            }
            for (int s = 0; s < 2; s++) {
                SafetensorsWriter.write(out.resolve("model-0000" + (s + 1) + "-of-00002.safetensors"), shards.get(s), Map.of());
            }
        }
        Files.write(out.resolve(Safetensors.INDEX_FILE), Json.MAPPER.writeValueAsBytes(index));
    }

    /** Rewrites one entry of a written directory's config.json. */
    private static void editConfig(Path model, String key, Object value) throws IOException {
        ObjectNode json = (ObjectNode) Json.readObject(model.resolve("config.json"));
        json.set(key, Json.MAPPER.valueToTree(value));
        Files.write(model.resolve("config.json"), Json.MAPPER.writeValueAsBytes(json));
    }

    private static void assertLoadFails(Path model, String message) {
        QtaleException e = assertThrows(QtaleException.class, () -> HfCheckpoint.load(model));
        assertEquals(message, e.getMessage());
    }

    @Test
    void shapeThatDoesNotMatchTheConfig() throws IOException {
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 5)) {
            Path out = written(model, DType.F32);
            editConfig(out, "intermediate_size", 32);
            assertLoadFails(out, "Tensor model.layers.0.mlp.gate_proj.weight has shape [24, 16] but config.json implies [32, 16].");
            editConfig(out, "intermediate_size", 24);
            editConfig(out, "num_key_value_heads", 4);
            assertLoadFails(out, "Tensor model.layers.0.self_attn.k_proj.weight has shape [8, 16] but config.json implies [16, 16].");
        }
    }

    @Test
    void missingTensors() throws IOException {
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 5)) {
            Path out = written(model, DType.F32);
            editConfig(out, "num_hidden_layers", 3);
            assertLoadFails(out, "The checkpoint is missing tensor model.layers.2.input_layernorm.weight (expected shape [16]).");
            editConfig(out, "num_hidden_layers", 2);
            editConfig(out, "tie_word_embeddings", false);
            assertLoadFails(out, "The checkpoint is missing tensor lm_head.weight (expected shape [32, 16]).");
        }
    }

    @Test
    void unsupportedArchitectureInADirectory() throws IOException {
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 5)) {
            Path out = written(model, DType.F32);
            editConfig(out, "architectures", List.of("GPT2LMHeadModel"));
            assertLoadFails(out, "Unsupported architecture GPT2LMHeadModel in " + out.resolve("config.json")
                    + ": qtale runs LlamaForCausalLM and MistralForCausalLM.");
        }
    }

    @Test
    void missingDirectoryOrFiles() throws IOException {
        assertLoadFails(dir.resolve("absent"), "Model directory not found: " + dir.resolve("absent") + ".");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertLoadFails(empty, empty + " has no config.json, so it is not a Hugging Face model directory.");
        Files.writeString(empty.resolve("config.json"), HfConfig.toJson(TinyModels.config(true), DType.F32).toString());
        assertLoadFails(empty, empty + " has neither model.safetensors nor model.safetensors.index.json.");
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        assertLoadFails(file, file + " is a file, not a Hugging Face model directory.");
    }

    @Test
    void integerWeightsInAModelFile() throws IOException {
        try (LlamaModel model = TinyModels.random(TinyModels.config(true), 5)) {
            Path out = written(model, DType.F32);
            Path file = out.resolve("model.safetensors");
            byte[] bytes = Files.readAllBytes(file);
            String header = new String(bytes, 8, 100, StandardCharsets.ISO_8859_1);
            bytes[8 + header.indexOf("\"F32\"") + 1] = 'I'; // the first tensor's "F32" becomes "I32"
            Files.write(file, bytes);
            QtaleException e = assertThrows(QtaleException.class, () -> HfCheckpoint.load(out));
            assertEquals("Tensor model.embed_tokens.weight in " + file + " holds I32 integers, but qtale needs a float type"
                    + " (F32, F16 or BF16) here.", e.getMessage());
        }
    }

    @Test
    void configOfADirectory() {
        try (LlamaModel model = TinyModels.random(TinyModels.config(false), 5)) {
            Path out = written(model, DType.BF16);
            HfConfig config = HfCheckpoint.readConfig(out);
            assertEquals(model.config(), config.llama());
            assertEquals("bfloat16", config.torchDtype());
            assertFalse(config.block("qtale").isPresent());
        }
    }

    @Test
    void rotaryRowOrderMatchesTheHuggingFacePermute() {
        // two heads of width 4: HF row h*4 + j*2 + i comes from interleaved row h*4 + 2i + j
        assertArrayEquals(new int[] {0, 2, 1, 3, 4, 6, 5, 7}, RotaryLayout.halfSplitSourceRows(2, 4));
        assertArrayEquals(new int[] {0, 2, 4, 1, 3, 5}, RotaryLayout.halfSplitSourceRows(1, 6));
        LlamaConfig c = TinyModels.config(true);
        try (LlamaModel model = TinyModels.random(c, 9); LlamaModel loaded = HfCheckpoint.load(written(model, DType.F32))) {
            var meta = model.weights().layers().get(1).wk();
            var hf = loaded.weights().layers().get(1).wk();
            int hd = c.headDim();
            for (int h = 0; h < c.nKvHeads(); h++) {
                for (int j = 0; j < 2; j++) {
                    for (int i = 0; i < hd / 2; i++) {
                        for (int col = 0; col < c.dim(); col++) {
                            assertEquals(meta.get(h * hd + 2 * i + j, col), hf.get(h * hd + j * hd / 2 + i, col));
                        }
                    }
                }
            }
        }
    }
}
