package org.qtale.testing;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.qtale.adaptive.Router;
import org.qtale.adaptive.RouterConfig;
import org.qtale.adaptive.RouterSet;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.DType;
import org.qtale.tokenizer.HfTokenizerWriter;
import org.qtale.tokenizer.Llama2cTokenizer;

/**
 * Models with routers for tests while no trained routers exist: D-LLM's initial routers with seeded Gaussian
 * weights in both linear layers, so that p_exec varies from token to token and layer to layer.
 */
public final class RoutedModels {
    private RoutedModels() {
    }

    /** D-LLM's placement for {@code model} with Gaussian {@code w1} (std 1) and {@code w2} (std {@code scale}). */
    public static RouterSet gaussian(LlamaConfig model, RouterConfig config, long seed, float scale) {
        RouterSet routers = RouterSet.initial(model, config);
        SplittableRandom random = new SplittableRandom(seed);
        for (Router r : routers.routers()) {
            if (r != null) {
                for (int i = 0; i < r.w1().length; i++) {
                    r.w1()[i] = (float) random.nextGaussian();
                }
                for (int i = 0; i < r.w2().length; i++) {
                    r.w2()[i] = (float) (scale * random.nextGaussian());
                }
            }
        }
        return routers;
    }

    /**
     * Writes the shared aidreams260K checkpoint with {@code routers} as a Hugging Face directory (float32) with its
     * tokenizer, as a fine-tuned model would be stored.
     */
    public static void writeAidreams(RouterSet routers, Path dir) {
        try (LlamaModel model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"))) {
            HfCheckpointWriter.Options options = HfCheckpointWriter.Options.of(DType.F32);
            if (routers != null) {
                options = options.withExtraTensors(routers.tensors()).withExtraConfig(routers.configBlock());
            }
            HfCheckpointWriter.write(model, dir, options);
        }
        HfTokenizerWriter.write(Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), 512), dir);
    }
}
