package org.qtale.adaptive;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.qtale.QtaleException;
import org.qtale.format.HfCheckpoint;
import org.qtale.format.HfConfig;
import org.qtale.format.MappedTensor;
import org.qtale.format.Safetensors;
import org.qtale.format.WritableTensor;
import org.qtale.model.LlamaConfig;
import org.qtale.tensor.DType;

/**
 * The routers of a model and where they sit. In a checkpoint they are extra safetensors tensors
 * {@code model.layers.{l}.router.{linear_1.weight, linear_1.bias, norm.weight, linear_2.weight, linear_2.bias}}
 * (D-LLM's module names) and a {@code qtale} block in {@code config.json}: {@code router_width},
 * {@code dynamic_start_layer}, {@code reserved_tokens}, {@code threshold}. A checkpoint without them runs dense.
 *
 * @param routers one per layer; null for layers before the start layer
 */
public record RouterSet(RouterConfig config, Router[] routers) {
    public static final String BLOCK = "qtale";
    private static final String[] PARTS = {"linear_1.weight", "linear_1.bias", "norm.weight", "linear_2.weight", "linear_2.bias"};

    public RouterSet {
        for (int l = 0; l < routers.length; l++) {
            if (config.routed(l) != (routers[l] != null)) {
                throw new QtaleException("Layer " + l + (config.routed(l) ? " needs a router" : " must not have a router")
                        + " with routers starting at layer " + config.startLayer() + ".");
            }
        }
    }

    /** D-LLM's initial routers (execute-biased) for every layer from {@code config.startLayer()}. */
    public static RouterSet initial(LlamaConfig model, RouterConfig config) {
        Router[] routers = new Router[model.nLayers()];
        for (int l = config.startLayer(); l < routers.length; l++) {
            routers[l] = Router.initial(model.dim(), config.width(), model.normEps());
        }
        return new RouterSet(config, routers);
    }

    public Router router(int layer) {
        return routers[layer];
    }

    /** The routers stored in a model directory, if its {@code config.json} has a {@code qtale} block. */
    public static Optional<RouterSet> load(Path modelDir) {
        HfConfig hf = HfCheckpoint.readConfig(modelDir);
        Optional<com.fasterxml.jackson.databind.JsonNode> block = hf.block(BLOCK);
        if (block.isEmpty()) {
            return Optional.empty();
        }
        LlamaConfig model = hf.llama();
        RouterConfig config = new RouterConfig(
                block.get().path("router_width").asInt(Math.max(16, model.dim() / 8)),
                block.get().path("dynamic_start_layer").asInt(RouterConfig.DEFAULT_START_LAYER),
                block.get().path("reserved_tokens").asInt(RouterConfig.DEFAULT_RESERVED_TOKENS),
                (float) block.get().path("threshold").asDouble(RouterConfig.ARGMAX_THRESHOLD));
        Router[] routers = new Router[model.nLayers()];
        try (Arena arena = Arena.ofConfined()) {
            Safetensors tensors = Safetensors.openDirectory(modelDir, arena);
            for (int l = config.startLayer(); l < model.nLayers(); l++) {
                float[][] parts = new float[PARTS.length][];
                for (int p = 0; p < PARTS.length; p++) {
                    String name = tensorName(l, PARTS[p]);
                    MappedTensor tensor = tensors.find(name).orElseThrow(() -> new QtaleException(
                            modelDir + " declares routers (a qtale block in config.json) but has no tensor " + name + "."));
                    parts[p] = tensor.toFloatArray();
                }
                routers[l] = new Router(parts[0], parts[1], parts[2], parts[3], parts[4], model.dim(), model.normEps());
                if (routers[l].width() != config.width()) {
                    throw new QtaleException("The router of layer " + l + " has width " + routers[l].width()
                            + " but config.json says " + config.width() + ".");
                }
            }
        }
        return Optional.of(new RouterSet(config, routers));
    }

    /**
     * Stores {@code theta} as the default execution threshold of the routed model in {@code modelDir} (the
     * {@code threshold} of the {@code qtale} block of its {@code config.json}), leaving every other entry as it is.
     */
    public static void writeThreshold(Path modelDir, float theta) {
        if (!(theta >= 0 && theta <= 1)) {
            throw new QtaleException("The execution threshold θ must be in [0, 1], got " + theta + ".");
        }
        HfCheckpoint.updateConfig(modelDir, root -> {
            if (!(root.get(BLOCK) instanceof ObjectNode block)) {
                throw new QtaleException(modelDir + " has no routers (no " + BLOCK
                        + " block in config.json), so it has no execution threshold to set.");
            }
            block.put("threshold", theta);
        });
    }

    /** The tensors to store with a checkpoint (float32). */
    public Map<String, WritableTensor> tensors() {
        Map<String, WritableTensor> out = new LinkedHashMap<>();
        for (int l = 0; l < routers.length; l++) {
            Router r = routers[l];
            if (r == null) {
                continue;
            }
            int width = r.width();
            out.put(tensorName(l, PARTS[0]), WritableTensor.of(DType.F32, new int[] {width, r.dim()}, r.w1()));
            out.put(tensorName(l, PARTS[1]), WritableTensor.of(DType.F32, new int[] {width}, r.b1()));
            out.put(tensorName(l, PARTS[2]), WritableTensor.of(DType.F32, new int[] {width}, r.norm()));
            out.put(tensorName(l, PARTS[3]), WritableTensor.of(DType.F32, new int[] {2, width}, r.w2()));
            out.put(tensorName(l, PARTS[4]), WritableTensor.of(DType.F32, new int[] {2}, r.b2()));
        }
        return out;
    }

    /** The {@code qtale} block for {@code config.json}, wrapped in an object to merge into the top level. */
    public ObjectNode configBlock() {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.putObject(BLOCK)
                .put("router_width", config.width())
                .put("dynamic_start_layer", config.startLayer())
                .put("reserved_tokens", config.reservedTokens())
                .put("threshold", config.defaultThreshold());
        return root;
    }

    static String tensorName(int layer, String part) {
        return "model.layers." + layer + ".router." + part;
    }
}
