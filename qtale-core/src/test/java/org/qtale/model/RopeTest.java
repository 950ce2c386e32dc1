package org.qtale.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** RoPE frequencies, plain and with Llama 3.x scaling, against values worked out by hand from the definitions. */
class RopeTest {
    private static final LlamaConfig.RopeScaling LLAMA_31 = new LlamaConfig.RopeScaling(8.0, 1.0, 4.0, 8192);

    @Test
    void plainFrequenciesAreBaseToTheMinusTwoIOverD() {
        double[] f = Rope.frequencies(8, 10000.0, null);
        assertEquals(1.0, f[0], 0);
        assertEquals(0.1, f[1], 1e-15); // 10000^(-2/8) = 10^-1
        assertEquals(0.01, f[2], 1e-15);
        assertEquals(0.001, f[3], 1e-15);
    }

    @Test
    void llama3ScalingKeepsHighBandsDividesLowBandsAndBlendsBetween() {
        // wavelength 2π/f: below 8192/4 = 2048 kept, above 8192/1 divided by 8, between blended
        assertEquals(1.0, Rope.llama3Scaled(1.0, LLAMA_31), 0); // wavelength 6.28
        double low = 2 * Math.PI / 10000; // wavelength 10000 > 8192
        assertEquals(low / 8, Rope.llama3Scaled(low, LLAMA_31), 1e-18);
        double mid = 2 * Math.PI / 4096; // wavelength 4096: smooth = (8192/4096 - 1) / (4 - 1) = 1/3
        assertEquals((2.0 / 3) * mid / 8 + (1.0 / 3) * mid, Rope.llama3Scaled(mid, LLAMA_31), 1e-15);
    }

    @Test
    void tablesHoldSignedSinesPerElement() {
        LlamaConfig config = new LlamaConfig("LlamaForCausalLM", 8, 16, 1, 2, 1, 10, 16, 4, 1e-5f, 100.0, null, true);
        float[] cos = new float[2 * 4];
        float[] sin = new float[2 * 4];
        new Rope(config).tables(3, 2, cos, sin);
        // position 3, pair 1: frequency 100^(-2/4) = 0.1, angle 0.3
        assertEquals((float) Math.cos(0.3), cos[2], 0);
        assertEquals((float) Math.cos(0.3), cos[3], 0);
        assertEquals((float) -Math.sin(0.3), sin[2], 0);
        assertEquals((float) Math.sin(0.3), sin[3], 0);
        // position 4, pair 0: angle 4
        assertEquals((float) Math.sin(4.0), sin[4 + 1], 0);
    }
}
