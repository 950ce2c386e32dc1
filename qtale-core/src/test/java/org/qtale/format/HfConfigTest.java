package org.qtale.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaConfig.RopeScaling;
import org.qtale.tensor.DType;

class HfConfigTest {
    /** The shape of Llama 3.2 1B's config.json. */
    private static final String LLAMA_32 = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "bos_token_id": 128000,
              "eos_token_id": 128001,
              "head_dim": 64,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "intermediate_size": 8192,
              "max_position_embeddings": 131072,
              "mlp_bias": false,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 16,
              "num_key_value_heads": 8,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": {
                "factor": 32.0,
                "high_freq_factor": 4.0,
                "low_freq_factor": 1.0,
                "original_max_position_embeddings": 8192,
                "rope_type": "llama3"
              },
              "rope_theta": 500000.0,
              "tie_word_embeddings": true,
              "torch_dtype": "bfloat16",
              "use_cache": true,
              "vocab_size": 128256,
              "qtale": {"router": {"theta": 0.5}}
            }
            """;

    private static final String MINIMAL = """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 172,
             "num_hidden_layers": 4, "num_attention_heads": 8, "vocab_size": 512}
            """;

    private static HfConfig parse(String json) {
        return HfConfig.parse(Json.parse(json.getBytes(), "test json"), "config.json");
    }

    /** {@code base} with {@code key} set to the JSON value {@code value}. */
    private static String with(String base, String key, String value) {
        ObjectNode node = (ObjectNode) Json.parse(base.getBytes(), "base");
        node.set(key, Json.parse(value.getBytes(), "value"));
        return node.toString();
    }

    private static void assertRejected(String json, String message) {
        QtaleException e = assertThrows(QtaleException.class, () -> parse(json));
        assertEquals(message, e.getMessage());
    }

    @Test
    void readsALlama3Config() {
        HfConfig config = parse(LLAMA_32);
        LlamaConfig expected = new LlamaConfig("LlamaForCausalLM", 2048, 8192, 16, 32, 8, 128256, 131072, 64, 1e-5f,
                500000.0, new RopeScaling(32.0, 1.0, 4.0, 8192), true);
        assertEquals(expected, config.llama());
        assertEquals("bfloat16", config.torchDtype());
    }

    @Test
    void fillsInTransformersDefaults() {
        HfConfig config = parse(MINIMAL);
        LlamaConfig expected = new LlamaConfig("LlamaForCausalLM", 64, 172, 4, 8, 8, 512, 2048, 8, 1e-6f, 10000.0, null,
                false);
        assertEquals(expected, config.llama());
        assertNull(config.torchDtype());
        assertEquals(expected, parse(with(MINIMAL, "num_key_value_heads", "null")).llama());
        assertEquals(expected, parse(with(MINIMAL, "rope_scaling", "null")).llama());
        assertEquals(expected, parse(with(MINIMAL, "rope_scaling", "{\"rope_type\": \"default\"}")).llama());
    }

    @Test
    void keepsUnknownBlocksReadable() {
        HfConfig config = parse(LLAMA_32);
        assertEquals(0.5, config.block("qtale").orElseThrow().path("router").path("theta").doubleValue());
        assertEquals(1, config.raw().path("pretraining_tp").intValue());
        assertTrue(config.block("absent").isEmpty());
        ((ObjectNode) config.raw()).put("hidden_size", 1);
        assertEquals(2048, config.raw().path("hidden_size").intValue(), "raw() hands out copies");
    }

    @Test
    void readsTransformers5RopeParameters() {
        String json = with(MINIMAL, "rope_parameters", "{\"rope_type\": \"default\", \"rope_theta\": 500000.0}");
        assertEquals(500000.0, parse(json).llama().ropeTheta());
        String llama3 = with(MINIMAL, "rope_parameters", "{\"rope_type\": \"llama3\", \"rope_theta\": 500000.0,"
                + " \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
                + " \"original_max_position_embeddings\": 8192}");
        assertEquals(new RopeScaling(8.0, 1.0, 4.0, 8192), parse(llama3).llama().ropeScaling());
        assertEquals("float16", parse(with(MINIMAL, "dtype", "\"float16\"")).torchDtype());
    }

    @Test
    void mistralSlidingWindowCapsTheContext() {
        String mistral = with(with(MINIMAL, "architectures", "[\"MistralForCausalLM\"]"), "max_position_embeddings", "32768");
        assertEquals(4096, parse(with(mistral, "sliding_window", "4096")).llama().contextLength());
        assertEquals(32768, parse(with(mistral, "sliding_window", "null")).llama().contextLength());
        assertEquals("MistralForCausalLM", parse(mistral).llama().architecture());
    }

    @Test
    void architectureFromModelTypeWhenNotListed() {
        ObjectNode node = (ObjectNode) Json.parse(MINIMAL.getBytes(), "m");
        node.remove("architectures");
        node.put("model_type", "llama");
        assertEquals("LlamaForCausalLM", HfConfig.parse(node, "config.json").llama().architecture());
    }

    @Test
    void rejectsOtherArchitectures() {
        assertRejected(with(MINIMAL, "architectures", "[\"GPT2LMHeadModel\"]"),
                "Unsupported architecture GPT2LMHeadModel in config.json: qtale runs LlamaForCausalLM and MistralForCausalLM.");
        assertRejected(with(MINIMAL, "architectures", "[\"Qwen2ForCausalLM\"]"),
                "Unsupported architecture Qwen2ForCausalLM in config.json: qtale runs LlamaForCausalLM and MistralForCausalLM.");
        ObjectNode noArchitecture = (ObjectNode) Json.parse(MINIMAL.getBytes(), "m");
        noArchitecture.remove("architectures");
        QtaleException e = assertThrows(QtaleException.class, () -> HfConfig.parse(noArchitecture, "config.json"));
        assertTrue(e.getMessage().startsWith("config.json names no architecture qtale runs"), e.getMessage());
    }

    @Test
    void rejectsFeaturesTheEngineDoesNotImplement() {
        assertRejected(with(MINIMAL, "attention_bias", "true"),
                "config.json sets attention_bias, but qtale implements LLaMA layers without biases.");
        assertRejected(with(MINIMAL, "mlp_bias", "true"),
                "config.json sets mlp_bias, but qtale implements LLaMA layers without biases.");
        assertRejected(with(MINIMAL, "hidden_act", "\"gelu\""),
                "config.json uses the activation 'gelu', but qtale implements silu only.");
        assertRejected(with(MINIMAL, "rope_scaling", "{\"type\": \"linear\", \"factor\": 2.0}"),
                "Unsupported rope_scaling type 'linear' in config.json: qtale implements 'llama3' scaling only.");
        assertRejected(with(MINIMAL, "rope_scaling", "{\"rope_type\": \"llama3\", \"factor\": 2.0}"),
                "config.json (rope_scaling) has no 'low_freq_factor'.");
    }

    @Test
    void rejectsMissingOrMistypedFields() {
        ObjectNode node = (ObjectNode) Json.parse(MINIMAL.getBytes(), "m");
        node.remove("hidden_size");
        QtaleException e = assertThrows(QtaleException.class, () -> HfConfig.parse(node, "config.json"));
        assertEquals("config.json has no 'hidden_size'.", e.getMessage());
        assertRejected(with(MINIMAL, "vocab_size", "\"512\""), "'vocab_size' in config.json must be an integer, got \"512\".");
        assertRejected(with(MINIMAL, "rms_norm_eps", "\"tiny\""), "'rms_norm_eps' in config.json must be a number, got \"tiny\".");
        assertRejected(with(MINIMAL, "tie_word_embeddings", "1"), "'tie_word_embeddings' in config.json must be true or false, got 1.");
        assertRejected(with(MINIMAL, "hidden_size", "60"),
                "config.json has no 'head_dim' and hidden_size 60 is not divisible by num_attention_heads 8.");
        assertRejected(with(MINIMAL, "num_key_value_heads", "3"),
                "The number of heads (8) is not a multiple of the number of key/value heads (3).");
    }

    @Test
    void writtenConfigReadsBackAsTheSame() {
        LlamaConfig llama2c = LlamaConfig.llama2c(64, 172, 5, 8, 4, 512, 512, true);
        JsonNode json = HfConfig.toJson(llama2c, DType.BF16);
        HfConfig back = HfConfig.parse(json, "written");
        assertEquals(llama2c, back.llama());
        assertEquals("bfloat16", back.torchDtype());
        assertEquals("1.0E-5", json.path("rms_norm_eps").asText());
        LlamaConfig scaled = new LlamaConfig("LlamaForCausalLM", 64, 128, 2, 4, 2, 100, 256, 32, 1e-6f, 500000.0,
                new RopeScaling(32.0, 1.0, 4.0, 8192), false);
        assertEquals(scaled, HfConfig.parse(HfConfig.toJson(scaled, DType.F32), "written").llama());
    }

    @Test
    void readsAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, LLAMA_32);
        assertEquals(2048, HfConfig.read(file).llama().dim());
        Files.writeString(file, "{ not json");
        QtaleException e = assertThrows(QtaleException.class, () -> HfConfig.read(file));
        assertTrue(e.getMessage().startsWith(file + " is not valid JSON: "), e.getMessage());
        Files.writeString(file, "[]");
        e = assertThrows(QtaleException.class, () -> HfConfig.read(file));
        assertEquals(file + " must hold a JSON object.", e.getMessage());
        assertFalse(Files.exists(dir.resolve("missing.json")));
        e = assertThrows(QtaleException.class, () -> HfConfig.read(dir.resolve("missing.json")));
        assertEquals("File not found: " + dir.resolve("missing.json") + ".", e.getMessage());
    }
}
