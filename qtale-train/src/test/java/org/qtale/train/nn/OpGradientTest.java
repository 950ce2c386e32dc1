package org.qtale.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.qtale.train.nn.Reference.dot;
import static org.qtale.train.nn.Reference.toDouble;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qtale.model.LlamaConfig;
import org.qtale.model.Rope;
import org.qtale.tensor.Parallel;

/** Each op's backward pass against finite differences of a double-precision reference of its forward pass. */
class OpGradientTest {
    private static final Parallel PARALLEL = new Parallel(2);
    private final SplittableRandom random = new SplittableRandom(42);

    @Test
    void rmsNorm() {
        int n = 3;
        int dim = 7;
        float[] x = Gradients.random(random, n * dim, 2);
        float[] w = Gradients.random(random, dim, 1.5);
        double[] dy = toDouble(Gradients.random(random, n * dim, 1));
        float[] y = new float[n * dim];
        float[] rstd = new float[n];
        RmsNormOp.forward(PARALLEL, y, rstd, x, w, n, dim, 1e-5f);
        float[] dx = new float[n * dim];
        float[] dw = new float[dim];
        RmsNormOp.backward(PARALLEL, dx, dw, toFloat(dy), x, rstd, w, n, dim);
        Gradients.check("dx", dx, x, () -> dot(dy, Reference.rmsNorm(toDouble(x), toDouble(w), n, dim, 1e-5)), 0, 1);
        Gradients.check("dw", dw, w, () -> dot(dy, Reference.rmsNorm(toDouble(x), toDouble(w), n, dim, 1e-5)), 0, 1);
    }

    @Test
    void swiGlu() {
        int n = 37;
        float[] g = Gradients.random(random, n, 4);
        float[] u = Gradients.random(random, n, 2);
        double[] da = toDouble(Gradients.random(random, n, 1));
        float[] dg = new float[n];
        float[] du = new float[n];
        SwiGluOp.backward(PARALLEL, dg, du, toFloat(da), g, u, 1, n);
        float[] a = new float[n];
        SwiGluOp.forward(PARALLEL, a, g, u, 1, n);
        double[] expected = Reference.swiGlu(toDouble(g), toDouble(u));
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], a[i], 1e-5 * Math.max(1, Math.abs(expected[i])));
        }
        Gradients.check("dg", dg, g, () -> dot(da, Reference.swiGlu(toDouble(g), toDouble(u))), 0, 1);
        Gradients.check("du", du, u, () -> dot(da, Reference.swiGlu(toDouble(g), toDouble(u))), 0, 1);
    }

    @Test
    void ropeBackwardIsTheTransposedRotation() {
        LlamaConfig config = LlamaConfig.llama2c(24, 32, 1, 2, 2, 5, 16, false);
        int seqLen = 5;
        int n = 2 * seqLen;
        int heads = config.nHeads();
        int headDim = config.headDim();
        float[] cos = new float[seqLen * headDim];
        float[] sin = new float[seqLen * headDim];
        new Rope(config).tables(0, seqLen, cos, sin);
        float[] v = Gradients.random(random, n * heads * headDim, 1);
        float[] dy = Gradients.random(random, v.length, 1);
        float[] dv = dy.clone();
        RopeOp.apply(dv, n, heads, headDim, seqLen, cos, RopeOp.negated(sin));
        double[] freq = Reference.frequencies(config);
        Gradients.check("dv", dv, v, () -> dot(toDouble(dy), Reference.rope(toDouble(v), n, heads, headDim, seqLen, freq)), 0, 1);
        // and the forward matches the reference rotation
        float[] rotated = v.clone();
        RopeOp.apply(rotated, n, heads, headDim, seqLen, cos, sin);
        double[] expected = Reference.rope(toDouble(v), n, heads, headDim, seqLen, freq);
        for (int i = 0; i < v.length; i++) {
            assertEquals(expected[i], rotated[i], 1e-5);
        }
    }

    @Test
    void attentionWithoutMask() {
        attention(false);
    }

    @Test
    void attentionWithKeyMaskGivesMaskGradients() {
        attention(true);
    }

    private void attention(boolean masked) {
        int batch = 2;
        int seqLen = 5;
        int heads = 4;
        int kvHeads = 2;
        int headDim = 6;
        int n = batch * seqLen;
        float[] q = Gradients.random(random, n * heads * headDim, 1.5);
        float[] k = Gradients.random(random, n * kvHeads * headDim, 1.5);
        float[] v = Gradients.random(random, n * kvHeads * headDim, 1);
        float[] mask = masked ? Gradients.random(random, n, 0.5) : null;
        if (masked) {
            for (int i = 0; i < n; i++) {
                mask[i] += 0.5f; // soft values in (0, 1): the gradient flows as in straight-through training
            }
        }
        double[] dout = toDouble(Gradients.random(random, n * heads * headDim, 1));
        AttentionOp op = new AttentionOp(batch, seqLen, heads, kvHeads, headDim);
        float[] out = new float[n * heads * headDim];
        float[] probs = new float[op.probsSize()];
        float[] norms = new float[op.normsSize()];
        try (Parallel parallel = new Parallel(2)) {
            op.forward(parallel, out, probs, norms, q, k, v, mask);
            double[] expected = Reference.attention(toDouble(q), toDouble(k), toDouble(v), masked ? toDouble(mask) : null,
                    batch, seqLen, heads, kvHeads, headDim);
            for (int i = 0; i < out.length; i++) {
                assertEquals(expected[i], out[i], 1e-5);
            }
            float[] dq = new float[q.length];
            float[] dk = new float[k.length];
            float[] dv = new float[v.length];
            float[] dm = masked ? new float[n] : null;
            op.backward(parallel, dq, dk, dv, dm, toFloat(dout), probs, norms, q, k, v, mask);
            java.util.function.DoubleSupplier loss = () -> dot(dout, Reference.attention(toDouble(q), toDouble(k),
                    toDouble(v), masked ? toDouble(mask) : null, batch, seqLen, heads, kvHeads, headDim));
            Gradients.check("dq", dq, q, loss, 0, 1);
            Gradients.check("dk", dk, k, loss, 0, 1);
            Gradients.check("dv", dv, v, loss, 0, 1);
            if (masked) {
                Gradients.check("dmask", dm, mask, loss, 0, 1);
            }
        }
    }

    @Test
    void crossEntropyWithIgnoredPositions() {
        int n = 4;
        int vocab = 9;
        float[] logits = Gradients.random(random, n * vocab, 3);
        int[] targets = {3, CrossEntropyOp.IGNORE, 0, 8};
        float[] dlogits = new float[n * vocab];
        double loss = CrossEntropyOp.lossAndGradient(PARALLEL, logits, targets, n, vocab, dlogits, 1f);
        assertEquals(Reference.crossEntropy(toDouble(logits), targets, vocab), loss, 1e-6);
        assertEquals(3, CrossEntropyOp.counted(targets, n));
        Gradients.check("dlogits", dlogits, logits, () -> Reference.crossEntropy(toDouble(logits), targets, vocab), 0, 1);
        for (int v = 0; v < vocab; v++) {
            assertEquals(0f, dlogits[vocab + v], "an ignored position gets no gradient");
        }
    }

    static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }
}
