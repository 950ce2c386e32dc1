package org.qtale.model;

import org.qtale.tensor.LinearWeights;

/**
 * One transformer block. {@code gate}, {@code up} and {@code down} are llama2.c's w1, w3 and w2.
 */
public record LayerWeights(
        float[] attentionNorm,
        LinearWeights wq,
        LinearWeights wk,
        LinearWeights wv,
        LinearWeights wo,
        float[] ffnNorm,
        LinearWeights gate,
        LinearWeights up,
        LinearWeights down) {

    public long byteSize() {
        return 4L * (attentionNorm.length + ffnNorm.length) + wq.byteSize() + wk.byteSize() + wv.byteSize() + wo.byteSize()
                + gate.byteSize() + up.byteSize() + down.byteSize();
    }
}
