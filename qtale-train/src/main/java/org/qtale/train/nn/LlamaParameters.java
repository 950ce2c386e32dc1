package org.qtale.train.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearWeights;

/**
 * The parameters of a LLaMA model as trainable float arrays, named as in Hugging Face checkpoints. The rows of wq and
 * wk are kept in the interleaved rotary layout the engine computes in.
 */
public final class LlamaParameters {
    /** One block's parameters. */
    public record Layer(Param attentionNorm, Param wq, Param wk, Param wv, Param wo, Param ffnNorm, Param gate,
            Param up, Param down) {
        List<Param> all() {
            return List.of(attentionNorm, wq, wk, wv, wo, ffnNorm, gate, up, down);
        }
    }

    private final LlamaConfig config;
    private final Param embedding;
    private final List<Layer> layers;
    private final Param finalNorm;
    private final Param output;
    private final Map<Param, LoraAdapter> adapters = new LinkedHashMap<>();

    private LlamaParameters(LlamaConfig config, Param embedding, List<Layer> layers, Param finalNorm, Param output) {
        this.config = config;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.output = output;
    }

    /**
     * Fresh parameters for pretraining: norms at 1, matrices normal with standard deviation 0.02, and the two
     * projections that write into the residual stream (wo, down) scaled by {@code 1/√(2·layers)} so that the stream's
     * variance does not grow with depth.
     */
    public static LlamaParameters initialize(LlamaConfig config, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int dim = config.dim();
        float std = 0.02f;
        float residualStd = (float) (std / Math.sqrt(2.0 * config.nLayers()));
        Param embedding = normal("model.embed_tokens.weight", config.vocabSize(), dim, std, random);
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < config.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new Layer(
                    ones(p + "input_layernorm.weight", dim),
                    normal(p + "self_attn.q_proj.weight", config.qDim(), dim, std, random),
                    normal(p + "self_attn.k_proj.weight", config.kvDim(), dim, std, random),
                    normal(p + "self_attn.v_proj.weight", config.kvDim(), dim, std, random),
                    normal(p + "self_attn.o_proj.weight", dim, config.qDim(), residualStd, random),
                    ones(p + "post_attention_layernorm.weight", dim),
                    normal(p + "mlp.gate_proj.weight", config.hiddenDim(), dim, std, random),
                    normal(p + "mlp.up_proj.weight", config.hiddenDim(), dim, std, random),
                    normal(p + "mlp.down_proj.weight", dim, config.hiddenDim(), residualStd, random)));
        }
        Param finalNorm = ones("model.norm.weight", dim);
        Param output = config.tiedEmbeddings() ? embedding
                : normal("lm_head.weight", config.vocabSize(), dim, std, random);
        return new LlamaParameters(config, embedding, layers, finalNorm, output);
    }

    /** Copies a loaded model's weights (any storage format, widened to float). */
    public static LlamaParameters copyOf(LlamaConfig config, LlamaWeights weights) {
        Param embedding = copy("model.embed_tokens.weight", weights.tokenEmbedding());
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < config.nLayers(); l++) {
            LayerWeights w = weights.layers().get(l);
            String p = "model.layers." + l + ".";
            Param wq = copy(p + "self_attn.q_proj.weight", w.wq());
            Param wk = copy(p + "self_attn.k_proj.weight", w.wk());
            if (weights.qkHalfSplit()) {
                interleaveRows(wq, config.headDim());
                interleaveRows(wk, config.headDim());
            }
            layers.add(new Layer(vector(p + "input_layernorm.weight", w.attentionNorm()), wq, wk,
                    copy(p + "self_attn.v_proj.weight", w.wv()), copy(p + "self_attn.o_proj.weight", w.wo()),
                    vector(p + "post_attention_layernorm.weight", w.ffnNorm()), copy(p + "mlp.gate_proj.weight", w.gate()),
                    copy(p + "mlp.up_proj.weight", w.up()), copy(p + "mlp.down_proj.weight", w.down())));
        }
        Param output = weights.output() == weights.tokenEmbedding() ? embedding : copy("lm_head.weight", weights.output());
        return new LlamaParameters(config, embedding, layers, vector("model.norm.weight", weights.finalNorm()), output);
    }

    /** The engine's view of the current values (copied into F32 weights; rows in the interleaved layout). */
    public LlamaWeights toWeights() {
        LinearWeights embeddingWeights = f32(embedding);
        List<LayerWeights> layerWeights = new ArrayList<>();
        for (Layer l : layers) {
            layerWeights.add(new LayerWeights(l.attentionNorm.value().clone(), f32(l.wq), f32(l.wk), f32(l.wv), f32(l.wo),
                    l.ffnNorm.value().clone(), f32(l.gate), f32(l.up), f32(l.down)));
        }
        LinearWeights outputWeights = output == embedding ? embeddingWeights : f32(output);
        return new LlamaWeights(embeddingWeights, layerWeights, finalNorm.value().clone(), outputWeights, false);
    }

    public LlamaConfig config() {
        return config;
    }

    public Param embedding() {
        return embedding;
    }

    public Layer layer(int l) {
        return layers.get(l);
    }

    public Param finalNorm() {
        return finalNorm;
    }

    /** The output head; the embedding itself when tied. */
    public Param output() {
        return output;
    }

    /** Every distinct parameter, adapters last, in a fixed order. */
    public List<Param> all() {
        List<Param> all = new ArrayList<>();
        all.add(embedding);
        for (Layer layer : layers) {
            all.addAll(layer.all());
        }
        all.add(finalNorm);
        if (output != embedding) {
            all.add(output);
        }
        for (LoraAdapter adapter : adapters.values()) {
            all.add(adapter.a());
            all.add(adapter.b());
        }
        return all;
    }

    /** The parameters the optimizer updates. */
    public List<Param> trainable() {
        return all().stream().filter(Param::trainable).toList();
    }

    /**
     * Adds a LoRA adapter of rank {@code rank} to every layer projection whose name ends with one of {@code suffixes}
     * (e.g. {@code "self_attn.q_proj.weight"}).
     */
    public void addLora(List<String> suffixes, int rank, float scale, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Layer layer : layers) {
            for (Param p : layer.all()) {
                if (p.isMatrix() && suffixes.stream().anyMatch(p.name()::endsWith)) {
                    adapters.put(p, LoraAdapter.create(p, rank, scale, random));
                }
            }
        }
    }

    /** The adapter on {@code weight}, or null. */
    public LoraAdapter lora(Param weight) {
        return adapters.get(weight);
    }

    /** Freezes every parameter that is not part of an adapter. */
    public void freezeBase() {
        List<Param> adapterParams = new ArrayList<>();
        adapters.values().forEach(a -> {
            adapterParams.add(a.a());
            adapterParams.add(a.b());
        });
        for (Param p : all()) {
            if (!adapterParams.contains(p)) {
                p.freeze();
            }
        }
    }

    /** Folds every adapter into its weight ({@code W += scale · B · A}) and drops the adapters. */
    public void mergeLora() {
        adapters.forEach((weight, adapter) -> adapter.mergeInto(weight));
        adapters.clear();
    }

    public long count() {
        long count = 0;
        for (Param p : all()) {
            count += p.size();
        }
        return count;
    }

    public void zeroGrad() {
        for (Param p : trainable()) {
            p.zeroGrad();
        }
    }

    private static F32Weights f32(Param p) {
        return F32Weights.of(p.value(), p.rows(), p.cols());
    }

    private static Param normal(String name, int rows, int cols, float std, SplittableRandom random) {
        Param p = new Param(name, rows, cols);
        float[] v = p.value();
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (gaussian(random) * std);
        }
        return p;
    }

    /** A standard normal sample by Box-Muller (SplittableRandom has no nextGaussian of its own on every JDK). */
    static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    private static Param ones(String name, int n) {
        Param p = new Param(name, 1, n);
        java.util.Arrays.fill(p.value(), 1f);
        return p;
    }

    private static Param vector(String name, float[] values) {
        return new Param(name, 1, values.length, values.clone());
    }

    private static Param copy(String name, LinearWeights w) {
        Param p = new Param(name, w.rows(), w.cols());
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, p.value(), r * w.cols());
        }
        return p;
    }

    /** Reorders the rows of each head from the half-split rotary layout to the interleaved one. */
    private static void interleaveRows(Param p, int headDim) {
        float[] v = p.value();
        int cols = p.cols();
        int half = headDim / 2;
        float[] head = new float[headDim * cols];
        for (int h = 0; h < p.rows() / headDim; h++) {
            int base = h * headDim * cols;
            for (int i = 0; i < half; i++) {
                System.arraycopy(v, base + i * cols, head, 2 * i * cols, cols);
                System.arraycopy(v, base + (half + i) * cols, head, (2 * i + 1) * cols, cols);
            }
            System.arraycopy(head, 0, v, base, head.length);
        }
    }
}
