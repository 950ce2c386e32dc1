package org.qtale.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The prefill micro-kernel on float rows: four weight rows (already widened into an array) times four tokens, with
 * sixteen accumulators in registers, so each loaded weight vector serves four tokens and each activation vector four
 * rows. Formats that are not float32 widen a block of four rows once and then run it against every token of the
 * batch. Public for the quantized formats of {@code org.qtale.quant}, which dequantize a block of rows and run it here.
 */
public final class MatMulTiles {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private MatMulTiles() {
    }

    /**
     * {@code out[t·outStride + row + i] = Σ_c w[i·n + c] · x[t·n + c]} for rows {@code i < 4} and every token; {@code n}
     * is the length of a widened row and of a token's activations.
     */
    public static void fourRows(float[] w, int n, float[] x, int nTokens, float[] out, int outStride, int row) {
        float[] lanes = VectorOps.laneScratch();
        int t = 0;
        for (; t + 4 <= nTokens; t += 4) {
            tile4x4(w, n, x, t, out, outStride, row, lanes);
        }
        for (; t < nTokens; t++) {
            for (int i = 0; i < 4; i++) {
                out[t * outStride + row + i] = VectorOps.dot(w, i * n, x, t * n, n, lanes);
            }
        }
    }

    /** One widened row against every token. */
    public static void oneRow(float[] w, int n, float[] x, int nTokens, float[] out, int outStride, int row) {
        float[] lanes = VectorOps.laneScratch();
        for (int t = 0; t < nTokens; t++) {
            out[t * outStride + row] = VectorOps.dot(w, 0, x, t * n, n, lanes);
        }
    }

    private static void tile4x4(float[] w, int n, float[] x, int t, float[] out, int outStride, int row, float[] lanes) {
        final int w1 = n;
        final int w2 = 2 * n;
        final int w3 = 3 * n;
        final int x0 = t * n;
        final int x1 = x0 + n;
        final int x2 = x1 + n;
        final int x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        int c = 0;
        for (int bound = F.loopBound(n); c < bound; c += F.length()) {
            FloatVector a0 = FloatVector.fromArray(F, w, c);
            FloatVector a1 = FloatVector.fromArray(F, w, w1 + c);
            FloatVector a2 = FloatVector.fromArray(F, w, w2 + c);
            FloatVector a3 = FloatVector.fromArray(F, w, w3 + c);
            FloatVector v = FloatVector.fromArray(F, x, x0 + c);
            c00 = a0.fma(v, c00);
            c10 = a1.fma(v, c10);
            c20 = a2.fma(v, c20);
            c30 = a3.fma(v, c30);
            v = FloatVector.fromArray(F, x, x1 + c);
            c01 = a0.fma(v, c01);
            c11 = a1.fma(v, c11);
            c21 = a2.fma(v, c21);
            c31 = a3.fma(v, c31);
            v = FloatVector.fromArray(F, x, x2 + c);
            c02 = a0.fma(v, c02);
            c12 = a1.fma(v, c12);
            c22 = a2.fma(v, c22);
            c32 = a3.fma(v, c32);
            v = FloatVector.fromArray(F, x, x3 + c);
            c03 = a0.fma(v, c03);
            c13 = a1.fma(v, c13);
            c23 = a2.fma(v, c23);
            c33 = a3.fma(v, c33);
        }
        // reduce each accumulator on its own, through the scratch array: an array of vectors, or a vector passed to a
        // method that is not inlined, would be boxed on the heap
        c00.intoArray(lanes, 0);
        store(lanes, w, 0, x, x0, c, n, out, t * outStride + row);
        c10.intoArray(lanes, 0);
        store(lanes, w, w1, x, x0, c, n, out, t * outStride + row + 1);
        c20.intoArray(lanes, 0);
        store(lanes, w, w2, x, x0, c, n, out, t * outStride + row + 2);
        c30.intoArray(lanes, 0);
        store(lanes, w, w3, x, x0, c, n, out, t * outStride + row + 3);
        c01.intoArray(lanes, 0);
        store(lanes, w, 0, x, x1, c, n, out, (t + 1) * outStride + row);
        c11.intoArray(lanes, 0);
        store(lanes, w, w1, x, x1, c, n, out, (t + 1) * outStride + row + 1);
        c21.intoArray(lanes, 0);
        store(lanes, w, w2, x, x1, c, n, out, (t + 1) * outStride + row + 2);
        c31.intoArray(lanes, 0);
        store(lanes, w, w3, x, x1, c, n, out, (t + 1) * outStride + row + 3);
        c02.intoArray(lanes, 0);
        store(lanes, w, 0, x, x2, c, n, out, (t + 2) * outStride + row);
        c12.intoArray(lanes, 0);
        store(lanes, w, w1, x, x2, c, n, out, (t + 2) * outStride + row + 1);
        c22.intoArray(lanes, 0);
        store(lanes, w, w2, x, x2, c, n, out, (t + 2) * outStride + row + 2);
        c32.intoArray(lanes, 0);
        store(lanes, w, w3, x, x2, c, n, out, (t + 2) * outStride + row + 3);
        c03.intoArray(lanes, 0);
        store(lanes, w, 0, x, x3, c, n, out, (t + 3) * outStride + row);
        c13.intoArray(lanes, 0);
        store(lanes, w, w1, x, x3, c, n, out, (t + 3) * outStride + row + 1);
        c23.intoArray(lanes, 0);
        store(lanes, w, w2, x, x3, c, n, out, (t + 3) * outStride + row + 2);
        c33.intoArray(lanes, 0);
        store(lanes, w, w3, x, x3, c, n, out, (t + 3) * outStride + row + 3);
    }

    /** Writes one tile entry: the accumulator's lanes (stored in {@code lanes}) plus the columns the loop left over. */
    private static void store(float[] lanes, float[] w, int wOffset, float[] x, int xOffset, int from, int n,
            float[] out, int index) {
        float sum = VectorOps.sumLanes(lanes);
        for (int c = from; c < n; c++) {
            sum += w[wOffset + c] * x[xOffset + c];
        }
        out[index] = sum;
    }
}
