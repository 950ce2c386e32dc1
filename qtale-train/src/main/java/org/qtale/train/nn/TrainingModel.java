package org.qtale.train.nn;

import java.util.Arrays;
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
 */
public final class TrainingModel {
    private final LlamaConfig config;
    private final LlamaParameters params;
    private final Parallel parallel;
    private Activations acts;

    public TrainingModel(LlamaParameters params, Parallel parallel) {
        this.config = params.config();
        this.params = params;
        this.parallel = parallel;
    }

    public LlamaParameters parameters() {
        return params;
    }

    /** Logits of every position, {@code [batch · seqLen × vocab]} (a buffer reused by the next call). */
    public float[] forward(int[] tokens, int batch, int seqLen) {
        Activations a = activations(batch, seqLen);
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
            attention(l, a);
            ffn(l, a);
        }
        float[] last = a.x[config.nLayers()];
        RmsNormOp.forward(parallel, a.finalNormed, a.finalRstd, last, params.finalNorm().value(), n, dim, config.normEps());
        project(params.output(), a.finalNormed, n, a.logits, a);
        return a.logits;
    }

    /** {@code h = x + wo · attend(rope(wq · xn), rope(wk · xn), wv · xn)} with {@code xn = rmsnorm(x)}. */
    private void attention(int l, Activations a) {
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
        a.attention.forward(parallel, s.attended, s.probs, s.norms, s.q, s.k, s.v, null);
        project(w.wo(), s.attended, n, s.h, a);
        VectorOps.add(a.x[l], 0, s.h, 0, n * dim);
    }

    /** {@code x' = h + down · (silu(gate · hn) ⊙ (up · hn))} with {@code hn = rmsnorm(h)}. */
    private void ffn(int l, Activations a) {
        LlamaParameters.Layer w = params.layer(l);
        LayerActivations s = a.layers[l];
        int n = a.n;
        int dim = config.dim();
        int hidden = config.hiddenDim();
        RmsNormOp.forward(parallel, s.normed2, s.rstd2, s.h, w.ffnNorm().value(), n, dim, config.normEps());
        project(w.gate(), s.normed2, n, s.gate, a);
        project(w.up(), s.normed2, n, s.up, a);
        SwiGluOp.forward(parallel, s.activated, s.gate, s.up, n, hidden);
        float[] out = a.x[l + 1];
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
        backward(tokens, a);
        return loss;
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
            ffnBackward(l, a);
            attentionBackward(l, a);
        }
        if (params.embedding().trainable()) {
            float[] dEmbedding = params.embedding().grad();
            for (int t = 0; t < n; t++) {
                VectorOps.add(dx, t * dim, dEmbedding, tokens[t] * dim, dim);
            }
        }
    }

    /** {@code y = W x}, plus W's LoRA branch if it has one (its {@code A x} kept for the backward pass). */
    private void project(Param w, float[] x, int n, float[] y, Activations a) {
        LoraAdapter lora = params.lora(w);
        LinearOp.forward(parallel, w, lora, x, n, y, lora == null ? null : a.loraHidden(w, lora.rank()));
    }

    private void projectBackward(Param w, float[] dy, float[] x, int n, float[] dx, Activations a) {
        LoraAdapter lora = params.lora(w);
        LinearOp.backward(parallel, w, lora, dy, x, n, dx, lora == null ? null : a.loraHidden(w, lora.rank()));
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
        SwiGluOp.backward(parallel, a.dGate, a.dUp, a.dActivated, s.gate, s.up, n, hidden);
        projectBackward(w.gate(), a.dGate, s.normed2, n, a.dNormed, a);
        projectBackward(w.up(), a.dUp, s.normed2, n, a.dNormed, a);
        // dh = dx' (residual) + the norm's share
        RmsNormOp.backward(parallel, dOut, gradientOf(w.ffnNorm()), a.dNormed, s.h, s.rstd2, w.ffnNorm().value(), n, dim);
    }

    /** On entry {@code dResidual} holds ∂L/∂h; on exit ∂L/∂x. */
    private void attentionBackward(int l, Activations a) {
        LlamaParameters.Layer w = params.layer(l);
        LayerActivations s = a.layers[l];
        int n = a.n;
        int dim = config.dim();
        float[] dh = a.dResidual;
        zero(a.dAttended, a.dq, a.dk, a.dv, a.dNormed);
        projectBackward(w.wo(), dh, s.attended, n, a.dAttended, a);
        a.attention.backward(parallel, a.dq, a.dk, a.dv, null, a.dAttended, s.probs, s.norms, s.q, s.k, s.v, null);
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

    private Activations activations(int batch, int seqLen) {
        if (seqLen > config.contextLength()) {
            throw new IllegalArgumentException("Sequences of " + seqLen + " tokens exceed the context of "
                    + config.contextLength() + ".");
        }
        if (acts == null || acts.batch != batch || acts.seqLen != seqLen) {
            acts = null; // let the old buffers go before allocating new ones
            acts = new Activations(config, batch, seqLen);
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
        final float[] gate;
        final float[] up;
        final float[] activated;

        LayerActivations(LlamaConfig c, int n, AttentionOp attention) {
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
            gate = new float[n * c.hiddenDim()];
            up = new float[n * c.hiddenDim()];
            activated = new float[n * c.hiddenDim()];
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
        private final java.util.Map<Param, float[]> loraHidden = new java.util.HashMap<>();

        /** The {@code A x} rows of the adapter on {@code weight}. */
        float[] loraHidden(Param weight, int rank) {
            return loraHidden.computeIfAbsent(weight, w -> new float[n * rank]);
        }

        Activations(LlamaConfig c, int batch, int seqLen) {
            this.batch = batch;
            this.seqLen = seqLen;
            this.n = batch * seqLen;
            attention = new AttentionOp(batch, seqLen, c.nHeads(), c.nKvHeads(), c.headDim());
            ropeCos = new float[seqLen * c.headDim()];
            ropeSin = new float[seqLen * c.headDim()];
            new Rope(c).tables(0, seqLen, ropeCos, ropeSin);
            ropeSinBackward = RopeOp.negated(ropeSin);
            x = new float[c.nLayers() + 1][n * c.dim()];
            layers = new LayerActivations[c.nLayers()];
            for (int l = 0; l < layers.length; l++) {
                layers[l] = new LayerActivations(c, n, attention);
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
        }
    }
}
