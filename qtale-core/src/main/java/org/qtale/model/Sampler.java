package org.qtale.model;

import java.util.Arrays;
import org.qtale.QtaleException;
import org.qtale.tensor.VectorOps;

/**
 * Picks the next token from logits: greedy at temperature 0, otherwise a draw from the softmax of logits /
 * temperature, optionally restricted to the {@code topK} most likely tokens and then to the smallest set whose
 * probability exceeds {@code topP}. The random numbers come from llama2.c's xorshift generator, so a seed gives the
 * same draws as there.
 */
public final class Sampler {
    private final float temperature;
    private final float topP;
    private final int topK;
    private long state;

    public Sampler(float temperature, float topP, int topK, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new QtaleException("The temperature must be a finite number >= 0, got " + temperature + ".");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new QtaleException("top-p must be in (0, 1], got " + topP + ".");
        }
        if (topK < 0) {
            throw new QtaleException("top-k must be >= 0 (0 turns it off), got " + topK + ".");
        }
        this.temperature = temperature;
        this.topP = topP;
        this.topK = topK;
        this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    public static Sampler greedy() {
        return new Sampler(0f, 1f, 0, 1);
    }

    /** llama2.c's {@code random_u32}: xorshift64 then the upper half of a multiplicative scramble. */
    private int nextU32() {
        state ^= state >>> 12;
        state ^= state << 25;
        state ^= state >>> 27;
        return (int) ((state * 0x2545F4914F6CDD1DL) >>> 32);
    }

    /** A float in [0, 1) from the top 24 bits. */
    private float nextFloat() {
        return (nextU32() >>> 8) / 16777216.0f;
    }

    /** Samples from {@code logits[0, n)}; the array is overwritten with probabilities. */
    public int sample(float[] logits, int n) {
        if (temperature == 0f) {
            return VectorOps.argmax(logits, n);
        }
        for (int i = 0; i < n; i++) {
            logits[i] /= temperature;
        }
        VectorOps.softmax(logits, 0, n);
        float coin = nextFloat();
        if (topK == 0 && topP >= 1f) {
            return sampleFromCdf(logits, n, coin);
        }
        return sampleTruncated(logits, n, coin);
    }

    private static int sampleFromCdf(float[] probabilities, int n, float coin) {
        float cdf = 0f;
        for (int i = 0; i < n; i++) {
            cdf += probabilities[i];
            if (coin < cdf) {
                return i;
            }
        }
        return n - 1; // rounding
    }

    /** Keeps the most likely tokens (top-k, then top-p) and draws among them in proportion to their probability. */
    private int sampleTruncated(float[] probabilities, int n, float coin) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(probabilities[b], probabilities[a]));
        int kept = topK > 0 ? Math.min(topK, n) : n;
        float total = 0f;
        for (int i = 0; i < kept; i++) {
            total += probabilities[order[i]];
        }
        float cumulative = 0f;
        int last = kept - 1;
        for (int i = 0; i < kept; i++) {
            cumulative += probabilities[order[i]] / total;
            if (cumulative > topP) {
                last = i;
                break;
            }
        }
        float mass = 0f;
        for (int i = 0; i <= last; i++) {
            mass += probabilities[order[i]];
        }
        float r = coin * mass;
        float cdf = 0f;
        for (int i = 0; i <= last; i++) {
            cdf += probabilities[order[i]];
            if (r < cdf) {
                return order[i];
            }
        }
        return order[last];
    }
}
