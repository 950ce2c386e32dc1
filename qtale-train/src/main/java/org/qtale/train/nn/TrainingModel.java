package org.qtale.train.nn;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.qtale.adaptive.Router;
import org.qtale.model.LlamaConfig;
import org.qtale.model.Rope;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/**
 * The training forward and backward pass of a LLaMA model over a batch of equal-length sequences. The forward pass
 * computes the engine's function (a test compares the logits) with the engine's vector ops for norms, softmax,
 * SwiGLU and RoPE, and {@link Gemm} for every matrix product; it keeps every activation the backward pass needs. The
 * backward pass walks the same steps in reverse, one explicit {@code backward} per op, and accumulates into the
 * gradients of the trainable parameters.
 *
 * <p>With routers (D-LLM's training form): every layer from the routers' start layer is computed for every row, and
 * its output is mixed as {@code x' = w · out + (1 − w) · x} with the row's hard decision {@code w ∈ {0, 1}} (see
 * {@link Routing}); the same decisions mask the layer's keys after the softmax. The reserved first positions of each
 * sequence always execute. With decisions in {0, 1} a skipped row leaves the layer bit-identical to its input, as
 * the engine's real skipping does.
 */
public final class TrainingModel {
    private final LlamaConfig config;
    private final LlamaParameters params;
    private final RouterParameters routers;
    private final Parallel parallel;
    private Routing routing;
    private float loraDropout;
    private Activations acts;
    private static final int RECENT_SHAPES = 12;
    /** Floats the cached activation sets other than the current one may hold together (1 GiB). */
    private static final long CACHE_FLOATS = 1L << 28;
    private final java.util.ArrayDeque<Activations> recentShapes = new java.util.ArrayDeque<>();

    public TrainingModel(LlamaParameters params, Parallel parallel) {
        this(params, null, parallel);
    }

    /** A model whose layers from {@code routers.config().startLayer()} are routed; {@code routers} may be null. */
    public TrainingModel(LlamaParameters params, RouterParameters routers, Parallel parallel) {
        this.config = params.config();
        this.params = params;
        this.routers = routers;
        this.parallel = parallel;
        if (routers != null && routers.layerCount() != config.nLayers()) {
            throw new IllegalArgumentException("Routers for " + routers.layerCount() + " layers do not fit a model of "
                    + config.nLayers());
        }
        this.routing = routers == null ? new Routing.Dense() : new Routing.Threshold(routers.config().defaultThreshold());
    }

    public RouterParameters routers() {
        return routers;
    }

    /** How routed layers decide from now on (the default is the routers' stored θ, or dense without routers). */
    public void setRouting(Routing routing) {
        this.routing = routing;
    }

    public Routing routing() {
        return routing;
    }

