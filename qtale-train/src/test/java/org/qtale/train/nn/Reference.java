package org.qtale.train.nn;

import org.qtale.model.LlamaConfig;
import org.qtale.model.Rope;

/**
 * Double-precision scalar forward passes, written straight from the formulas: the reference that finite differences
 * are taken on. Nothing here shares code with the float implementation under test.
 */
final class Reference {
    private Reference() {
    }

    static double[] rmsNorm(double[] x, double[] w, int n, int dim, double eps) {
        double[] y = new double[n * dim];
        for (int t = 0; t < n; t++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += x[t * dim + i] * x[t * dim + i];
            }
            double r = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) {
                y[t * dim + i] = w[i] * x[t * dim + i] * r;
            }
        }
        return y;
    }

    static double[] swiGlu(double[] g, double[] u) {
        double[] a = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            a[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        return a;
    }

    /** Rotates interleaved pairs (2i, 2i+1) of each head by position · frequency_i, positions restarting every seqLen. */
    static double[] rope(double[] v, int n, int heads, int headDim, int seqLen, double[] frequencies) {
        double[] out = new double[v.length];
        for (int t = 0; t < n; t++) {
            int pos = t % seqLen;
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < headDim / 2; i++) {
                    int o = (t * heads + h) * headDim + 2 * i;
                    double angle = pos * frequencies[i];
                    double c = Math.cos(angle);
                    double s = Math.sin(angle);
                    out[o] = v[o] * c - v[o + 1] * s;
                    out[o + 1] = v[o] * s + v[o + 1] * c;
                }
            }
        }
        return out;
    }

    static double[] frequencies(LlamaConfig config) {
        int headDim = config.headDim();
        float[] cos = new float[2 * headDim];
        float[] sin = new float[2 * headDim];
        new Rope(config).tables(1, 1, cos, sin);
        double[] f = new double[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = Math.atan2(sin[2 * i + 1], cos[2 * i]);
        }
        return f;
    }

    /** Causal GQA attention with D-LLM's post-softmax renormalized key mask (null: no mask). */
    static double[] attention(double[] q, double[] k, double[] v, double[] mask, int batch, int seqLen, int heads,
            int kvHeads, int headDim) {
        return attention(q, k, v, mask, batch, seqLen, heads, kvHeads, headDim, 1e-6);
    }

    /** {@link #attention} with the mask's renormalization {@code + epsilon}. */
    static double[] attention(double[] q, double[] k, double[] v, double[] mask, int batch, int seqLen, int heads,
            int kvHeads, int headDim, double epsilon) {
        int qDim = heads * headDim;
        int kvDim = kvHeads * headDim;
        double[] out = new double[batch * seqLen * qDim];
        double scale = 1 / Math.sqrt(headDim);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                for (int i = 0; i < seqLen; i++) {
                    double[] p = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int d = 0; d < headDim; d++) {
                            s += q[(b * seqLen + i) * qDim + h * headDim + d] * k[(b * seqLen + j) * kvDim + g * headDim + d];
                        }
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        p[j] = Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        p[j] /= sum;
                    }
                    if (mask != null) {
                        double kept = 0;
                        for (int j = 0; j <= i; j++) {
                            kept += p[j] * mask[b * seqLen + j];
                        }
                        for (int j = 0; j <= i; j++) {
                            p[j] = p[j] * mask[b * seqLen + j] / (kept + epsilon);
                        }
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int d = 0; d < headDim; d++) {
                            out[(b * seqLen + i) * qDim + h * headDim + d] += p[j] * v[(b * seqLen + j) * kvDim + g * headDim + d];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** y[t][r] = Σ_c w[r][c] x[t][c]. */
    static double[] linear(double[] x, double[] w, int n, int rows, int cols) {
        double[] y = new double[n * rows];
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    s += w[r * cols + c] * x[t * cols + c];
                }
                y[t * rows + r] = s;
            }
        }
        return y;
    }

    /** Summed cross-entropy over targets that are not -1. */
    static double crossEntropy(double[] logits, int[] targets, int vocab) {
        double total = 0;
        for (int t = 0; t < targets.length; t++) {
            if (targets[t] < 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[t * vocab + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(logits[t * vocab + v] - max);
            }
            total += Math.log(sum) + max - logits[t * vocab + targets[t]];
        }
        return total;
    }

    static double[] add(double[] a, double[] b) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i] + b[i];
        }
        return c;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    /** {@code W x}, plus {@code scale · B (A x)} when the weight has a LoRA adapter. */
    static double[] project(LlamaParameters params, Param w, double[] x, int n) {
        double[] y = linear(x, toDouble(w.value()), n, w.rows(), w.cols());
        LoraAdapter lora = params.lora(w);
        if (lora != null) {
            double[] hidden = linear(x, toDouble(lora.a().value()), n, lora.rank(), w.cols());
            double[] update = linear(hidden, toDouble(lora.b().value()), n, w.rows(), lora.rank());
            for (int i = 0; i < y.length; i++) {
                y[i] += lora.scale() * update[i];
            }
        }
        return y;
    }

    /** The summed loss of a whole model, all parameters read from {@code params} in double precision. */
    static double modelLoss(LlamaParameters params, int[] tokens, int[] targets, int batch, int seqLen) {
        LlamaConfig c = params.config();
        int n = batch * seqLen;
        int dim = c.dim();
        double[] freq = frequencies(c);
        double[] emb = toDouble(params.embedding().value());
        double[] x = new double[n * dim];
        for (int t = 0; t < n; t++) {
            System.arraycopy(emb, tokens[t] * dim, x, t * dim, dim);
        }
        for (int l = 0; l < c.nLayers(); l++) {
            LlamaParameters.Layer w = params.layer(l);
            double[] xn = rmsNorm(x, toDouble(w.attentionNorm().value()), n, dim, c.normEps());
            double[] q = rope(project(params, w.wq(), xn, n), n, c.nHeads(), c.headDim(), seqLen, freq);
            double[] k = rope(project(params, w.wk(), xn, n), n, c.nKvHeads(), c.headDim(), seqLen, freq);
            double[] v = project(params, w.wv(), xn, n);
            double[] att = attention(q, k, v, null, batch, seqLen, c.nHeads(), c.nKvHeads(), c.headDim());
            double[] h = add(x, project(params, w.wo(), att, n));
            double[] hn = rmsNorm(h, toDouble(w.ffnNorm().value()), n, dim, c.normEps());
            double[] g = project(params, w.gate(), hn, n);
            double[] u = project(params, w.up(), hn, n);
            x = add(h, project(params, w.down(), swiGlu(g, u), n));
        }
        double[] xf = rmsNorm(x, toDouble(params.finalNorm().value()), n, dim, c.normEps());
        double[] logits = linear(xf, toDouble(params.output().value()), n, c.vocabSize(), dim);
        return crossEntropy(logits, targets, c.vocabSize());
    }

    /** A router's logit gap {@code Δ = z_exec − z_skip} for every row, in double precision. */
    static double[] routerGaps(RouterParameters.Layer r, double[] x, int n, int dim, double eps) {
        int width = r.width();
        double[] pre = linear(x, toDouble(r.w1().value()), n, width, dim);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < width; i++) {
                pre[t * width + i] += r.b1().value()[i];
            }
        }
        double[] y = rmsNorm(pre, toDouble(r.norm().value()), n, width, eps);
        double[] gaps = new double[n];
        float[] w2 = r.w2().value();
        for (int t = 0; t < n; t++) {
            double z0 = r.b2().value()[0];
            double z1 = r.b2().value()[1];
            for (int i = 0; i < width; i++) {
                double v = y[t * width + i];
                double silu = v / (1 + Math.exp(-v));
                z0 += w2[i] * silu;
                z1 += w2[width + i] * silu;
            }
            gaps[t] = z1 - z0;
        }
        return gaps;
    }

    /**
     * The routed training loss with the straight-through estimator written as a function: each non-reserved row's
     * decision is {@code w = hard + σ(Δ + g) − soft₀}, where {@code hard} and {@code soft₀} are the values of the
     * step under test and Δ is recomputed from the current parameters. Its value equals the step's loss and its
     * finite-difference gradient is the straight-through gradient.
     */
    static double routedLoss(LlamaParameters params, RouterParameters routers, int[] tokens, int[] targets,
            int[] lengths, int batch, int seqLen, float[][] noise, float[][] hard, float[][] soft0, double ceScale,
            RoutingObjective objective) {
        LlamaConfig c = params.config();
        int n = batch * seqLen;
        int dim = c.dim();
        int layers = c.nLayers();
        int start = routers.config().startLayer();
        int reserved = routers.config().reservedTokens();
        double[] freq = frequencies(c);
        double[] emb = toDouble(params.embedding().value());
        double[] x = new double[n * dim];
        for (int t = 0; t < n; t++) {
            System.arraycopy(emb, tokens[t] * dim, x, t * dim, dim);
        }
        double[][] decisions = new double[layers][];
        double[][] gaps = new double[layers][];
        for (int l = 0; l < layers; l++) {
            double[] w = null;
            if (l >= start) {
                gaps[l] = routerGaps(routers.layer(l), x, n, dim, c.normEps());
                w = new double[n];
                for (int t = 0; t < n; t++) {
                    w[t] = t % seqLen < reserved ? 1
                            : hard[l][t] + 1 / (1 + Math.exp(-(gaps[l][t] + noise[l][t]))) - soft0[l][t];
                }
                decisions[l] = w;
            }
            LlamaParameters.Layer p = params.layer(l);
            double[] xn = rmsNorm(x, toDouble(p.attentionNorm().value()), n, dim, c.normEps());
            double[] q = rope(project(params, p.wq(), xn, n), n, c.nHeads(), c.headDim(), seqLen, freq);
            double[] k = rope(project(params, p.wk(), xn, n), n, c.nKvHeads(), c.headDim(), seqLen, freq);
            double[] v = project(params, p.wv(), xn, n);
            double[] att = attention(q, k, v, w, batch, seqLen, c.nHeads(), c.nKvHeads(), c.headDim(), reserved > 0 ? Float.MIN_NORMAL : 1e-6);
            double[] h = add(x, project(params, p.wo(), att, n));
            double[] hn = rmsNorm(h, toDouble(p.ffnNorm().value()), n, dim, c.normEps());
            double[] out = add(h, project(params, p.down(), swiGlu(project(params, p.gate(), hn, n),
                    project(params, p.up(), hn, n)), n));
            if (w != null) {
                for (int t = 0; t < n; t++) {
                    for (int d = 0; d < dim; d++) {
                        out[t * dim + d] = w[t] * out[t * dim + d] + (1 - w[t]) * x[t * dim + d];
                    }
                }
            }
            x = out;
        }
        double[] xf = rmsNorm(x, toDouble(params.finalNorm().value()), n, dim, c.normEps());
        double[] logits = linear(xf, toDouble(params.output().value()), n, c.vocabSize(), dim);
        double loss = ceScale * crossEntropy(logits, targets, c.vocabSize());
        int counted = 0;
        for (int length : lengths) {
            counted += Math.max(0, length - reserved);
        }
        double rate = 0;
        double entropy = 0;
        for (int b = 0; b < batch; b++) {
            for (int i = reserved; i < lengths[b]; i++) {
                int t = b * seqLen + i;
                double executed = start;
                for (int l = start; l < layers; l++) {
                    executed += decisions[l][t];
                    double p = 1 / (1 + Math.exp(-gaps[l][t]));
                    entropy += p * Math.log(p) + (1 - p) * Math.log(1 - p);
                }
                rate += Math.abs(executed / layers - objective.targetRatio());
            }
        }
        return loss + objective.rateWeight() * rate / counted
                + objective.entropyWeight() * entropy / ((double) counted * (layers - start));
    }
}
