package org.qtale.model;

import org.qtale.format.RotaryLayout;

import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.ExecutionTrace;
import org.qtale.adaptive.Router;
import org.qtale.adaptive.RouterSet;
import org.qtale.tensor.Linear;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/**
 * A LLaMA-family decoder: token embedding, then per layer {@code x += attention(rmsnorm(x))} and {@code x +=
 * ffn(rmsnorm(x))}, then a final RMSNorm and the output head. Prompts run in batches (prefill); generation runs one
 * token at a time (decode) over the same code.
 */
public final class LlamaModel implements AutoCloseable {
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final Rope rope;
    private final AutoCloseable resources;
    private final RouterSet routers;

    /**
     * @param resources released by {@link #close()} (the arena of memory-mapped files), or null
     */
    public LlamaModel(LlamaConfig config, LlamaWeights weights, AutoCloseable resources) {
        this(config, weights, resources, null);
    }

    /**
     * @param routers D-LLM routers in front of the routed layers, or null for a dense model
     */
    public LlamaModel(LlamaConfig config, LlamaWeights weights, AutoCloseable resources, RouterSet routers) {
        if (weights.layers().size() != config.nLayers()) {
            throw new QtaleException("The configuration names " + config.nLayers() + " layers but the checkpoint has "
                    + weights.layers().size() + ".");
        }
        this.config = config;
        this.weights = weights;
        this.rope = new Rope(config);
        this.resources = resources;
        this.routers = routers;
        if (routers != null && routers.routers().length != config.nLayers()) {
            throw new QtaleException("The model has " + config.nLayers() + " layers but " + routers.routers().length
                    + " router slots.");
        }
    }

