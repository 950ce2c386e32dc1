package org.qtale.train.nn;

import org.qtale.tensor.VectorOps;

/**
 * Rotary embeddings on rows of heads in the interleaved layout, with the engine's tables. The backward pass rotates
 * by the opposite angle (the transpose of a rotation), which is the same kernel with the sine table negated.
 */
public final class RopeOp {
    private RopeOp() {
    }

    /** Rotates {@code heads} heads of every row; row {@code t} uses position {@code t % seqLen} of the tables. */
    public static void apply(float[] v, int n, int heads, int headDim, int seqLen, float[] cos, float[] sin) {
        for (int t = 0; t < n; t++) {
            int table = (t % seqLen) * headDim;
            for (int h = 0; h < heads; h++) {
                VectorOps.rope(v, (t * heads + h) * headDim, cos, sin, table, headDim);
            }
        }
    }

    public static float[] negated(float[] sin) {
        float[] negated = new float[sin.length];
        for (int i = 0; i < sin.length; i++) {
            negated[i] = -sin[i];
        }
        return negated;
    }
}
