package org.qtale.model;

import java.util.List;
import org.qtale.tensor.LinearWeights;

/**
 * All weights of a model.
 *
 * @param qkHalfSplit whether the rows of wq and wk put the two members of each rotary pair half a head apart (the
 *                    Hugging Face layout) instead of side by side (the Meta and llama2.c layout). The forward pass
 *                    works in the interleaved layout and reorders q and k after the projection.
 */
public record LlamaWeights(
        LinearWeights tokenEmbedding,
        List<LayerWeights> layers,
        float[] finalNorm,
        LinearWeights output,
        boolean qkHalfSplit) {

    /** Bytes of all weight storage (a tied output head counted once). */
    public long byteSize() {
        long bytes = tokenEmbedding.byteSize() + 4L * finalNorm.length;
        for (LayerWeights layer : layers) {
            bytes += layer.byteSize();
        }
        return output == tokenEmbedding ? bytes : bytes + output.byteSize();
    }

    /** Bytes one decoded token reads: everything but the embedding table, of which one row is read. */
    public long bytesReadPerToken() {
        long bytes = byteSize() - tokenEmbedding.byteSize() + tokenEmbedding.byteSize() / tokenEmbedding.rows();
        return output == tokenEmbedding ? bytes + output.byteSize() : bytes;
    }
}
