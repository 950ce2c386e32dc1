package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.qtale.quant.QuantizedMatrices.assertSameMatrix;

import java.util.function.IntBinaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.qtale.QtaleException;
import org.qtale.quant.PackedTensors.FloatMatrix;
import org.qtale.quant.PackedTensors.IntMatrix;

/**
 * The GPTQ layout, pinned by words computed by hand from AutoGPTQ's {@code qlinear_cuda_old.pack}: codes packed
 * along the inputs, zero points (minus one) along the outputs.
 */
class GptqLayoutTest {
    /** 8 outputs, 16 inputs, 4 bits, groups of 8: code(n, k) = (n + k) mod 16. */
    private static QuantizedMatrix ramp4(IntBinaryOperator zero) {
        return QuantizedMatrices.of(8, 16, 4, 8, (n, k) -> (n + k) & 15, zero);
    }

    @Test
    void fourBitCodesPackAlongTheInputsEightToAWord() {
        PackedTensors t = GptqLayout.V1.pack(ramp4((n, g) -> 8), "w");
        // qweight[r][n], nibble j = code(n, 8r + j); output 0's first word holds codes 0..7 from the low nibble up.
        assertEquals(new IntMatrix(2, 8, new int[] {
            0x76543210, 0x87654321, 0x98765432, 0xA9876543, 0xBA987654, 0xCBA98765, 0xDCBA9876, 0xEDCBA987,
            0xFEDCBA98, 0x0FEDCBA9, 0x10FEDCBA, 0x210FEDCB, 0x3210FEDC, 0x43210FED, 0x543210FE, 0x6543210F}), t.qweight());
        // symmetric 4-bit: zero 8, stored as 7 in every nibble
        assertEquals(new IntMatrix(2, 1, new int[] {0x77777777, 0x77777777}), t.qzeros());
        assertEquals(new FloatMatrix(2, 8, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17}), t.scales());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}, t.gIdx());
    }

    @Test
    void zeroPointsPackAlongTheOutputsMinusOne() {
        // zero(n, g) = n + 2g + 1, stored as n + 2g
        PackedTensors t = GptqLayout.V1.pack(ramp4((n, g) -> n + 2 * g + 1), "w");
        assertEquals(new IntMatrix(2, 1, new int[] {0x76543210, 0x98765432}), t.qzeros());
        PackedTensors v2 = GptqLayout.V2.pack(ramp4((n, g) -> n + 2 * g + 1), "w");
        assertEquals(new IntMatrix(2, 1, new int[] {0x87654321, 0xA9876543}), v2.qzeros());
    }

    @Test
    void threeBitCodesStraddleWordsAtValuesTenAndTwentyOne() {
        // 32 outputs, 32 inputs, one group, symmetric zero 4. Output 0 has codes 7, 5, 1, 7, 7 at inputs
        // 0, 10, 11, 21, 31 and 0 elsewhere; output 1 has all codes 7.
        int[] column0 = new int[32];
        column0[0] = 7;
        column0[10] = 0b101;
        column0[11] = 1;
        column0[21] = 0b111;
        column0[31] = 7;
        QuantizedMatrix m = QuantizedMatrices.of(32, 32, 3, 32, (n, k) -> n == 0 ? column0[k] : n == 1 ? 7 : 0,
                (n, g) -> 4);
        PackedTensors t = GptqLayout.V1.pack(m, "w");
        assertEquals(3, t.qweight().rows());
        // word 0: code 0 at bits 0-2, the low bits 01 of code 10 at bits 30-31
        assertEquals(0x40000007, t.qweight().get(0, 0));
        // word 1: the high bit 1 of code 10 at bit 0, code 11 at bits 1-3, the low bit 1 of code 21 at bit 31
        assertEquals(0x80000003, t.qweight().get(1, 0));
        // word 2: the high bits 11 of code 21 at bits 0-1, code 31 at bits 29-31
        assertEquals(0xE0000003, t.qweight().get(2, 0));
        for (int word = 0; word < 3; word++) {
            assertEquals(-1, t.qweight().get(word, 1), "96 one bits");
            assertEquals(0, t.qweight().get(word, 2));
        }
        // zero 4 stored as 3 = 0b011 for all 32 outputs: the bit stream 110 110 ... read from bit 0
        assertEquals(new IntMatrix(1, 3, new int[] {0xDB6DB6DB, 0xB6DB6DB6, 0x6DB6DB6D}), t.qzeros());
        assertSameMatrix(m, GptqLayout.V1.unpack(t, 3, 32, "w"));
    }

    @Test
    void twoAndEightBitWords() {
        // 2-bit: codes k mod 4 down output 0 give the byte 0b11_10_01_00 four times; symmetric zero 2 → stored 1s
        PackedTensors two = GptqLayout.V1.pack(QuantizedMatrices.of(16, 16, 2, 16, (n, k) -> n == 0 ? k % 4 : 0,
                (n, g) -> 2), "w");
        assertEquals(0xE4E4E4E4, two.qweight().get(0, 0));
        assertEquals(new IntMatrix(1, 1, new int[] {0x55555555}), two.qzeros());
        // 8-bit: code(n, k) = 16k + n, one byte per input; symmetric zero 128 → stored 127s
        PackedTensors eight = GptqLayout.V1.pack(QuantizedMatrices.of(4, 4, 8, 4, (n, k) -> 16 * k + n,
                (n, g) -> 128), "w");
        assertEquals(new IntMatrix(1, 4, new int[] {0x30201000, 0x31211101, 0x32221202, 0x33231303}), eight.qweight());
        assertEquals(new IntMatrix(1, 1, new int[] {0x7F7F7F7F}), eight.qzeros());
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void roundTripsEveryBitWidth(int bits) {
        for (GptqLayout layout : GptqLayout.values()) {
            int minZero = layout == GptqLayout.V1 ? 1 : 0;
            QuantizedMatrix grouped = QuantizedMatrices.random(64, 96, bits, 32, minZero, false, bits);
            assertSameMatrix(grouped, layout.unpack(layout.pack(grouped, "w"), bits, 32, "w"));
            QuantizedMatrix perChannel = QuantizedMatrices.random(32, 64, bits, 64, minZero, false, bits + 10);
            assertSameMatrix(perChannel, layout.unpack(layout.pack(perChannel, "w"), bits, -1, "w"));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void actOrderGroupIndexRoundTrips(int bits) {
        QuantizedMatrix m = QuantizedMatrices.random(32, 128, bits, 32, 1, true, 7 * bits);
        PackedTensors t = GptqLayout.V1.pack(m, "w");
        assertArrayEquals(m.groupIndex(), t.gIdx());
        QuantizedMatrix back = GptqLayout.V1.unpack(t, bits, 32, "w");
        assertSameMatrix(m, back);
        assertEquals(m.dequantize(5, 77), back.dequantize(5, 77));
    }

    @Test
    void aGroupIndexInOrderReadsBackAsNone() {
        QuantizedMatrix m = QuantizedMatrices.random(8, 16, 4, 8, 1, false, 1);
        PackedTensors t = GptqLayout.V1.pack(m, "w");
        assertNull(GptqLayout.V1.unpack(t, 4, 8, "w").groupIndex());
        PackedTensors withoutGIdx = new PackedTensors(t.qweight(), t.qzeros(), t.scales(), null);
        assertSameMatrix(m, GptqLayout.V1.unpack(withoutGIdx, 4, 8, "w"));
    }

    @Test
    void matricesTheLayoutCannotHold() {
        assertError("The GPTQ layout stores 2, 3, 4 or 8 bits, so w (5-bit) cannot be written in it.",
                QuantizedMatrices.random(32, 32, 5, 32, 1, false, 1), GptqLayout.V1);
        assertError("The GPTQ layout packs 3-bit codes into 32-bit words, so it needs inputs and outputs in multiples"
                + " of 32, but w has 16 inputs and 32 outputs.", QuantizedMatrices.random(32, 16, 3, 16, 1, false, 1), GptqLayout.V1);
        QuantizedMatrix zeroZero = QuantizedMatrices.of(8, 8, 4, 8, (n, k) -> 1, (n, g) -> n == 3 ? 0 : 8);
        assertError("w has the zero point 0 (row 3, group 0), which the GPTQ v1 format cannot store because it stores"
                + " zero − 1; write it as gptq_v2 or AWQ.", zeroZero, GptqLayout.V1);
        assertEquals(0, GptqLayout.V2.unpack(GptqLayout.V2.pack(zeroZero, "w"), 4, 8, "w").zero(3, 0));
        assertError("w has the code 16 at row 2, column 5, which does not fit 4 bits.",
                QuantizedMatrices.of(8, 8, 4, 8, (n, k) -> n == 2 && k == 5 ? 16 : 0, (n, g) -> 8), GptqLayout.V1);
    }

    @Test
    void tensorsThatDoNotFitTogether() {
        PackedTensors t = GptqLayout.V1.pack(ramp4((n, g) -> 8), "w");
        QtaleException e = assertThrows(QtaleException.class, () -> GptqLayout.V1.unpack(t, 4, 4, "layer"));
        assertEquals("layer.qzeros has shape [2, 1], but a 4-bit GPTQ layer with 16 inputs, 8 outputs and group size 4"
                + " needs [4, 1].", e.getMessage());
        e = assertThrows(QtaleException.class, () -> GptqLayout.V1.unpack(t, 3, 8, "layer"));
        assertEquals("layer.qweight has 2 rows of 32-bit words, which do not hold a whole number of 3-bit codes.",
                e.getMessage());
        e = assertThrows(QtaleException.class, () -> GptqLayout.V1.unpack(t, 4, 5, "layer"));
        assertEquals("The group size 5 does not divide the 16 inputs of layer.", e.getMessage());
        PackedTensors shortGIdx = new PackedTensors(t.qweight(), t.qzeros(), t.scales(), new int[15]);
        e = assertThrows(QtaleException.class, () -> GptqLayout.V1.unpack(shortGIdx, 4, 8, "layer"));
        assertEquals("layer.g_idx has shape [15], but a 4-bit GPTQ layer with 16 inputs, 8 outputs and group size 8"
                + " needs [16].", e.getMessage());
        int[] badGroups = t.gIdx().clone();
        badGroups[3] = 2;
        PackedTensors outOfRange = new PackedTensors(t.qweight(), t.qzeros(), t.scales(), badGroups);
        e = assertThrows(QtaleException.class, () -> GptqLayout.V1.unpack(outOfRange, 4, 8, "layer"));
        assertEquals("layer.g_idx puts input 3 in group 2, but the layer has 2 groups.", e.getMessage());
    }

    @Test
    void aStoredZeroThatOverflowsIsRefused() {
        PackedTensors t = GptqLayout.V1.pack(ramp4((n, g) -> 8), "w");
        // AutoGPTQ writes a zero point of 0 as 0 − 1, which wraps to all ones
        IntMatrix wrapped = new IntMatrix(2, 1, new int[] {0x7777F777, 0x77777777});
        QtaleException e = assertThrows(QtaleException.class,
                () -> GptqLayout.V1.unpack(new PackedTensors(t.qweight(), wrapped, t.scales(), t.gIdx()), 4, 8, "layer"));
        assertEquals("layer.qzeros stores 15 for output 3 of group 0, which means the zero point 16, more than 4 bits"
                + " hold (GPTQ's v1 format cannot store a zero point of 0).", e.getMessage());
    }

    @Test
    void checkpointFormats() {
        assertEquals(GptqLayout.V1, GptqLayout.ofCheckpointFormat("gptq"));
        assertEquals(GptqLayout.V2, GptqLayout.ofCheckpointFormat("gptq_v2"));
        QtaleException e = assertThrows(QtaleException.class, () -> GptqLayout.ofCheckpointFormat("marlin"));
        assertEquals("Unsupported GPTQ checkpoint_format 'marlin': qtale reads 'gptq' and 'gptq_v2'.", e.getMessage());
    }

    private static void assertError(String message, QuantizedMatrix m, GptqLayout layout) {
        QtaleException e = assertThrows(QtaleException.class, () -> layout.pack(m, "w"));
        assertEquals(message, e.getMessage());
    }
}
