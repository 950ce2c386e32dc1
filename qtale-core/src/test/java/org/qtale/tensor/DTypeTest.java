package org.qtale.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;

class DTypeTest {
    @Test
    void storedTypesHaveBytesAndSafetensorsNames() {
        assertEquals(4, DType.F32.bytes());
        assertEquals(2, DType.BF16.bytes());
        assertEquals(DType.F16, DType.fromSafetensors("F16"));
        assertEquals(DType.BF16, DType.parse("bf16"));
        assertFalse(DType.F32.isQuantized());
        assertEquals(DType.I32, DType.fromSafetensors("I32"));
        assertEquals(4, DType.I32.bytes());
        assertThrows(QtaleException.class, () -> DType.parse("i32"));
    }

    @Test
    void quantizedTypesAreNamedByTheirBitsAndStayInMemory() {
        for (int bits : new int[] {2, 3, 4, 8}) {
            DType t = DType.quantized(bits);
            assertTrue(t.isQuantized());
            assertEquals(bits, t.bits());
            assertEquals("Q" + bits, t.name());
            assertThrows(IllegalStateException.class, t::bytes);
            assertThrows(IllegalStateException.class, t::safetensorsName);
        }
        assertThrows(QtaleException.class, () -> DType.quantized(5));
        assertThrows(QtaleException.class, () -> DType.parse("q4"));
        assertThrows(QtaleException.class, () -> DType.fromSafetensors("Q4"));
    }
}
