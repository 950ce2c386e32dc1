package org.qtale.train.nn;

import org.qtale.format.RotaryLayout;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.Rope;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/**
 * One decoder layer, forward only, over {@code batch} sequences of {@code seqLen} tokens, with the engine's weights in
 * whatever format they are stored (float, 16-bit or quantized), showing the input of each group of projections as it
 * goes: what post-training quantization calibrates on. Running every layer in turn, then the final norm and the
 * output head, gives the engine's logits (a test checks it).
 */
public final class DecoderLayerPass {
    /** The layer's projections, grouped by the input they share. */
    public enum Inputs {
        /** q, k and v read the attention norm's output. */
        QKV,
        /** o reads the attention heads' output. */
        O,
        /** gate and up read the FFN norm's output. */
        GATE_UP,
        /** down reads {@code silu(gate) ⊙ up}. */
        DOWN
    }

    /** Receives {@code n} rows of width {@code width} that feed one group of projections. */
    public interface InputSink {
        void accept(Inputs group, float[] x, int n, int width);
    }

    private final LlamaConfig config;
    private final int batch;
    private final int seqLen;
    private final int n;
    private final Parallel parallel;
    private final AttentionOp attention;
    private final float[] ropeCos;
    private final float[] ropeSin;
    private final float[] normed;
    private final float[] rstd;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] probs;
    private final float[] norms;
    private final float[] attended;
    private final float[] projected;
    private final float[] gate;
    private final float[] up;
    private final float[] scratch;

    public DecoderLayerPass(LlamaConfig config, int batch, int seqLen, Parallel parallel) {
        this.config = config;
        this.batch = batch;
        this.seqLen = seqLen;
        this.n = batch * seqLen;
        this.parallel = parallel;
        attention = new AttentionOp(batch, seqLen, config.nHeads(), config.nKvHeads(), config.headDim());
        ropeCos = new float[seqLen * config.headDim()];
        ropeSin = new float[seqLen * config.headDim()];
        new Rope(config).tables(0, seqLen, ropeCos, ropeSin);
        normed = new float[n * config.dim()];
        rstd = new float[n];
        q = new float[n * config.qDim()];
        k = new float[n * config.kvDim()];
        v = new float[n * config.kvDim()];
        probs = new float[attention.probsSize()];
        norms = new float[attention.normsSize()];
        attended = new float[n * config.qDim()];
        projected = new float[n * config.dim()];
        gate = new float[n * config.hiddenDim()];
        up = new float[n * config.hiddenDim()];
        scratch = new float[config.headDim()];
    }

    /** Tokens per pass. */
    public int tokens() {
        return n;
    }

    /**
     * Runs the layer on the residual stream {@code x} ({@code batch · seqLen × dim}, updated in place to the stream
     * leaving the layer), handing each projection group's input to {@code sink} (which may be null) before it is used.
     *
     * @param qkHalfSplit whether wq and wk have Hugging Face's row order (see {@link RotaryLayout})
     */
    public void forward(LayerWeights w, boolean qkHalfSplit, float[] x, InputSink sink) {
        int dim = config.dim();
        RmsNormOp.forward(parallel, normed, rstd, x, w.attentionNorm(), n, dim, config.normEps());
        offer(sink, Inputs.QKV, normed, dim);
        VectorOps.add(attentionBlock(w, qkHalfSplit, normed, sink), 0, x, 0, n * dim);
        RmsNormOp.forward(parallel, normed, rstd, x, w.ffnNorm(), n, dim, config.normEps());
        offer(sink, Inputs.GATE_UP, normed, dim);
        VectorOps.add(mlpBlock(w, normed, sink), 0, x, 0, n * dim);
    }

    /**
     * The attention block without its residual: {@code wo · attend(rope(wq·xn), rope(wk·xn), wv·xn)} for the normed
     * input {@code xn}, into a buffer this pass reuses (valid until its next call).
     */
    public float[] attentionBlock(LayerWeights w, boolean qkHalfSplit, float[] xn, InputSink sink) {
        w.wq().apply(parallel, xn, n, q);
        w.wk().apply(parallel, xn, n, k);
        w.wv().apply(parallel, xn, n, v);
        if (qkHalfSplit) {
            RotaryLayout.interleavePairs(q, n * config.nHeads(), config.headDim(), scratch);
            RotaryLayout.interleavePairs(k, n * config.nKvHeads(), config.headDim(), scratch);
        }
        RopeOp.apply(q, n, config.nHeads(), config.headDim(), seqLen, ropeCos, ropeSin);
        RopeOp.apply(k, n, config.nKvHeads(), config.headDim(), seqLen, ropeCos, ropeSin);
        attention.forward(parallel, attended, probs, norms, q, k, v, null);
        offer(sink, Inputs.O, attended, config.qDim());
        w.wo().apply(parallel, attended, n, projected);
        return projected;
    }

    /** The MLP block without its residual, {@code down · (silu(gate·hn) ⊙ up·hn)}, into a reused buffer. */
    public float[] mlpBlock(LayerWeights w, float[] hn, InputSink sink) {
        w.gate().apply(parallel, hn, n, gate);
        w.up().apply(parallel, hn, n, up);
        SwiGluOp.forward(parallel, gate, gate, up, n, config.hiddenDim());
        offer(sink, Inputs.DOWN, gate, config.hiddenDim());
        w.down().apply(parallel, gate, n, projected);
        return projected;
    }

    /** {@code x · Wᵀ} for this pass's tokens, on its threads (a new array). */
    public float[] project(org.qtale.tensor.LinearWeights w, float[] x) {
        float[] y = new float[n * w.rows()];
        w.apply(parallel, x, n, y);
        return y;
    }

    private void offer(InputSink sink, Inputs group, float[] input, int width) {
        if (sink != null) {
            sink.accept(group, input, n, width);
        }
    }

    /** The threads the pass runs on. */
    public Parallel parallel() {
        return parallel;
    }

    public int batch() {
        return batch;
    }

    public int seqLen() {
        return seqLen;
    }
}
