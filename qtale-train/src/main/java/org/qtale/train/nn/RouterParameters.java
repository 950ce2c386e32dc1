package org.qtale.train.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.qtale.adaptive.Router;
import org.qtale.adaptive.RouterConfig;
import org.qtale.adaptive.RouterSet;
import org.qtale.model.LlamaConfig;

/**
 * The trainable routers of a model, one per routed layer, named as {@link RouterSet} stores them
 * ({@code model.layers.{l}.router.linear_1.weight}, ...). Each computes, over the residual stream x entering its
 * layer, {@code Δ = z_exec − z_skip} with {@code z = W₂ · silu(rmsnorm(W₁ · x + b₁)) + b₂}.
 */
public final class RouterParameters {
    /** One router: {@code w1} is {@code width × dim}, {@code w2} is {@code 2 × width} (row 0 skip, row 1 execute). */
    public record Layer(Param w1, Param b1, Param norm, Param w2, Param b2) {
        List<Param> all() {
            return List.of(w1, b1, norm, w2, b2);
        }

        public int width() {
            return b1.size();
        }
    }

    private final RouterConfig config;
    private final Layer[] layers;

    private RouterParameters(RouterConfig config, Layer[] layers) {
        this.config = config;
        this.layers = layers;
    }

    /**
     * New routers as D-LLM initializes them: PyTorch's default Linear initialization (weights and biases uniform in
     * ±1/√fan_in), norm weights 1, then the output bias set to (0.1, 2.0), so that every layer starts out executing
     * with {@code p_exec ≈ 0.87} before the weight terms.
     */
    public static RouterParameters initialize(LlamaConfig model, RouterConfig config, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Layer[] layers = new Layer[model.nLayers()];
        int width = config.width();
        int dim = model.dim();
        for (int l = config.startLayer(); l < layers.length; l++) {
            Param w1 = uniform(name(l, "linear_1.weight"), width, dim, dim, random);
            Param b1 = uniform(name(l, "linear_1.bias"), 1, width, dim, random);
            Param norm = new Param(name(l, "norm.weight"), 1, width);
            java.util.Arrays.fill(norm.value(), 1f);
            Param w2 = uniform(name(l, "linear_2.weight"), 2, width, width, random);
            Param b2 = new Param(name(l, "linear_2.bias"), 1, 2, new float[] {0.1f, 2.0f});
            layers[l] = new Layer(w1, b1, norm, w2, b2);
        }
        return new RouterParameters(config, layers);
    }

    /** Trainable copies of stored routers. */
    public static RouterParameters copyOf(RouterSet set) {
        Layer[] layers = new Layer[set.routers().length];
        for (int l = 0; l < layers.length; l++) {
            Router r = set.router(l);
            if (r != null) {
                int width = r.width();
                layers[l] = new Layer(new Param(name(l, "linear_1.weight"), width, r.dim(), r.w1().clone()),
                        new Param(name(l, "linear_1.bias"), 1, width, r.b1().clone()),
                        new Param(name(l, "norm.weight"), 1, width, r.norm().clone()),
                        new Param(name(l, "linear_2.weight"), 2, width, r.w2().clone()),
                        new Param(name(l, "linear_2.bias"), 1, 2, r.b2().clone()));
            }
        }
        return new RouterParameters(set.config(), layers);
    }

    /** The engine's routers with the current values (copied), and {@code threshold} as the stored default θ. */
    public RouterSet toRouterSet(LlamaConfig model, float threshold) {
        Router[] routers = new Router[layers.length];
        for (int l = 0; l < layers.length; l++) {
            Layer p = layers[l];
            if (p != null) {
                routers[l] = new Router(p.w1.value().clone(), p.b1.value().clone(), p.norm.value().clone(),
                        p.w2.value().clone(), p.b2.value().clone(), model.dim(), model.normEps());
            }
        }
        RouterConfig c = new RouterConfig(config.width(), config.startLayer(), config.reservedTokens(), threshold);
        return new RouterSet(c, routers);
    }

    public RouterConfig config() {
        return config;
    }

    /** The router of layer {@code l}, or null for a layer that always runs. */
    public Layer layer(int l) {
        return layers[l];
    }

    public int layerCount() {
        return layers.length;
    }

    /** How many layers have a router. */
    public int routedLayers() {
        return layers.length - config.startLayer();
    }

    public List<Param> all() {
        List<Param> all = new ArrayList<>();
        for (Layer layer : layers) {
            if (layer != null) {
                all.addAll(layer.all());
            }
        }
        return all;
    }

    private static String name(int layer, String part) {
        return "model.layers." + layer + ".router." + part;
    }

    private static Param uniform(String name, int rows, int cols, int fanIn, SplittableRandom random) {
        Param p = new Param(name, rows, cols);
        double bound = 1 / Math.sqrt(fanIn);
        float[] v = p.value();
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((2 * random.nextDouble() - 1) * bound);
        }
        return p;
    }
}
