package org.qtale.adaptive;

import org.qtale.QtaleException;

/**
 * Where routers sit and how decisions default (the {@code qtale} block of a checkpoint's {@code config.json}).
 *
 * @param width            the router's hidden width h (D-LLM: 512 for d = 4096; default d/8, at least 16)
 * @param startLayer       layers before it have no router and always execute (D-LLM's {@code dynamic_start_layer}, 2)
 * @param reservedTokens   the first positions of a sequence execute every layer (D-LLM: 2)
 * @param defaultThreshold θ: a routed layer executes iff p_exec ≥ θ (0.5 is D-LLM's argmax)
 */
public record RouterConfig(int width, int startLayer, int reservedTokens, float defaultThreshold) {
    public static final int DEFAULT_START_LAYER = 2;
    public static final int DEFAULT_RESERVED_TOKENS = 2;
    public static final float ARGMAX_THRESHOLD = 0.5f;

    public RouterConfig {
        if (width < 1) {
            throw new QtaleException("The router width must be at least 1, got " + width + ".");
        }
        if (startLayer < 0 || reservedTokens < 0) {
            throw new QtaleException("The router start layer and reserved tokens must not be negative.");
        }
        if (!(defaultThreshold >= 0 && defaultThreshold <= 1)) {
            throw new QtaleException("The execution threshold must be in [0, 1], got " + defaultThreshold + ".");
        }
    }

    /** D-LLM's placement for a model of width {@code dim}: routers from layer 2, width d/8 (at least 16). */
    public static RouterConfig defaults(int dim) {
        return new RouterConfig(Math.max(16, dim / 8), DEFAULT_START_LAYER, DEFAULT_RESERVED_TOKENS, ARGMAX_THRESHOLD);
    }

    public boolean routed(int layer) {
        return layer >= startLayer;
    }
}
