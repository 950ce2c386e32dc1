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
}