    /**
     * Dropout on the output of every LoRA branch during {@link #lossAndBackward(int[], int[], int[], int, int, float,
     * RoutingObjective) routed training steps} (D-LLM uses 0.05); plain {@link #forward} never drops.
     */
    public void setLoraDropout(float probability) {
        if (!(probability >= 0 && probability < 1)) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + probability);
        }
        this.loraDropout = probability;
    }

    public LlamaParameters parameters() {
        return params;
    }

    /** Logits of every position, {@code [batch · seqLen × vocab]} (a buffer reused by the next call). */
    public float[] forward(int[] tokens, int batch, int seqLen) {
        return forward(tokens, batch, seqLen, false);
    }

    private float[] forward(int[] tokens, int batch, int seqLen, boolean dropout) {
        Activations a = activations(batch, seqLen);
        a.dropoutRandom = dropout && loraDropout > 0 && routing instanceof Routing.Gumbel g
                ? new SplittableRandom(g.seed() ^ DROPOUT_SALT) : null;
        SplittableRandom noise = routing instanceof Routing.Gumbel g ? new SplittableRandom(g.seed()) : null;
        int n = a.n;
        int dim = config.dim();
        for (int t = 0; t < n; t++) {
            int token = tokens[t];
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("Token id " + token + " is outside the vocabulary of " + config.vocabSize() + ".");
            }
            System.arraycopy(params.embedding().value(), token * dim, a.x[0], t * dim, dim);
        }
        for (int l = 0; l < config.nLayers(); l++) {
            boolean routed = routes(l);
            if (routed) {
                decide(l, a, noise);
            }
            attention(l, a, routed ? a.layers[l].gate : null);
            ffn(l, a, routed ? a.layers[l].out : a.x[l + 1]);
            if (routed) {
                mix(l, a);
            }
        }
        float[] last = a.x[config.nLayers()];
        RmsNormOp.forward(parallel, a.finalNormed, a.finalRstd, last, params.finalNorm().value(), n, dim, config.normEps());
        project(params.output(), a.finalNormed, n, a.logits, a);
        return a.logits;
    }

    private static final long DROPOUT_SALT = 0x4C6F_5241_4472_6F70L;

    /** Whether layer l has a router and the routing evaluates it. */
    private boolean routes(int l) {
        return routers != null && routers.layer(l) != null && !(routing instanceof Routing.Dense);
    }

    /**
     * The routed layer's decisions: the router's logit gap for every row, then {@code gate} (1 = execute) by the
     * routing rule, and for Gumbel routing the noise and {@code soft = σ(Δ + g)} the straight-through gradient
     * uses. The reserved first positions of each sequence execute and get no gradient ({@code soft = 1}).
     */
    private void decide(int l, Activations a, SplittableRandom noise) {
        LayerActivations s = a.layers[l];
        RouterOp.forward(parallel, routers.layer(l), a.x[l], a.n, config.normEps(), s.router, s.gap);
        int reserved = routers.config().reservedTokens();
        for (int t = 0; t < a.n; t++) {
            boolean forced = t % a.seqLen < reserved;
            float gap = s.gap[t];
            float g = 0;
            boolean runs;
            if (routing instanceof Routing.Threshold threshold) {
                runs = forced || Router.probability(gap) >= threshold.theta();
            } else {
                g = logisticSample(noise);
                runs = forced || gap + g >= 0;
            }
            s.noise[t] = g;
            s.gate[t] = runs ? 1f : 0f;
            s.soft[t] = forced || !(routing instanceof Routing.Gumbel) ? s.gate[t] : sigmoid(gap + g);
        }
    }

    /** {@code G_exec − G_skip} for two independent Gumbel(0, 1) samples: a Logistic(0, 1) sample {@code ln(u/(1−u))}. */
    private static float logisticSample(SplittableRandom random) {
        double u;
        do {
            u = random.nextDouble();
        } while (u == 0);
        return (float) (Math.log(u) - Math.log1p(-u));
    }

    static float sigmoid(float x) {
        return (float) (1 / (1 + Math.exp(-x)));
    }

    /** {@code x[l+1] = w · out + (1 − w) · x[l]}, row by row with w ∈ {0, 1}: a skipped row is copied bit for bit. */
    private void mix(int l, Activations a) {
        LayerActivations s = a.layers[l];
        int dim = config.dim();
        for (int t = 0; t < a.n; t++) {
            System.arraycopy(s.gate[t] == 1f ? s.out : a.x[l], t * dim, a.x[l + 1], t * dim, dim);
        }
    }

    /** {@code h = x + wo · attend(rope(wq · xn), rope(wk · xn), wv · xn)} with {@code xn = rmsnorm(x)}. */
    private void attention(int l, Activations a, float[] keyMask) {
        LlamaParameters.Layer w = params.layer(l);
        LayerActivations s = a.layers[l];
        int n = a.n;
        int dim = config.dim();
        RmsNormOp.forward(parallel, s.normed1, s.rstd1, a.x[l], w.attentionNorm().value(), n, dim, config.normEps());
        project(w.wq(), s.normed1, n, s.q, a);
        project(w.wk(), s.normed1, n, s.k, a);
        project(w.wv(), s.normed1, n, s.v, a);
        RopeOp.apply(s.q, n, config.nHeads(), config.headDim(), a.seqLen, a.ropeCos, a.ropeSin);
        RopeOp.apply(s.k, n, config.nKvHeads(), config.headDim(), a.seqLen, a.ropeCos, a.ropeSin);
        a.attention.forward(parallel, s.attended, s.probs, s.norms, s.q, s.k, s.v, keyMask);
        project(w.wo(), s.attended, n, s.h, a);
        VectorOps.add(a.x[l], 0, s.h, 0, n * dim);
    }

    /** {@code out = h + down · (silu(gate · hn) ⊙ (up · hn))} with {@code hn = rmsnorm(h)}. */
    private void ffn(int l, Activations a, float[] out) {
        LlamaParameters.Layer w = params.layer(l);
        LayerActivations s = a.layers[l];
        int n = a.n;
        int dim = config.dim();
        int hidden = config.hiddenDim();
        RmsNormOp.forward(parallel, s.normed2, s.rstd2, s.h, w.ffnNorm().value(), n, dim, config.normEps());
        project(w.gate(), s.normed2, n, s.gateProjection, a);
        project(w.up(), s.normed2, n, s.up, a);
        SwiGluOp.forward(parallel, s.activated, s.gateProjection, s.up, n, hidden);
        project(w.down(), s.activated, n, out, a);
        VectorOps.add(s.h, 0, out, 0, n * dim);
    }

    /**
     * Forward, cross-entropy over the targets that are not {@link CrossEntropyOp#IGNORE}, and backward, adding
     * {@code gradScale · ∂(summed loss)/∂θ} to every parameter's gradient.
     *
     * @return the summed loss over the counted positions
     */
    public double lossAndBackward(int[] tokens, int[] targets, int batch, int seqLen, float gradScale) {
        float[] logits = forward(tokens, batch, seqLen);
        Activations a = acts;
        double loss = CrossEntropyOp.lossAndGradient(parallel, logits, targets, a.n, config.vocabSize(), a.dLogits, gradScale);
        clearRoutingGradients(a);
        backward(tokens, a);
        return loss;
    }

    /** The losses of one routed training step and the routing statistics of its batch. */
    public record RoutedStep(double crossEntropySum, double rateLoss, double entropyLoss, RoutingStats stats) {
    }

    /**
     * One routed training step: forward with the current {@link Routing} (Gumbel for training, with LoRA dropout),
     * then the gradient of {@code ceScale · Σ CE + rateWeight · L_rate + entropyWeight · L_entropy} (see
     * {@link RoutingObjective}), added into every trainable parameter's gradient, routers included. Positions at or
     * after {@code lengths[b]} in sequence b are padding: they count in no loss (their targets must be ignored).
     */
    public RoutedStep lossAndBackward(int[] tokens, int[] targets, int[] lengths, int batch, int seqLen, float ceScale,
            RoutingObjective objective) {
        if (routers == null) {
            throw new IllegalStateException("The model has no routers");
        }
        float[] logits = forward(tokens, batch, seqLen, true);
        Activations a = acts;
        double ce = CrossEntropyOp.lossAndGradient(parallel, logits, targets, a.n, config.vocabSize(), a.dLogits, ceScale);
        clearRoutingGradients(a);
        RoutingStats stats = new RoutingStats(config.nLayers(), routers.config().startLayer());
        double[] terms = routingLoss(a, lengths, objective, stats);
        backward(tokens, a);
        return new RoutedStep(ce, terms[0], terms[1], stats);
    }

    /** Layer l's hard decisions of the last forward pass (1 = executed), one per row; null for an unrouted layer. */
    public float[] decisions(int l) {
        return acts.layers[l].gate == null ? null : acts.layers[l].gate.clone();
    }

    /** Layer l's router logit gaps of the last forward pass. */
    public float[] logitGaps(int l) {
        return acts.layers[l].gap == null ? null : acts.layers[l].gap.clone();
    }

    /** Layer l's Gumbel noise {@code g = G_exec − G_skip} of the last forward pass (zero unless Gumbel routing). */
    float[] noise(int l) {
        return acts.layers[l].noise.clone();
    }

    /** Layer l's {@code σ(Δ + g)} of the last forward pass (the hard decision where there is no gradient). */
    float[] softDecisions(int l) {
        return acts.layers[l].soft.clone();
    }

    /** The LoRA dropout multipliers the last forward pass used on {@code weight}'s adapter, or null for none. */
    float[] loraDropoutMask(Param weight) {
        return acts.dropoutMasks.get(weight);
    }

    /** The routing statistics of the last forward pass over the counted tokens of sequences of {@code lengths}. */
    public RoutingStats routingStats(int[] lengths) {
        RoutingStats stats = new RoutingStats(config.nLayers(), routers.config().startLayer());
        routingLoss(acts, lengths, null, stats);
        return stats;
    }

    /**
     * The rate and entropy losses of the last forward pass (zero without an objective), their gradients seeded into
     * each routed layer's {@code dGate} (with respect to the hard decisions) and {@code dGap} (with respect to the
     * logit gaps), and the statistics.
     */
    private double[] routingLoss(Activations a, int[] lengths, RoutingObjective objective, RoutingStats stats) {
        if (lengths.length != a.batch) {
            throw new IllegalArgumentException(lengths.length + " lengths for a batch of " + a.batch);
        }
        int start = routers.config().startLayer();
        int reserved = routers.config().reservedTokens();
        int layers = config.nLayers();
        int counted = 0;
        for (int length : lengths) {
            counted += Math.max(0, Math.min(length, a.seqLen) - reserved);
        }
        if (counted == 0 || start >= layers || !routes(start)) {
            return new double[2];
        }
        int routedLayers = layers - start;
        double rate = 0;
        double entropy = 0;
        for (int b = 0; b < a.batch; b++) {
            for (int i = reserved; i < Math.min(lengths[b], a.seqLen); i++) {
                int t = b * a.seqLen + i;
                double executed = start;
                for (int l = start; l < layers; l++) {
                    LayerActivations s = a.layers[l];
                    executed += s.gate[t];
                    stats.add(l, s.gate[t] == 1f, s.gap[t]);
                    if (objective != null && objective.entropyWeight() > 0) {
                        double gap = s.gap[t];
                        double abs = Math.abs(gap);
                        // H = ln(1 + e^{−|Δ|}) + |Δ|·σ(−|Δ|), dH/dΔ = −Δ·p(1−p)
                        entropy -= Math.log1p(Math.exp(-abs)) + abs / (1 + Math.exp(abs));
                        double p = 1 / (1 + Math.exp(-gap));
                        s.dGap[t] += (float) (objective.entropyWeight() * gap * p * (1 - p) / (counted * routedLayers));
                    }
                }
                double ratio = executed / layers;
                stats.addTokenRatio(ratio);
                if (objective != null) {
                    double deviation = ratio - objective.targetRatio();
                    rate += Math.abs(deviation);
                    float slope = (float) (objective.rateWeight() * Math.signum(deviation) / ((double) layers * counted));
                    for (int l = start; l < layers; l++) {
                        a.layers[l].dGate[t] += slope;
                    }
                }
            }
        }
        return new double[] {rate / counted, entropy / ((double) counted * routedLayers)};
    }

    private void clearRoutingGradients(Activations a) {
        for (LayerActivations s : a.layers) {
            if (s.dGate != null) {
                Arrays.fill(s.dGate, 0f);
                Arrays.fill(s.dGap, 0f);
            }
        }
    }

    /** The summed cross-entropy over the counted positions, forward only. */
    public double loss(int[] tokens, int[] targets, int batch, int seqLen) {
        float[] logits = forward(tokens, batch, seqLen);
        return CrossEntropyOp.lossAndGradient(parallel, logits, targets, acts.n, config.vocabSize(), null, 0);
    }

    private void backward(int[] tokens, Activations a) {
        int n = a.n;
        int dim = config.dim();
        float[] dx = a.dResidual;
        zero(dx, a.dNormed);
        Param output = params.output();
        projectBackward(output, a.dLogits, a.finalNormed, n, a.dNormed, a);
        RmsNormOp.backward(parallel, dx, gradientOf(params.finalNorm()), a.dNormed, a.x[config.nLayers()], a.finalRstd,
                params.finalNorm().value(), n, dim);
        for (int l = config.nLayers() - 1; l >= 0; l--) {
            boolean routed = routes(l);
            if (routed) {
                unmixBackward(l, a);
            }
            ffnBackward(l, a);
            attentionBackward(l, a, routed);
            if (routed) {
                routerBackward(l, a);
            }
        }
        if (params.embedding().trainable()) {
            float[] dEmbedding = params.embedding().grad();
            for (int t = 0; t < n; t++) {
                VectorOps.add(dx, t * dim, dEmbedding, tokens[t] * dim, dim);
            }
        }
    }

    /**
     * Through {@code x' = w · out + (1 − w) · x}: {@code ∂L/∂w += Σ_d ∂L/∂x' · (out − x)}, the skip path's share
     * {@code (1 − w) · ∂L/∂x'} set aside for x, and {@code dResidual} turned into {@code ∂L/∂out = w · ∂L/∂x'}.
     */
    private void unmixBackward(int l, Activations a) {
        LayerActivations s = a.layers[l];
        int dim = config.dim();
        float[] dNext = a.dResidual;
        float[] x = a.x[l];
        parallel.forRange(a.n, (start, end) -> {
            for (int t = start; t < end; t++) {
                int o = t * dim;
                double dw = 0;
                for (int d = 0; d < dim; d++) {
                    dw += (double) dNext[o + d] * (s.out[o + d] - x[o + d]);
                }
                s.dGate[t] += (float) dw;
                float w = s.gate[t];
                for (int d = 0; d < dim; d++) {
                    a.dSkip[o + d] = (1 - w) * dNext[o + d];
                    dNext[o + d] *= w;
                }
            }
        });
    }

    /**
     * Adds the skip path's gradient back into ∂L/∂x, then sends {@code ∂L/∂Δ} through the router: straight-through,
     * {@code ∂L/∂w · σ'(Δ + g)} (zero for reserved rows), plus the entropy term's direct gradient.
     */
    private void routerBackward(int l, Activations a) {
        LayerActivations s = a.layers[l];
        VectorOps.add(a.dSkip, 0, a.dResidual, 0, a.n * config.dim());
        float[] dGap = new float[a.n];
        for (int t = 0; t < a.n; t++) {
            float soft = s.soft[t];
            dGap[t] = s.dGate[t] * soft * (1 - soft) + s.dGap[t];
        }
        RouterOp.backward(parallel, routers.layer(l), dGap, a.x[l], a.n, s.router, a.dResidual);
    }

    /** {@code y = W x}, plus W's LoRA branch if it has one (its {@code A x} kept for the backward pass). */
    private void project(Param w, float[] x, int n, float[] y, Activations a) {
        LoraAdapter lora = params.lora(w);
        if (lora == null) {
            LinearOp.forward(parallel, w, null, x, n, y, null, null);
            return;
        }
        float[] keep = null;
        if (a.dropoutRandom != null) {
            keep = a.dropoutMask(w);
            float scale = 1 / (1 - loraDropout);
            for (int i = 0; i < keep.length; i++) {
                keep[i] = a.dropoutRandom.nextDouble() < loraDropout ? 0f : scale;
            }
        } else {
            a.dropoutMasks.remove(w);
        }
        LinearOp.forward(parallel, w, lora, x, n, y, a.loraHidden(w, lora.rank()), keep);
    }

    private void projectBackward(Param w, float[] dy, float[] x, int n, float[] dx, Activations a) {
        LoraAdapter lora = params.lora(w);
        LinearOp.backward(parallel, w, lora, dy, x, n, dx, lora == null ? null : a.loraHidden(w, lora.rank()),
                lora == null ? null : a.dropoutMasks.get(w));
    }

    /** On entry {@code dResidual} holds ∂L/∂x'; on exit ∂L/∂h. */
    private void ffnBackward(int l, Activations a) {
        LlamaParameters.Layer w = params.layer(l);
        LayerActivations s = a.layers[l];
        int n = a.n;
        int dim = config.dim();
        int hidden = config.hiddenDim();
        float[] dOut = a.dResidual;
        zero(a.dActivated, a.dGate, a.dUp, a.dNormed);
        projectBackward(w.down(), dOut, s.activated, n, a.dActivated, a);
        SwiGluOp.backward(parallel, a.dGate, a.dUp, a.dActivated, s.gateProjection, s.up, n, hidden);
        projectBackward(w.gate(), a.dGate, s.normed2, n, a.dNormed, a);
        projectBackward(w.up(), a.dUp, s.normed2, n, a.dNormed, a);
        // dh = dx' (residual) + the norm's share
        RmsNormOp.backward(parallel, dOut, gradientOf(w.ffnNorm()), a.dNormed, s.h, s.rstd2, w.ffnNorm().value(), n, dim);
    }

    /**
     * On entry {@code dResidual} holds ∂L/∂h; on exit ∂L/∂x. A routed layer's key mask (its decisions) gets its
     * gradient added to {@code dGate}.
     */
    private void attentionBackward(int l, Activations a, boolean routed) {
        LlamaParameters.Layer w = params.layer(l);
        LayerActivations s = a.layers[l];
        int n = a.n;
        int dim = config.dim();
        float[] dh = a.dResidual;
        zero(a.dAttended, a.dq, a.dk, a.dv, a.dNormed);
        projectBackward(w.wo(), dh, s.attended, n, a.dAttended, a);
        float[] keyMask = routed ? s.gate : null;
        a.attention.backward(parallel, a.dq, a.dk, a.dv, routed ? s.dGate : null, a.dAttended, s.probs, s.norms, s.q,
                s.k, s.v, keyMask);
        RopeOp.apply(a.dq, n, config.nHeads(), config.headDim(), a.seqLen, a.ropeCos, a.ropeSinBackward);
        RopeOp.apply(a.dk, n, config.nKvHeads(), config.headDim(), a.seqLen, a.ropeCos, a.ropeSinBackward);
        projectBackward(w.wq(), a.dq, s.normed1, n, a.dNormed, a);
        projectBackward(w.wk(), a.dk, s.normed1, n, a.dNormed, a);
        projectBackward(w.wv(), a.dv, s.normed1, n, a.dNormed, a);
        RmsNormOp.backward(parallel, dh, gradientOf(w.attentionNorm()), a.dNormed, a.x[l], s.rstd1, w.attentionNorm().value(), n, dim);
    }

    /** Zeroes the arrays in one parallel pass, each split into the same number of slices. */
    private void zero(float[]... arrays) {
        int slices = 64;
        parallel.forRange(slices, (start, end) -> {
            for (float[] array : arrays) {
                int from = (int) ((long) array.length * start / slices);
                int to = (int) ((long) array.length * end / slices);
                Arrays.fill(array, from, to, 0f);
            }
        });
    }

    private static float[] gradientOf(Param p) {
        return p.trainable() ? p.grad() : null;
    }

    private long cachedFloats() {
        long total = 0;
        for (Activations c : recentShapes) {
            total += Activations.floats(config, routers, c.batch, c.seqLen);
        }
        return total;
    }

    private Activations activations(int batch, int seqLen) {
        if (seqLen > config.contextLength()) {
            throw new IllegalArgumentException("Sequences of " + seqLen + " tokens exceed the context of "
                    + config.contextLength() + ".");
        }
        if (acts == null || acts.batch != batch || acts.seqLen != seqLen) {
            // a few shapes stay allocated (fine-tuning pads batches to a handful of lengths), within a memory budget
            Activations cached = null;
            for (Activations c : recentShapes) {
                if (c.batch == batch && c.seqLen == seqLen) {
                    cached = c;
                }
            }
            if (cached == null) {
                acts = null;
                long needed = Activations.floats(config, routers, batch, seqLen);
                while (!recentShapes.isEmpty() && (recentShapes.size() >= RECENT_SHAPES
                        || cachedFloats() + needed > CACHE_FLOATS)) {
                    recentShapes.removeFirst();
                }
                cached = new Activations(config, routers, batch, seqLen);
            } else {
                recentShapes.remove(cached);
            }
            recentShapes.addLast(cached);
            acts = cached;
        }
        return acts;
    }

    /** What one layer's forward pass keeps for the backward pass. */
    private static final class LayerActivations {
        final float[] normed1;
        final float[] rstd1;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] probs;
        final float[] norms;
        final float[] attended;
        final float[] h;
        final float[] normed2;
        final float[] rstd2;
        final float[] gateProjection;
        final float[] up;
        final float[] activated;
        // routed layers only (null otherwise): the router's activations, logit gaps, noise, hard decisions
        // (1 = execute), σ(Δ + g), the block's output before mixing, and the routing losses' gradients
        final RouterOp.Saved router;
        final float[] gap;
        final float[] noise;
        final float[] gate;
        final float[] soft;
        final float[] out;
        final float[] dGate;
        final float[] dGap;

        LayerActivations(LlamaConfig c, int n, AttentionOp attention, RouterParameters.Layer routerParams) {
            normed1 = new float[n * c.dim()];
            rstd1 = new float[n];
            q = new float[n * c.qDim()];
            k = new float[n * c.kvDim()];
            v = new float[n * c.kvDim()];
            probs = new float[attention.probsSize()];
            norms = new float[attention.normsSize()];
            attended = new float[n * c.qDim()];
            h = new float[n * c.dim()];
            normed2 = new float[n * c.dim()];
            rstd2 = new float[n];
            gateProjection = new float[n * c.hiddenDim()];
            up = new float[n * c.hiddenDim()];
            activated = new float[n * c.hiddenDim()];
            boolean routed = routerParams != null;
            router = routed ? new RouterOp.Saved(n, routerParams.width()) : null;
            gap = routed ? new float[n] : null;
            noise = routed ? new float[n] : null;
            gate = routed ? new float[n] : null;
            soft = routed ? new float[n] : null;
            out = routed ? new float[n * c.dim()] : null;
            dGate = routed ? new float[n] : null;
            dGap = routed ? new float[n] : null;
        }
    }

    /** Activations of a whole batch plus the gradient buffers the backward pass reuses layer after layer. */
    private static final class Activations {
        final int batch;
        final int seqLen;
        final int n;
        final AttentionOp attention;
        final float[] ropeCos;
        final float[] ropeSin;
        final float[] ropeSinBackward;
        /** x[l] is the residual stream entering layer l; x[layers] leaves the last one. */
        final float[][] x;
        final LayerActivations[] layers;
        final float[] finalNormed;
        final float[] finalRstd;
        final float[] logits;
        final float[] dLogits;
        final float[] dResidual;
        final float[] dNormed;
        final float[] dAttended;
        final float[] dq;
        final float[] dk;
        final float[] dv;
        final float[] dGate;
        final float[] dUp;
        final float[] dActivated;
        /** ∂L/∂x through a routed layer's skip path, set aside during its backward pass. */
        final float[] dSkip;
        private final java.util.Map<Param, float[]> loraHidden = new java.util.HashMap<>();
        final java.util.Map<Param, float[]> dropoutMasks = new java.util.HashMap<>();
        /** The source of this forward pass's LoRA dropout masks, or null for none. */
        SplittableRandom dropoutRandom;

        /** The LoRA dropout multipliers (0 or {@code 1/(1−p)}) of the branch on {@code weight}. */
        float[] dropoutMask(Param weight) {
            return dropoutMasks.computeIfAbsent(weight, w -> new float[n * w.rows()]);
        }

        /** The {@code A x} rows of the adapter on {@code weight}. */
        float[] loraHidden(Param weight, int rank) {
            return loraHidden.computeIfAbsent(weight, w -> new float[n * rank]);
        }

        /** About how many floats an activation set of this shape holds (the large arrays). */
        static long floats(LlamaConfig c, RouterParameters routers, int batch, int seqLen) {
            long n = (long) batch * seqLen;
            long perLayer = n * (4L * c.dim() + 3L * c.qDim() + 2L * c.kvDim() + 3L * c.hiddenDim())
                    + (long) batch * c.nHeads() * seqLen * seqLen;
            if (routers != null) {
                perLayer += n * (c.dim() + 3L * routers.config().width());
            }
            return c.nLayers() * perLayer + (c.nLayers() + 1) * n * c.dim()
                    + 2 * n * c.vocabSize() + n * (6L * c.dim() + 3L * c.hiddenDim() + 4L * c.qDim());
        }

        Activations(LlamaConfig c, RouterParameters routers, int batch, int seqLen) {
            this.batch = batch;
            this.seqLen = seqLen;
            this.n = batch * seqLen;
            // with a reserved first position every row keeps a key, so the mask needs no ε and then computes what
            // the engine's eviction does; the smallest normal float only keeps 0/0 out when the kept keys' share
            // underflows
            boolean keyAlwaysKept = routers != null && routers.config().reservedTokens() > 0;
            attention = new AttentionOp(batch, seqLen, c.nHeads(), c.nKvHeads(), c.headDim(),
                    keyAlwaysKept ? Float.MIN_NORMAL : AttentionOp.MASK_EPSILON);
            ropeCos = new float[seqLen * c.headDim()];
            ropeSin = new float[seqLen * c.headDim()];
            new Rope(c).tables(0, seqLen, ropeCos, ropeSin);
            ropeSinBackward = RopeOp.negated(ropeSin);
            x = new float[c.nLayers() + 1][n * c.dim()];
            layers = new LayerActivations[c.nLayers()];
            for (int l = 0; l < layers.length; l++) {
                layers[l] = new LayerActivations(c, n, attention, routers == null ? null : routers.layer(l));
            }
            finalNormed = new float[n * c.dim()];
            finalRstd = new float[n];
            logits = new float[n * c.vocabSize()];
            dLogits = new float[n * c.vocabSize()];
            dResidual = new float[n * c.dim()];
            dNormed = new float[n * c.dim()];
            dAttended = new float[n * c.qDim()];
            dq = new float[n * c.qDim()];
            dk = new float[n * c.kvDim()];
            dv = new float[n * c.kvDim()];
            dGate = new float[n * c.hiddenDim()];
            dUp = new float[n * c.hiddenDim()];
            dActivated = new float[n * c.hiddenDim()];
            dSkip = routers == null ? null : new float[n * c.dim()];
        }
    }
}
