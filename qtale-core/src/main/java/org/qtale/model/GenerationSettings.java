package org.qtale.model;

import java.util.Set;
import org.qtale.QtaleException;

/**
 * How to generate.
 *
 * @param maxTokens   tokens to generate at most
 * @param temperature 0 for greedy
 * @param topP        nucleus size in (0, 1]; 1 turns it off
 * @param topK        0 turns it off
 * @param seed        seed of the sampler's random numbers
 * @param stopTokens  ids that end the generation (not emitted)
 */
public record GenerationSettings(int maxTokens, float temperature, float topP, int topK, long seed, Set<Integer> stopTokens) {
    public GenerationSettings {
        if (maxTokens < 0) {
            throw new QtaleException("The maximum number of tokens must be >= 0, got " + maxTokens + ".");
        }
        stopTokens = Set.copyOf(stopTokens);
    }

    public static GenerationSettings greedy(int maxTokens, Set<Integer> stopTokens) {
        return new GenerationSettings(maxTokens, 0f, 1f, 0, 1, stopTokens);
    }

    public Sampler sampler() {
        return new Sampler(temperature, topP, topK, seed);
    }
}
