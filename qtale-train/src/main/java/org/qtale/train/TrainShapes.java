package org.qtale.train;

import java.util.List;
import java.util.Map;
import org.qtale.QtaleException;
import org.qtale.model.LlamaConfig;

/**
 * Model shapes that pretrain from scratch on this kind of machine. The vocabulary is the tokenizer's, so a shape
 * fixes everything else.
 */
public final class TrainShapes {
    /** A shape and the tokenizer vocabulary it is meant to be trained with. */
    public record Shape(String name, int dim, int hiddenDim, int layers, int heads, int kvHeads, int contextLength,
            int defaultVocab, String description) {
        public LlamaConfig config(int vocabSize) {
            return LlamaConfig.llama2c(dim, hiddenDim, layers, heads, kvHeads, vocabSize, contextLength, true);
        }
    }

    private static final Map<String, Shape> SHAPES = Map.of(
            "tiny", new Shape("tiny", 64, 192, 4, 2, 1, 256, 512,
                    "4 layers, dim 64: trains in about a minute"),
            "toy", new Shape("toy", 64, 192, 6, 2, 1, 256, 512,
                    "6 layers, dim 64, 2 heads of 32 sharing one key/value head: the embedded default model behind ./qtale demo"));

    private TrainShapes() {
    }

    public static Shape get(String name) {
        Shape shape = SHAPES.get(name);
        if (shape == null) {
            throw new QtaleException("Unknown training shape '" + name + "'; choose one of " + names() + ".");
        }
        return shape;
    }

    public static List<String> names() {
        return SHAPES.keySet().stream().sorted().toList();
    }
}
