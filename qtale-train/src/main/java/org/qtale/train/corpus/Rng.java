package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.List;

/**
 * SplitMix64 random numbers. Written out here rather than using {@code java.util.SplittableRandom} so that a seed
 * names the same corpus on every JDK: the built-in generators do not promise a stable sequence across releases.
 */
final class Rng {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private long state;

    Rng(long seed) {
        this.state = seed;
    }

    /** A well-spread 64-bit value derived from two; used to turn (seed, stream, index) into one generator seed. */
    static long mix(long a, long b) {
        return finish(a * GOLDEN + Long.rotateLeft(b, 29) + GOLDEN);
    }

    long nextLong() {
        state += GOLDEN;
        return finish(state);
    }

    /** Uniform in [0, bound); the modulo bias is below bound / 2^64. */
    int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive: " + bound);
        }
        return (int) Long.remainderUnsigned(nextLong(), bound);
    }

    /** Uniform in [low, high], both included. */
    int between(int low, int high) {
        return low + nextInt(high - low + 1);
    }

    boolean chance(double probability) {
        return (nextLong() >>> 11) * 0x1.0p-53 < probability;
    }

    <T> T pick(List<T> items) {
        return items.get(nextInt(items.size()));
    }

    /** {@code k} distinct items of {@code items} in random order. */
    <T> List<T> sample(List<T> items, int k) {
        if (k > items.size()) {
            throw new IllegalArgumentException("cannot sample " + k + " of " + items.size());
        }
        List<T> copy = new ArrayList<>(items);
        shuffle(copy);
        return new ArrayList<>(copy.subList(0, k));
    }

    /** Fisher-Yates, in place. */
    <T> void shuffle(List<T> items) {
        for (int i = items.size() - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            T t = items.get(i);
            items.set(i, items.get(j));
            items.set(j, t);
        }
    }

    private static long finish(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
