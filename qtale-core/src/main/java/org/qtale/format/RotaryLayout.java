package org.qtale.format;

/**
 * The two row orders of the q and k projections. Meta's (and llama2.c's) rotary embedding rotates adjacent pairs
 * {@code (2i, 2i+1)} of each head; Hugging Face's {@code rotate_half} rotates {@code (i, i + d/2)}. Hugging Face's
 * conversion script ({@code permute} in convert_llama_weights_to_hf) reorders the rows so both compute the same
 * function.
 */
public final class RotaryLayout {
    private RotaryLayout() {
    }

    /**
     * For each row of the Hugging Face layout, the row of the interleaved layout it comes from: Hugging Face row
     * {@code h·d + j·d/2 + i} is interleaved row {@code h·d + 2i + j}.
     */
    public static int[] halfSplitSourceRows(int heads, int headDim) {
        int half = headDim / 2;
        int[] source = new int[heads * headDim];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < half; i++) {
                    source[h * headDim + j * half + i] = h * headDim + 2 * i + j;
                }
            }
        }
        return source;
    }

    /**
     * Reorders projected vectors of {@code heads} heads from the half-split layout (pair i at i and i + d/2) to the
     * interleaved one (pair i at 2i and 2i + 1), in place; {@code scratch} holds at least one head.
     */
    public static void interleavePairs(float[] v, int heads, int headDim, float[] scratch) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int o = h * headDim;
            for (int i = 0; i < half; i++) {
                scratch[2 * i] = v[o + i];
                scratch[2 * i + 1] = v[o + half + i];
            }
            System.arraycopy(scratch, 0, v, o, headDim);
        }
    }
}
