package org.qtale.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.qtale.QtaleException;
import org.qtale.model.LlamaConfig;

/** Named shapes of real models, for benchmarks on random weights. */
public final class ModelShapes {
    private static final Map<String, LlamaConfig> SHAPES = new LinkedHashMap<>();

    static {
        // Llama 3.2 1B: tied embeddings, GQA 32/8, Llama 3 rope scaling
        SHAPES.put("llama-3.2-1b", new LlamaConfig("LlamaForCausalLM", 2048, 8192, 16, 32, 8, 128256, 2048, 64, 1e-5f,
                500000.0, new LlamaConfig.RopeScaling(32.0, 1.0, 4.0, 8192), true));
        // the "small" shape of shared/research/perf-anchors.md (llama.cpp measured on it), vocab 32000
        SHAPES.put("anchor-small", new LlamaConfig("LlamaForCausalLM", 512, 1536, 8, 8, 8, 32000, 2048, 64, 1e-5f,
                10000.0, null, false));
        // about 110M parameters, the stories110M shape
        SHAPES.put("small-110m", new LlamaConfig("LlamaForCausalLM", 768, 2048, 12, 12, 12, 32000, 1024, 64, 1e-5f,
                10000.0, null, true));
        // seconds-long smoke tests
        SHAPES.put("tiny", new LlamaConfig("LlamaForCausalLM", 256, 768, 4, 8, 4, 4096, 512, 32, 1e-5f, 10000.0, null,
                false));
    }

    private ModelShapes() {
    }

    public static LlamaConfig get(String name) {
        LlamaConfig c = SHAPES.get(name);
        if (c == null) {
            throw new QtaleException("Unknown shape '" + name + "'; known shapes: " + String.join(", ", SHAPES.keySet()) + ".");
        }
        return c;
    }

}
