package org.qtale.train.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.tensor.Parallel;
import org.qtale.tensor.VectorOps;

/** SwiGLU: {@code a = silu(g) ⊙ u} with {@code silu(g) = g · σ(g)}. */
public final class SwiGluOp {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private SwiGluOp() {
    }

    /** The engine's kernel, on a copy of the gate (the backward pass needs it). */
    public static void forward(Parallel parallel, float[] a, float[] g, float[] u, int rows, int width) {
        System.arraycopy(g, 0, a, 0, rows * width);
        parallel.forRange(rows, (start, end) -> {
            for (int r = start; r < end; r++) {
                VectorOps.swiGlu(a, u, r * width, width);
            }
        });
    }


    /** {@code dg += da · u · σ(g)(1 + g(1 − σ(g)))} and {@code du += da · silu(g)}. */
    public static void backward(Parallel parallel, float[] dg, float[] du, float[] da, float[] g, float[] u, int rows,
            int width) {
        // row by row, so that which elements take the scalar tail does not depend on how rows are split
        parallel.forRange(rows, (start, end) -> {
            for (int r = start; r < end; r++) {
                backwardRange(dg, du, da, g, u, r * width, (r + 1) * width);
            }
        });
    }

    static void backwardRange(float[] dg, float[] du, float[] da, float[] g, float[] u, int from, int to) {
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            FloatVector gate = FloatVector.fromArray(F, g, i);
            FloatVector sigmoid = FloatVector.broadcast(F, 1f).div(VectorOps.exp(gate.neg()).add(1f));
            FloatVector d = FloatVector.fromArray(F, da, i);
            FloatVector silu = gate.mul(sigmoid);
            FloatVector slope = sigmoid.mul(gate.mul(sigmoid.neg().add(1f)).add(1f));
            d.mul(FloatVector.fromArray(F, u, i)).fma(slope, FloatVector.fromArray(F, dg, i)).intoArray(dg, i);
            d.fma(silu, FloatVector.fromArray(F, du, i)).intoArray(du, i);
        }
        for (; i < to; i++) {
            float sigmoid = 1f / (VectorOps.exp(-g[i]) + 1f);
            dg[i] += da[i] * u[i] * (sigmoid * (1 + g[i] * (1 - sigmoid)));
            du[i] += da[i] * (g[i] * sigmoid);
        }
    }
}
