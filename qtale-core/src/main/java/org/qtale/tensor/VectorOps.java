package org.qtale.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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

    /**
     * The sum of {@code lanes} (a vector stored with {@code intoArray}) by halving: {@code l[i] += l[i + half]} for
     * half = n/2, n/4, ..., 1. {@code reduceLanes(ADD)} may add in a different order once compiled than when
     * interpreted; this gives the same bits in every JIT tier. The kernels store their accumulators into a scratch
     * array at the call site rather than passing vectors to a helper, because a vector passed to a method the JIT did
     * not inline is boxed on the heap (that alone made decode up to 2x slower in some runs).
     */
    public static float sumLanes(float[] lanes) {
        return switch (lanes.length) {
            case 16 -> sum16(lanes);
            case 8 -> sum8(lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5], lanes[6], lanes[7]);
            default -> sumByHalving(lanes);
        };
    }

    /** The halving order of {@link #sumByHalving} for 16 lanes, in registers instead of through the array. */
    private static float sum16(float[] l) {
        return sum8(l[0] + l[8], l[1] + l[9], l[2] + l[10], l[3] + l[11], l[4] + l[12], l[5] + l[13], l[6] + l[14],
                l[7] + l[15]);
    }

    private static float sum8(float a0, float a1, float a2, float a3, float a4, float a5, float a6, float a7) {
        float b0 = a0 + a4;
        float b1 = a1 + a5;
        float b2 = a2 + a6;
        float b3 = a3 + a7;
        return (b0 + b2) + (b1 + b3);
    }

    static float sumByHalving(float[] lanes) {
        for (int half = lanes.length / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                lanes[i] += lanes[i + half];
            }
        }
        return lanes[0];
    }

    /** A scratch array for {@link #sumLanes}. */
    public static float[] laneScratch() {
        return new float[F.length()];
    }

    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        return dot(a, aOffset, b, bOffset, n, laneScratch());
    }

    /** {@code Σ a[aOffset + i] · b[bOffset + i]}, using {@code lanes} as scratch. */
    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n, float[] lanes) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int width = F.length();
        int i = 0;
        for (; i <= n - 2 * width; i += 2 * width) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOffset + i + width)
                    .fma(FloatVector.fromArray(F, b, bOffset + i + width), acc1);
        }
        for (; i <= n - width; i += width) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
        }
        acc0.add(acc1).intoArray(lanes, 0);
        float sum = sumLanes(lanes);
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

    /**
     * {@code out = x / sqrt(mean(x²) + eps) · weight}, as in llama2.c; returns the scale {@code 1 / sqrt(mean(x²) + eps)}
     * (the training backward pass needs it).
     */
    public static float rmsNorm(float[] out, int outOffset, float[] x, int xOffset, float[] weight, float eps, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            acc = v.fma(v, acc);
        }
        float[] lanes = laneScratch();
        acc.intoArray(lanes, 0);
        float ss = sumLanes(lanes);
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
        return scale;
    }

    /** In-place softmax of {@code x[offset, offset + n)}. */
    public static void softmax(float[] x, int offset, int n) {
        softmax(x, offset, n, laneScratch());
    }

    /** {@link #softmax(float[], int, int)} with a caller's {@link #laneScratch()} (for calls in a loop). */
    public static void softmax(float[] x, int offset, int n, float[] lanes) {
        int width = F.length();
        int bound = F.loopBound(n);
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += width) {
            maxV = maxV.max(FloatVector.fromArray(F, x, offset + i));
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        FloatVector sumV = FloatVector.zero(F);
        i = 0;
        for (; i < bound; i += width) {
            FloatVector e = exp(FloatVector.fromArray(F, x, offset + i).sub(max));
            e.intoArray(x, offset + i);
            sumV = sumV.add(e);
        }
        sumV.intoArray(lanes, 0);
        float sum = sumLanes(lanes);
        for (; i < n; i++) {
            float e = exp(x[offset + i] - max);
            x[offset + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += width) {
            FloatVector.fromArray(F, x, offset + i).mul(inv).intoArray(x, offset + i);
        }
        for (; i < n; i++) {
            x[offset + i] *= inv;
        }
    }

    /** SwiGLU: {@code gate = silu(gate) · up}, where {@code silu(g) = g / (1 + e^-g)}. */
    public static void swiGlu(float[] gate, float[] up, int n) {
        swiGlu(gate, up, 0, n);
    }

    /** {@link #swiGlu(float[], float[], int)} on {@code [offset, offset + n)} of both arrays. */
    public static void swiGlu(float[] gate, float[] up, int offset, int n) {
        int i = offset;
        int end = offset + n;
        for (int bound = offset + F.loopBound(n); i < bound; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector silu = g.div(exp(g.neg()).add(1f));
            silu.mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < end; i++) {
            float g = gate[i];
            gate[i] = g / (exp(-g) + 1f) * up[i];
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

    private static final float LOG2_E = 1.44269504f;
    private static final float LN2_HIGH = 0.693145752f; // ln 2 split in two so that k·LN2_HIGH is exact
    private static final float LN2_LOW = 1.42860677e-6f;
    private static final float ROUNDING = 12582912f; // 1.5·2^23: adding and subtracting it rounds to an integer
    private static final float MIN_EXPONENT = -87f;
    private static final float MAX_EXPONENT = 88f;

    /**
     * e^x per lane from add, mul and fma only (x = k·ln 2 + r, e^r by its Taylor polynomial of degree 7 on |r| ≤ ln
     * 2 / 2, then 2^k through the exponent bits), within about 1 ulp. Unlike {@code lanewise(EXP)}, whose compiled form
     * differs from the interpreted one, it gives the same bits in every JIT tier, so a seeded run repeats exactly.
     * Inputs are clamped to [-87, 88].
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(MIN_EXPONENT).min(MAX_EXPONENT);
        FloatVector k = clamped.mul(LOG2_E).add(ROUNDING).sub(ROUNDING);
        FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HIGH), clamped);
        r = k.fma(FloatVector.broadcast(F, -LN2_LOW), r);
        FloatVector p = r.fma(FloatVector.broadcast(F, 1f / 5040), FloatVector.broadcast(F, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(F, 0.5f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        IntVector exponent = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(exponent.reinterpretAsFloats());
    }

    /** The scalar twin of {@link #exp(FloatVector)}, operation for operation, for loop tails. */
    public static float exp(float x) {
        float clamped = Math.min(Math.max(x, MIN_EXPONENT), MAX_EXPONENT);
        float k = clamped * LOG2_E + ROUNDING - ROUNDING;
        float r = Math.fma(k, -LN2_HIGH, clamped);
        r = Math.fma(k, -LN2_LOW, r);
        float p = Math.fma(r, 1f / 5040, 1f / 720);
        p = Math.fma(p, r, 1f / 120);
        p = Math.fma(p, r, 1f / 24);
        p = Math.fma(p, r, 1f / 6);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) k + 127) << 23);
    }

    public static int argmax(float[] x, int n) {
        return argmax(x, 0, n);
    }

    /** The index in {@code [0, n)} of the largest of {@code x[offset, offset + n)}, the first of equal ones. */
    public static int argmax(float[] x, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[offset + i] > x[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
