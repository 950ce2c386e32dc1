package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.qtale.quant.QuantizedMatrices.assertSameMatrix;

import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.quant.PackedTensors.FloatMatrix;
import org.qtale.quant.PackedTensors.IntMatrix;

/**
 * The AWQ GEMM layout, pinned by words computed by hand from AutoAWQ's {@code WQLinear_GEMM.from_linear}: codes
 * packed along the outputs, eight to a word in the order 0, 2, 4, 6, 1, 3, 5, 7, zero points likewise without −1.
 */
class AwqLayoutTest {
    @Test
    void codesAndZerosPackAlongTheOutputsInterleaved() {
        // 8 outputs, 2 inputs, one group: code(n, k) = n + 8k, zero(n) = 15 − n
        QuantizedMatrix m = QuantizedMatrices.of(8, 2, 4, 2, (n, k) -> n + 8 * k, (n, g) -> 15 - n);
        PackedTensors t = AwqLayout.GEMM.pack(m, "w");
        // input 0: nibbles from the low end hold outputs 0, 2, 4, 6, 1, 3, 5, 7 → 0,2,4,6,1,3,5,7
        // input 1: the same outputs' codes 8, 10, 12, 14, 9, 11, 13, 15
        assertEquals(new IntMatrix(2, 1, new int[] {0x75316420, 0xFDB9ECA8}), t.qweight());
        // zeros 15 − n in the same order: F, D, B, 9, E, C, A, 8 from the low nibble up, stored as they are
        assertEquals(new IntMatrix(1, 1, new int[] {0x8ACE9BDF}), t.qzeros());
        assertEquals(new FloatMatrix(1, 8, new float[] {0, 1, 2, 3, 4, 5, 6, 7}), t.scales());
        assertNull(t.gIdx());
        assertSameMatrix(m, AwqLayout.GEMM.unpack(t, 4, 2, "w"));
    }

    @Test
    void eachRunOfEightOutputsHasItsOwnWord() {
        // 16 outputs, 8 inputs in groups of 4: output n has code n mod 16 on every input, zero n mod 4 + 2g
        QuantizedMatrix m = QuantizedMatrices.of(16, 8, 4, 4, (n, k) -> n, (n, g) -> n % 4 + 2 * g);
        PackedTensors t = AwqLayout.GEMM.pack(m, "w");
        assertEquals(8, t.qweight().rows());
        assertEquals(0x75316420, t.qweight().get(5, 0));
        assertEquals(0xFDB9ECA8, t.qweight().get(5, 1));
        // zeros of outputs 0..7 in group 0 are 0,1,2,3,0,1,2,3 → nibbles 0,2,0,2,1,3,1,3; group 1 adds 2 to each
        assertEquals(new IntMatrix(2, 2, new int[] {0x31312020, 0x31312020, 0x53534242, 0x53534242}), t.qzeros());
        assertSameMatrix(m, AwqLayout.GEMM.unpack(t, 4, 4, "w"));
    }

    @Test
    void roundTrips() {
        QuantizedMatrix grouped = QuantizedMatrices.random(48, 128, 4, 32, 0, false, 3);
        assertSameMatrix(grouped, AwqLayout.GEMM.unpack(AwqLayout.GEMM.pack(grouped, "w"), 4, 32, "w"));
        QuantizedMatrix perChannel = QuantizedMatrices.random(16, 64, 4, 64, 0, false, 4);
        assertSameMatrix(perChannel, AwqLayout.GEMM.unpack(AwqLayout.GEMM.pack(perChannel, "w"), 4, -1, "w"));
    }

    @Test
    void onlyFourBitsInOrderFit() {
        for (int bits : new int[] {2, 3, 8}) {
            QtaleException e = assertThrows(QtaleException.class,
                    () -> AwqLayout.GEMM.pack(QuantizedMatrices.random(32, 32, bits, 32, 0, false, 1), "w"));
            assertEquals("The AWQ GEMM layout stores 4-bit weights only, so w (" + bits + "-bit) cannot be written in it.",
                    e.getMessage());
        }
        QtaleException e = assertThrows(QtaleException.class,
                () -> AwqLayout.GEMM.pack(QuantizedMatrices.random(32, 64, 4, 32, 0, true, 1), "w"));
        assertEquals("The AWQ layout has no g_idx, so w, whose inputs were grouped out of order (act-order), cannot be"
                + " written in it.", e.getMessage());
        e = assertThrows(QtaleException.class,
                () -> AwqLayout.GEMM.pack(QuantizedMatrices.random(12, 32, 4, 32, 0, false, 1), "w"));
        assertEquals("The AWQ GEMM layout packs eight outputs to a word, but w has 12 outputs.", e.getMessage());
        PackedTensors t = AwqLayout.GEMM.pack(QuantizedMatrices.random(8, 8, 4, 8, 0, false, 1), "w");
        e = assertThrows(QtaleException.class, () -> AwqLayout.GEMM.unpack(t, 3, 8, "layer"));
        assertEquals("AWQ GEMM checkpoints hold 4-bit weights only, but layer is declared 3-bit.", e.getMessage());
        e = assertThrows(QtaleException.class, () -> AwqLayout.GEMM.unpack(t, 4, 4, "layer"));
        assertEquals("layer.qzeros has shape [1, 1], but a 4-bit AWQ layer with 8 inputs, 8 outputs and group size 4"
                + " needs [2, 1].", e.getMessage());
    }

    @Test
    void versions() {
        assertEquals(AwqLayout.GEMM, AwqLayout.ofVersion("gemm"));
        QtaleException e = assertThrows(QtaleException.class, () -> AwqLayout.ofVersion("gemv"));
        assertEquals("Unsupported AWQ version 'gemv': qtale reads the 'gemm' layout.", e.getMessage());
    }
}
