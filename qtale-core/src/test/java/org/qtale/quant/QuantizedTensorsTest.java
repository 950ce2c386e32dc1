package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.qtale.quant.QuantizedMatrices.assertSameMatrix;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.format.Safetensors;
import org.qtale.format.SafetensorsWriter;
import org.qtale.format.WritableTensor;
import org.qtale.quant.QuantizationConfig.Awq;
import org.qtale.quant.QuantizationConfig.Gptq;
import org.qtale.tensor.DType;
import org.qtale.tensor.Half;

class QuantizedTensorsTest {
    private static final String Q = "model.layers.0.self_attn.q_proj";
    private static final String DOWN = "model.layers.0.mlp.down_proj";

    @TempDir
    Path dir;

    /** The matrix as it reads back from a file: scales rounded to float16. */
    static QuantizedMatrix withHalfScales(QuantizedMatrix m) {
        float[] scales = m.scales().clone();
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Half.f16ToFloat(Half.floatToF16(scales[i]));
        }
        return new QuantizedMatrix(m.rows(), m.cols(), m.bits(), m.groupSize(), m.codes(), scales, m.zeros(),
                m.groupIndex());
    }

    private Path write(Map<String, QuantizedMatrix> linears, QuantizationConfig config) {
        Path file = dir.resolve("q.safetensors");
        SafetensorsWriter.write(file, QuantizedTensors.tensors(linears, config), Map.of());
        return file;
    }

    @Test
    void gptqLayersReadBackAsWritten() {
        QuantizedMatrix q = QuantizedMatrices.random(64, 32, 4, 16, 1, true, 1);
        QuantizedMatrix down = QuantizedMatrices.random(32, 64, 4, 16, 1, false, 2);
        Gptq config = Gptq.of(4, 16, true, false);
        Path file = write(Map.of(DOWN, down, Q, q), config);
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(file, arena);
            assertEquals(List.of(DOWN + ".qweight", DOWN + ".qzeros", DOWN + ".scales", DOWN + ".g_idx",
                    Q + ".qweight", Q + ".qzeros", Q + ".scales", Q + ".g_idx"), List.copyOf(st.names()));
            assertEquals(DType.I32, st.tensor(Q + ".qweight").dtype());
            assertArrayEquals(new int[] {4, 64}, st.tensor(Q + ".qweight").shape());
            assertArrayEquals(new int[] {2, 8}, st.tensor(Q + ".qzeros").shape());
            assertEquals(DType.F16, st.tensor(Q + ".scales").dtype());
            assertArrayEquals(new int[] {2, 64}, st.tensor(Q + ".scales").shape());
            assertArrayEquals(q.groupIndex(), st.tensor(Q + ".g_idx").toIntArray());
            assertTrue(QuantizedTensors.isQuantized(st, Q));
            assertFalse(QuantizedTensors.isQuantized(st, "model.layers.0.self_attn.k_proj"));
            assertSameMatrix(withHalfScales(q), QuantizedTensors.read(st, Q, config, 64, 32));
            assertSameMatrix(withHalfScales(down), QuantizedTensors.read(st, DOWN, config));
        }
    }

    @Test
    void awqLayersReadBackAsWritten() {
        QuantizedMatrix q = QuantizedMatrices.random(64, 32, 4, 16, 0, false, 3);
        Path file = write(Map.of(Q, q), Awq.of(16));
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(file, arena);
            assertEquals(List.of(Q + ".qweight", Q + ".qzeros", Q + ".scales"), List.copyOf(st.names()));
            assertArrayEquals(new int[] {32, 8}, st.tensor(Q + ".qweight").shape());
            assertArrayEquals(new int[] {2, 8}, st.tensor(Q + ".qzeros").shape());
            assertSameMatrix(withHalfScales(q), QuantizedTensors.read(st, Q, Awq.of(16)));
        }
    }

    @Test
    void everyGptqBitWidthReadsBack() {
        for (int bits : new int[] {2, 3, 4, 8}) {
            QuantizedMatrix m = QuantizedMatrices.random(32, 64, bits, 32, 1, bits == 3, bits);
            Gptq config = Gptq.of(bits, 32, bits == 3, true);
            try (Arena arena = Arena.ofConfined()) {
                Safetensors st = Safetensors.open(write(Map.of(Q, m), config), arena);
                assertSameMatrix(withHalfScales(m), QuantizedTensors.read(st, Q, config));
            }
        }
    }

    @Test
    void matricesMustAgreeWithTheConfig() {
        QuantizedMatrix m = QuantizedMatrices.random(32, 64, 4, 32, 1, false, 1);
        QtaleException e = assertThrows(QtaleException.class,
                () -> QuantizedTensors.tensors(Map.of(Q, m), Gptq.of(3, 32, false, true)));
        assertEquals(Q + " is quantized to 4 bits in groups of 32, but the quantization_config says 3 bits in groups"
                + " of 32.", e.getMessage());
        e = assertThrows(QtaleException.class, () -> QuantizedTensors.tensors(Map.of(Q, m), Gptq.of(4, -1, false, true)));
        assertEquals(Q + " is quantized to 4 bits in groups of 32, but the quantization_config says 4 bits in groups"
                + " of a whole row.", e.getMessage());
        QuantizedMatrix actOrder = QuantizedMatrices.random(32, 64, 4, 32, 1, true, 1);
        e = assertThrows(QtaleException.class, () -> QuantizedTensors.tensors(Map.of(Q, actOrder), Awq.of(32)));
        assertTrue(e.getMessage().startsWith("The AWQ layout has no g_idx, so " + Q), e.getMessage());
    }

    @Test
    void badTensorsAreNamed() {
        QuantizedMatrix m = QuantizedMatrices.random(32, 64, 4, 32, 1, false, 1);
        Gptq config = Gptq.of(4, 32, false, true);
        Path file = write(Map.of(Q, m), config);
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(file, arena);
            QtaleException e = assertThrows(QtaleException.class, () -> QuantizedTensors.read(st, Q, config, 64, 32));
            assertEquals("The quantized layer " + Q + " maps 64 inputs to 32 outputs, but config.json implies 32 to 64.",
                    e.getMessage());
            e = assertThrows(QtaleException.class, () -> QuantizedTensors.read(st, Q, Gptq.of(4, 16, false, true)));
            assertEquals(Q + ".qzeros has shape [2, 4], but a 4-bit GPTQ layer with 64 inputs, 32 outputs and group size"
                    + " 16 needs [4, 4].", e.getMessage());
            e = assertThrows(QtaleException.class, () -> QuantizedTensors.read(st, "model.layers.1.mlp.up_proj", config));
            assertEquals("The checkpoint has no tensor named model.layers.1.mlp.up_proj.qweight.", e.getMessage());
        }
        SequencedMap<String, WritableTensor> floats = new LinkedHashMap<>(QuantizedTensors.tensors(Map.of(Q, m), config));
        floats.put(Q + ".qweight", WritableTensor.of(DType.F16, new int[] {8, 32}, new float[256]));
        Path wrong = dir.resolve("wrong.safetensors");
        SafetensorsWriter.write(wrong, floats, Map.of());
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(wrong, arena);
            QtaleException e = assertThrows(QtaleException.class, () -> QuantizedTensors.read(st, Q, config));
            assertEquals("Tensor " + Q + ".qweight in " + wrong + " has dtype F16 but must hold I32 integers.",
                    e.getMessage());
        }
    }
}
