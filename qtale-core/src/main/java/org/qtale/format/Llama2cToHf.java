package org.qtale.format;

import java.nio.file.Path;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.DType;

/**
 * Converts a llama2.c checkpoint into a Hugging Face model directory. llama2.c keeps q and k in Meta's interleaved
 * rotary layout; the writer permutes their rows to Hugging Face's rotate-half layout ({@link RotaryLayout}), and a
 * shared classifier becomes {@code tie_word_embeddings} without an {@code lm_head}.
 */
public final class Llama2cToHf {
    private Llama2cToHf() {
    }

    /** Converts {@code bin} into the new directory {@code outDir}, storing the tensors in {@code dtype}. */
    public static void convert(Path bin, Path outDir, DType dtype) {
        convert(bin, outDir, HfCheckpointWriter.Options.of(dtype));
    }

    public static void convert(Path bin, Path outDir, HfCheckpointWriter.Options options) {
        try (LlamaModel model = Llama2cCheckpoint.load(bin)) {
            HfCheckpointWriter.write(model, outDir, options);
        }
    }
}
