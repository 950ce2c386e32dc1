package org.qtale.model;

import org.qtale.QtaleException;

/**
 * The hyper-parameters of a LLaMA-family model.
 *
 * @param architecture   the architecture name, e.g. {@code LlamaForCausalLM}
 * @param dim            width of the residual stream
 * @param hiddenDim      width of the SwiGLU MLP
 * @param nLayers        number of transformer blocks
 * @param nHeads         query heads
 * @param nKvHeads       key/value heads (grouped-query attention when fewer than {@code nHeads})
 * @param vocabSize      number of tokens
 * @param contextLength  maximum number of positions
 * @param headDim        width of one head
 * @param normEps        RMSNorm epsilon
 * @param ropeTheta      RoPE base
 * @param ropeScaling    Llama 3.x frequency scaling, or null
 * @param tiedEmbeddings whether the output head is the token embedding
 */
public record LlamaConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int nLayers,
        int nHeads,
        int nKvHeads,
        int vocabSize,
        int contextLength,
        int headDim,
        float normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tiedEmbeddings) {

    /** Llama 3.x {@code rope_scaling} of type {@code llama3}. */
    public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalContextLength) {
    }

    public LlamaConfig {
        if (dim <= 0 || hiddenDim <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || vocabSize <= 0
                || contextLength <= 0 || headDim <= 0) {
            throw new QtaleException("The model configuration has a non-positive size (dim " + dim + ", hidden "
                    + hiddenDim + ", layers " + nLayers + ", heads " + nHeads + ", kv heads " + nKvHeads + ", vocab "
                    + vocabSize + ", context " + contextLength + ").");
        }
        if (nHeads % nKvHeads != 0) {
            throw new QtaleException("The number of heads (" + nHeads + ") is not a multiple of the number of key/value heads ("
                    + nKvHeads + ").");
        }
        if (headDim % 2 != 0) {
            throw new QtaleException("The head dimension must be even for rotary embeddings, got " + headDim + ".");
        }
    }

    /** The shape llama2.c uses: head width dim / heads, norm eps 1e-5, RoPE base 10000. */
    public static LlamaConfig llama2c(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
            int contextLength, boolean tiedEmbeddings) {
        if (nHeads <= 0 || dim % nHeads != 0) {
            throw new QtaleException("The model dimension " + dim + " is not divisible by the number of heads " + nHeads + ".");
        }
        return new LlamaConfig("LlamaForCausalLM", dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, contextLength,
                dim / nHeads, 1e-5f, 10000.0, null, tiedEmbeddings);
    }

    public int qDim() {
        return nHeads * headDim;
    }

    public int kvDim() {
        return nKvHeads * headDim;
    }

    /** Parameters of the weights (the output head counted once when tied). */
    public long parameterCount() {
        long perLayer = 2L * dim + (long) dim * qDim() + 2L * dim * kvDim() + (long) qDim() * dim + 3L * dim * hiddenDim;
        long embedding = (long) vocabSize * dim;
        return embedding + nLayers * perLayer + dim + (tiedEmbeddings ? 0 : embedding);
    }

    /** KV-cache bytes one position takes in float32 across all layers. */
    public long kvBytesPerToken() {
        return 2L * nLayers * kvDim() * Float.BYTES;
    }

    public LlamaConfig withContextLength(int length) {
        return new LlamaConfig(architecture, dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, length, headDim, normEps,
                ropeTheta, ropeScaling, tiedEmbeddings);
    }
}
