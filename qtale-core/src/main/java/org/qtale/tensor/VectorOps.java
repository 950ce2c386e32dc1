package org.qtale.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized element-wise kernels of the forward pass. {@link ScalarOps} has the same functions as plain loops; the
 * tests compare the two over odd sizes.
 */
public final class VectorOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Swaps the two lanes of every (even, odd) pair. */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(F, i -> i ^ 1);

    private VectorOps() {
    }

    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int lanes = F.length();
        int i = 0;
        for (; i <= n - 2 * lanes; i += 2 * lanes) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOffset + i + lanes)
                    .fma(FloatVector.fromArray(F, b, bOffset + i + lanes), acc1);
        }
        for (; i <= n - lanes; i += lanes) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** {@code y += alpha · x}. */
    public static void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOffset + i)
                    .fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (; i < n; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    /** {@code y += x}. */
    public static void add(float[] x, int xOffset, float[] y, int yOffset, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOffset + i).add(FloatVector.fromArray(F, y, yOffset + i)).intoArray(y, yOffset + i);
        }
        for (; i < n; i++) {
            y[yOffset + i] += x[xOffset + i];
        }
    }

    /** {@code out = x / sqrt(mean(x²) + eps) · weight}, as in llama2.c. */
    public static void rmsNorm(float[] out, int outOffset, float[] x, int xOffset, float[] weight, float eps, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            acc = v.fma(v, acc);
        }
        float ss = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            ss += x[xOffset + i] * x[xOffset + i];
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOffset + i).mul(scale).mul(FloatVector.fromArray(F, weight, i))
                    .intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = weight[i] * (scale * x[xOffset + i]);
        }
    }

    /** In-place softmax of {@code x[offset, offset + n)}. */
    public static void softmax(float[] x, int offset, int n) {
        int lanes = F.length();
        int bound = F.loopBound(n);
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += lanes) {
            maxV = maxV.max(FloatVector.fromArray(F, x, offset + i));
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        FloatVector sumV = FloatVector.zero(F);
        i = 0;
        for (; i < bound; i += lanes) {
            FloatVector e = FloatVector.fromArray(F, x, offset + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, offset + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[offset + i] - max);
            x[offset + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += lanes) {
            FloatVector.fromArray(F, x, offset + i).mul(inv).intoArray(x, offset + i);
        }
        for (; i < n; i++) {
            x[offset + i] *= inv;
        }
    }

    /** SwiGLU: {@code gate = silu(gate) · up}, where {@code silu(g) = g / (1 + e^-g)}. */
    public static void swiGlu(float[] gate, float[] up, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector silu = g.div(g.neg().lanewise(VectorOperators.EXP).add(1f));
            silu.mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        }
    }

    /**
     * Rotary embedding of one head stored as interleaved pairs {@code (v[2i], v[2i+1])}: each pair is rotated by its
     * angle. {@code cos} and {@code sin} hold, from {@code tableOffset}, one entry per element ({@code cos[2i] = cos[2i+1] = cos θ_i}); {@code
     * sin} carries the sign, {@code sin[2i] = -sin θ_i} and {@code sin[2i+1] = +sin θ_i}, so that {@code v' = v·cos +
     * swap(v)·sin}.
     */
    public static void rope(float[] v, int offset, float[] cos, float[] sin, int tableOffset, int headDim) {
        int i = 0;
        for (int bound = F.loopBound(headDim); i < bound; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, v, offset + i);
            FloatVector swapped = x.rearrange(SWAP_PAIRS);
            x.mul(FloatVector.fromArray(F, cos, tableOffset + i)).add(swapped.mul(FloatVector.fromArray(F, sin, tableOffset + i)))
                    .intoArray(v, offset + i);
        }
        for (; i < headDim; i += 2) {
            float v0 = v[offset + i];
            float v1 = v[offset + i + 1];
            v[offset + i] = v0 * cos[tableOffset + i] + v1 * sin[tableOffset + i];
            v[offset + i + 1] = v1 * cos[tableOffset + i + 1] + v0 * sin[tableOffset + i + 1];
        }
    }

    public static int argmax(float[] x, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