    /** The routers, or null for a dense model. */
    public RouterSet routers() {
        return routers;
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    /** A fresh state for a sequence of up to {@code capacity} positions, prefilled {@code maxBatch} tokens at a time. */
    public InferenceState newState(Parallel parallel, int capacity, int maxBatch) {
        InferenceState state = new InferenceState(config, parallel, capacity, maxBatch);
        if (routers != null) {
            state.policy = ExecutionPolicy.threshold(routers.config().defaultThreshold());
            state.trace = new ExecutionTrace(config.nLayers(), routers.config().startLayer());
        }
        return state;
    }

    /**
     * Runs {@code count} tokens through the model at the state's next positions, in batches of the state's
     * {@code maxBatch}, and appends them to its KV cache.
     *
     * @return the logits after the last token (the state's buffer, valid until the next call), or null if
     *     {@code wantLogits} is false
     */
    public float[] forward(InferenceState s, int[] tokens, int from, int count, boolean wantLogits) {
        requireCapacity(s, count);
        for (int done = 0; done < count; done += s.maxBatch) {
            int batch = Math.min(s.maxBatch, count - done);
            layers(s, tokens, from + done, batch);
        }
        if (!wantLogits || count == 0) {
            return null;
        }
        int dim = config.dim();
        int lastRow = (count - 1) % s.maxBatch; // the last batch's last row
        VectorOps.rmsNorm(s.xb, 0, s.x, lastRow * dim, weights.finalNorm(), config.normEps(), dim);
        weights.output().apply(s.parallel, s.xb, 1, s.logits);
        return s.logits;
    }

    /**
     * Like {@link #forward}, with the logits of every position: the same batched prefill (policy, layer skipping and
     * trace included), then the final norm and the output head over all rows of each batch.
     *
     * @param logits receives {@code count × vocabSize} floats, row {@code i} being the logits after token
     *     {@code tokens[from + i]}
     */
    public void forwardAll(InferenceState s, int[] tokens, int from, int count, float[] logits) {
        requireCapacity(s, count);
        int vocab = config.vocabSize();
        if (logits.length < (long) count * vocab) {
            throw new QtaleException("The logits buffer holds " + logits.length + " floats but " + count + " positions need "
                    + (long) count * vocab + ".");
        }
        int dim = config.dim();
        float[] rows = count <= s.maxBatch ? logits : new float[s.maxBatch * vocab];
        for (int done = 0; done < count; done += s.maxBatch) {
            int batch = Math.min(s.maxBatch, count - done);
            layers(s, tokens, from + done, batch);
            for (int t = 0; t < batch; t++) {
                VectorOps.rmsNorm(s.xb, t * dim, s.x, t * dim, weights.finalNorm(), config.normEps(), dim);
            }
            weights.output().apply(s.parallel, s.xb, batch, rows);
            if (rows != logits) {
                System.arraycopy(rows, 0, logits, done * vocab, batch * vocab);
            }
        }
    }

    private static void requireCapacity(InferenceState s, int count) {
        if (s.position + count > s.capacity()) {
            throw new QtaleException("The sequence needs " + (s.position + count) + " positions but the context holds "
                    + s.capacity() + ".");
        }
    }

    /** Runs one batch of at most {@code maxBatch} tokens through every layer, leaving their residual streams in x. */
    private void layers(InferenceState s, int[] tokens, int from, int batch) {
        int dim = config.dim();
        for (int t = 0; t < batch; t++) {
            int token = tokens[from + t];
            if (token < 0 || token >= config.vocabSize()) {
                throw new QtaleException("Token id " + token + " is outside the vocabulary of " + config.vocabSize() + ".");
            }
            weights.tokenEmbedding().copyRow(token, s.x, t * dim);
        }
        rope.tables(s.position, batch, s.ropeCos, s.ropeSin);
        int firstTraced = s.trace == null ? -1 : s.trace.tokens();
        if (s.trace != null) {
            for (int t = 0; t < batch; t++) {
                s.trace.addToken();
            }
        }
        for (int layer = 0; layer < config.nLayers(); layer++) {
            int running = decide(layer, s, batch, firstTraced);
            if (s.trace != null) {
                countFlops(layer, s, batch);
            }
            if (running == 0) {
                continue;
            }
            if (running == batch) {
                for (int t = 0; t < batch; t++) {
                    s.batchRow[t] = t;
                }
                attention(layer, s, batch);
                ffn(layer, s, batch);
                continue;
            }
            // only the rows that execute go through the layer: pack them to the front, run, put them back; a
            // skipping row leaves the layer with its input unchanged, bit for bit
            System.arraycopy(s.x, 0, s.saved, 0, batch * dim);
            int packed = 0;
            for (int t = 0; t < batch; t++) {
                if (s.runs[t]) {
                    s.batchRow[packed] = t;
                    System.arraycopy(s.saved, t * dim, s.x, packed * dim, dim);
                    packed++;
                }
            }
            attention(layer, s, running);
            ffn(layer, s, running);
            for (int i = running - 1; i >= 0; i--) {
                System.arraycopy(s.x, i * dim, s.x, s.batchRow[i] * dim, dim);
            }
            for (int t = 0; t < batch; t++) {
                if (!s.runs[t]) {
                    System.arraycopy(s.saved, t * dim, s.x, t * dim, dim);
                }
            }
        }
        s.position += batch;
    }

    /**
     * Adds to the trace the multiply-adds (x2) of this layer's matrices for the rows that run, and of its router for
     * the rows it was evaluated on, against the dense model's.
     */
    private void countFlops(int layer, InferenceState s, int batch) {
        LayerWeights w = weights.layers().get(layer);
        double layerFlops = 2.0 * ((double) w.wq().rows() * w.wq().cols() + (double) w.wk().rows() * w.wk().cols()
                + (double) w.wv().rows() * w.wv().cols() + (double) w.wo().rows() * w.wo().cols()
                + (double) w.gate().rows() * w.gate().cols() + (double) w.up().rows() * w.up().cols()
                + (double) w.down().rows() * w.down().cols());
        Router router = routers.router(layer);
        double routerFlops = router == null || s.policy instanceof ExecutionPolicy.Dense ? 0
                : 2.0 * (router.width() * (double) config.dim() + 2.0 * router.width());
        for (int t = 0; t < batch; t++) {
            s.trace.addFlops((s.runs[t] ? layerFlops : 0) + routerFlops, layerFlops);
        }
    }

    /**
     * Decides for every row of the batch whether it executes {@code layer} (into {@code s.runs}) and returns how many
     * do. Layers without a router, the reserved first positions and a dense policy always execute.
     */
    private int decide(int layer, InferenceState s, int batch, int firstTraced) {
        Router router = routers == null ? null : routers.router(layer);
        boolean routed = router != null && !(s.policy instanceof ExecutionPolicy.Dense);
        int running = 0;
        float[] hidden = routed ? new float[router.width()] : null;
        float[] lanes = routed ? VectorOps.laneScratch() : null;
        for (int t = 0; t < batch; t++) {
            boolean runs = true;
            if (routed && s.position + t >= routers.config().reservedTokens()) {
                float gap = router.logitGap(s.x, t * config.dim(), hidden, lanes);
                runs = s.policy.executes(layer, s.position + t, Router.probability(gap));
            }
            s.runs[t] = runs;
            s.cache.setExecuted(layer, s.position + t, runs);
            if (s.trace != null) {
                s.trace.record(firstTraced + t, layer, runs);
            }
            if (runs) {
                running++;
            }
        }
        return running;
    }

    /** {@code x += wo · attend(rope(wq · h), rope(wk · h), wv · h)} with {@code h = rmsnorm(x)}, for each token. */
    private void attention(int layer, InferenceState s, int batch) {
        LayerWeights w = weights.layers().get(layer);
        int dim = config.dim();
        int headDim = config.headDim();
        int kvDim = config.kvDim();
        for (int t = 0; t < batch; t++) {
            VectorOps.rmsNorm(s.xb, t * dim, s.x, t * dim, w.attentionNorm(), config.normEps(), dim);
        }
        Linear.applyAll(s.parallel, s.xb, batch, new LinearWeights[] {w.wq(), w.wk(), w.wv()},
                new float[][] {s.q, s.k, s.v});
        if (weights.qkHalfSplit()) {
            RotaryLayout.interleavePairs(s.q, batch * config.nHeads(), headDim, s.scratch);
            RotaryLayout.interleavePairs(s.k, batch * config.nKvHeads(), headDim, s.scratch);
        }
        for (int t = 0; t < batch; t++) {
            int table = s.batchRow[t] * headDim;
            for (int h = 0; h < config.nHeads(); h++) {
                VectorOps.rope(s.q, t * config.qDim() + h * headDim, s.ropeCos, s.ropeSin, table, headDim);
            }
            for (int h = 0; h < config.nKvHeads(); h++) {
                VectorOps.rope(s.k, t * kvDim + h * headDim, s.ropeCos, s.ropeSin, table, headDim);
            }
        }
        float[] keyCache = s.cache.keys(layer);
        float[] valueCache = s.cache.values(layer);
        for (int t = 0; t < batch; t++) {
            int position = s.position + s.batchRow[t];
            System.arraycopy(s.k, t * kvDim, keyCache, position * kvDim, kvDim);
            System.arraycopy(s.v, t * kvDim, valueCache, position * kvDim, kvDim);
        }

        int[][] visible = routers == null ? null : visiblePositions(layer, s, batch);
        int heads = config.nHeads();
        s.parallel.forRange(batch * heads, (start, end) -> {
            for (int i = start; i < end; i++) {
                int t = i / heads;
                attendOneHead(s, keyCache, valueCache, visible == null ? null : visible[t], t, i % heads);
            }
        });
        w.wo().apply(s.parallel, s.attention, batch, s.xb);
        VectorOps.add(s.xb, 0, s.x, 0, batch * dim);
    }

    /**
     * For each computed row, the positions up to its own that executed {@code layer}: the keys its queries may see
     * (D-LLM's eviction rule; the row's own position is among them, since only executing rows are computed).
     */
    private static int[][] visiblePositions(int layer, InferenceState s, int batch) {
        int[][] visible = new int[batch][];
        for (int t = 0; t < batch; t++) {
            int positions = s.position + s.batchRow[t] + 1;
            int[] list = new int[positions];
            int count = 0;
            for (int p = 0; p < positions; p++) {
                if (s.cache.executed(layer, p)) {
                    list[count++] = p;
                }
            }
            visible[t] = java.util.Arrays.copyOf(list, count);
        }
        return visible;
    }

    /**
     * Causal softmax attention of one query head of computed row {@code t} over {@code visible} positions, or over
     * every position up to its own when {@code visible} is null (a model without routers).
     */
    private void attendOneHead(InferenceState s, float[] keyCache, float[] valueCache, int[] visible, int t, int head) {
        int headDim = config.headDim();
        int kvDim = config.kvDim();
        int kvHead = head / (config.nHeads() / config.nKvHeads());
        int queryOffset = t * config.qDim() + head * headDim;
        int count = visible == null ? s.position + s.batchRow[t] + 1 : visible.length;
        float[] scores = new float[count];
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] lanes = VectorOps.laneScratch();
        for (int i = 0; i < count; i++) {
            int p = visible == null ? i : visible[i];
            scores[i] = VectorOps.dot(s.q, queryOffset, keyCache, p * kvDim + kvHead * headDim, headDim, lanes) * scale;
        }
        VectorOps.softmax(scores, 0, count);
        java.util.Arrays.fill(s.attention, queryOffset, queryOffset + headDim, 0f);
        for (int i = 0; i < count; i++) {
            int p = visible == null ? i : visible[i];
            VectorOps.axpy(scores[i], valueCache, p * kvDim + kvHead * headDim, s.attention, queryOffset, headDim);
        }
    }

    /** {@code x += down · (silu(gate · h) ⊙ (up · h))} with {@code h = rmsnorm(x)}, for each token. */
    private void ffn(int layer, InferenceState s, int batch) {
        LayerWeights w = weights.layers().get(layer);
        int dim = config.dim();
        for (int t = 0; t < batch; t++) {
            VectorOps.rmsNorm(s.xb, t * dim, s.x, t * dim, w.ffnNorm(), config.normEps(), dim);
        }
        Linear.applyAll(s.parallel, s.xb, batch, new LinearWeights[] {w.gate(), w.up()},
                new float[][] {s.hidden, s.hidden2});
        VectorOps.swiGlu(s.hidden, s.hidden2, batch * config.hiddenDim());
        w.down().apply(s.parallel, s.hidden, batch, s.xb);
        VectorOps.add(s.xb, 0, s.x, 0, batch * dim);
    }

    @Override
    public void close() {
        if (resources != null) {
            try {
                resources.close();
            } catch (Exception e) {
                throw new IllegalStateException("Could not release the model's memory", e);
            }
        }
    }
}
