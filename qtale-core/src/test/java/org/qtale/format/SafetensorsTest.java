package org.qtale.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.tensor.DType;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static SequencedMap<String, WritableTensor> threeDtypes() {
        SequencedMap<String, WritableTensor> tensors = new LinkedHashMap<>();
        tensors.put("a", WritableTensor.of(DType.F32, new int[] {2}, new float[] {1f, -2f}));
        tensors.put("b", WritableTensor.of(DType.F16, new int[] {1, 2}, new float[] {0.1f, -1.5f}));
        tensors.put("c", WritableTensor.of(DType.BF16, new int[] {2}, new float[] {1f, 3.14159f}));
        return tensors;
    }

    @Test
    void writesTheExpectedBytes() throws IOException {
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(file, threeDtypes(), Map.of("format", "pt"));

        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[8,12]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]}}   "; // 197 bytes + 3 spaces
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(HexFormat.of().parseHex("c800000000000000")); // 200, little-endian
        expected.writeBytes(header.getBytes(StandardCharsets.UTF_8));
        expected.writeBytes(HexFormat.of().parseHex(
                "0000803f" + "000000c0" // F32 1, -2
                + "662e" + "00be"       // F16 0.1 (0x2E66, rounded), -1.5
                + "803f" + "4940"));    // BF16 1, 3.14159 rounded to 3.140625
        assertEquals(HexFormat.of().formatHex(expected.toByteArray()), HexFormat.of().formatHex(Files.readAllBytes(file)));
        assertFalse(Files.exists(dir.resolve(".t.safetensors.partial")));
    }

    @Test
    void readsBackWhatWasWritten() {
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(file, threeDtypes(), Map.of("format", "pt", "note", "x"));
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.open(file, arena);
            assertEquals(List.of("a", "b", "c"), List.copyOf(st.names()));
            assertEquals(Map.of("format", "pt", "note", "x"), st.metadata());
            assertTensor(st.tensor("a"), DType.F32, new int[] {2}, new float[] {1f, -2f});
            assertTensor(st.tensor("b"), DType.F16, new int[] {1, 2}, new float[] {0.0999755859375f, -1.5f});
            assertTensor(st.tensor("c"), DType.BF16, new int[] {2}, new float[] {1f, 3.140625f});
            assertEquals(DType.F16, st.tensor("b").asLinearWeights().dtype());
            assertEquals(-1.5f, st.tensor("b").asLinearWeights().get(0, 1));
        }
    }

    @Test
    void int32TensorsAreWrittenLittleEndianAndReadBackExactly() throws IOException {
        Path file = dir.resolve("i.safetensors");
        SequencedMap<String, WritableTensor> tensors = new LinkedHashMap<>();
        int[] words = {0x77777777, -1, Integer.MIN_VALUE, 0x01020304};
        tensors.put("q", WritableTensor.ofInts(new int[] {2, 2}, words));
        SafetensorsWriter.write(file, tensors, Map.of());
        byte[] bytes = Files.readAllBytes(file);
        assertEquals("77777777" + "ffffffff" + "00000080" + "04030201",
                HexFormat.of().formatHex(bytes, bytes.length - 16, bytes.length));
        try (Arena arena = Arena.ofConfined()) {
            MappedTensor q = Safetensors.open(file, arena).tensor("q");
            assertEquals(DType.I32, q.dtype());
            assertArrayEquals(new int[] {2, 2}, q.shape());
            assertArrayEquals(words, q.toIntArray());
            QtaleException e = assertThrows(QtaleException.class, q::toFloatArray);
            assertEquals("Tensor q in " + file + " holds I32 integers, but qtale needs a float type (F32, F16 or BF16) here.",
                    e.getMessage());
            assertThrows(QtaleException.class, q::asLinearWeights);
        }
    }

    @Test
    void floatTensorsAreNotReadAsInts() {
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(file, threeDtypes(), Map.of());
        try (Arena arena = Arena.ofConfined()) {
            MappedTensor a = Safetensors.open(file, arena).tensor("a");
            QtaleException e = assertThrows(QtaleException.class, a::toIntArray);
            assertEquals("Tensor a in " + file + " has dtype F32 but must hold I32 integers.", e.getMessage());
        }
    }

    @Test
    void aTensorSuppliesValuesOfItsOwnKind() {
        assertThrows(IllegalArgumentException.class, () -> new WritableTensor(DType.I32, new int[] {1}, () -> new float[1]));
        assertThrows(IllegalArgumentException.class, () -> new WritableTensor(DType.F32, new int[] {1}, null, () -> new int[1]));
        assertEquals("Unknown dtype 'i32'; use f32, f16 or bf16.", assertThrows(QtaleException.class, () -> DType.parse("i32")).getMessage());
        assertEquals("A model's weights are stored as F32, F16 or BF16, not I32.",
                assertThrows(QtaleException.class, () -> HfCheckpointWriter.Options.of(DType.I32)).getMessage());
    }

    private static void assertTensor(MappedTensor t, DType dtype, int[] shape, float[] values) {
        assertEquals(dtype, t.dtype());
        assertArrayEquals(shape, t.shape());
        assertArrayEquals(values, t.toFloatArray());
    }

    @Test
    void emptyTensorsAndAnEmptyHeaderAreValid() throws IOException {
        Path file = write("{}", 0);
        try (Arena arena = Arena.ofConfined()) {
            assertTrue(Safetensors.open(file, arena).names().isEmpty());
        }
        Path empty = write("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]}}", 0);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(0, Safetensors.open(empty, arena).tensor("e").elementCount());
        }
    }

    @Test
    void missingFile() {
        assertError(dir.resolve("nope.safetensors"), "File not found");
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertError(file, "too short to be a safetensors file");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path file = dir.resolve("len.safetensors");
        byte[] bytes = ByteBuffer.allocate(8 + 10).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array();
        Files.write(file, bytes);
        assertError(file, "bad safetensors header length: it announces 1000 bytes");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
        assertError(file, "announces 18446744073709551615 bytes");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        assertError(write("{\"a\": garbage}", 0), "is not valid JSON");
        assertError(write("{\"a\":{}} trailing", 0), "is not valid JSON");
        assertError(write("[1, 2]", 0), "is not a JSON object");
    }

    @Test
    void truncatedTensorData() throws IOException {
        Path file = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 12);
        assertError(file, "truncated tensor data: tensor w ends at byte 16 of the data section, but only 12 bytes");
    }

    @Test
    void dataSizeThatDoesNotMatchTheShape() throws IOException {
        Path file = write("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 16);
        assertError(file, "Tensor w in " + file + " has 8 bytes of data, but its shape [2, 3] of BF16 needs 12.");
    }

    @Test
    void unsupportedDtypes() throws IOException {
        for (String dtype : List.of("I8", "F64", "U8", "F8_E4M3")) {
            Path file = write("{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8);
            assertError(file, "Unsupported tensor dtype '" + dtype + "' of tensor w");
        }
    }

    @Test
    void malformedEntries() throws IOException {
        assertError(write("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "invalid 'dtype'");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "invalid 'shape'");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,4]}}", 4), "invalid 'shape'");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4), "invalid 'data_offsets'");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "invalid 'data_offsets'");
    }

    @Test
    void shardedCheckpointThroughTheIndex() throws IOException {
        SequencedMap<String, WritableTensor> first = new LinkedHashMap<>();
        first.put("x", WritableTensor.of(DType.F32, new int[] {1}, new float[] {7f}));
        SequencedMap<String, WritableTensor> second = new LinkedHashMap<>();
        second.put("y", WritableTensor.of(DType.BF16, new int[] {2}, new float[] {1f, 2f}));
        second.put("unlisted", WritableTensor.of(DType.F32, new int[] {1}, new float[] {0f}));
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first, Map.of());
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        writeIndex("{\"metadata\":{\"total_size\":12},\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\","
                + "\"y\":\"model-00002-of-00002.safetensors\"}}");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors st = Safetensors.openDirectory(dir, arena);
            assertEquals(List.of("x", "y"), List.copyOf(st.names()));
            assertArrayEquals(new float[] {7f}, st.tensor("x").toFloatArray());
            assertArrayEquals(new float[] {1f, 2f}, st.tensor("y").toFloatArray());
            QtaleException e = assertThrows(QtaleException.class, () -> st.tensor("z"));
            assertEquals("The checkpoint has no tensor named z.", e.getMessage());
        }
    }

    @Test
    void badIndexes() throws IOException {
        SafetensorsWriter.write(dir.resolve("a.safetensors"),
                new LinkedHashMap<>(Map.of("x", WritableTensor.of(DType.F32, new int[] {1}, new float[] {7f}))), Map.of());
        writeIndex("{\"weight_map\":{\"y\":\"a.safetensors\"}}");
        assertIndexError("maps tensor y to a.safetensors, which does not contain it.");
        writeIndex("{\"weight_map\":{\"x\":\"../a.safetensors\"}}");
        assertIndexError("names the shard '../a.safetensors', which is not a file name in");
        writeIndex("{\"weight_map\":{\"x\":\"b.safetensors\"}}");
        assertIndexError("File not found: " + dir.resolve("b.safetensors"));
        writeIndex("{\"metadata\":{}}");
        assertIndexError("has no 'weight_map' object");
        writeIndex("not json");
        assertIndexError("is not valid JSON");
    }

    @Test
    void directoryWithoutTensors() {
        try (Arena arena = Arena.ofConfined()) {
            QtaleException e = assertThrows(QtaleException.class, () -> Safetensors.openDirectory(dir, arena));
            assertEquals(dir + " has neither model.safetensors nor model.safetensors.index.json.", e.getMessage());
        }
    }

    private void writeIndex(String json) throws IOException {
        Files.writeString(dir.resolve(Safetensors.INDEX_FILE), json);
    }

    private void assertIndexError(String fragment) {
        try (Arena arena = Arena.ofConfined()) {
            QtaleException e = assertThrows(QtaleException.class, () -> Safetensors.openDirectory(dir, arena));
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
        }
    }

    /** A file with the given header (unpadded) followed by {@code dataBytes} zero bytes. */
    private Path write(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path file = Files.createTempFile(dir, "case", ".safetensors");
        Files.write(file, b.array());
        return file;
    }

    private static void assertError(Path file, String fragment) {
        try (Arena arena = Arena.ofConfined()) {
            QtaleException e = assertThrows(QtaleException.class, () -> Safetensors.open(file, arena));
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
            assertTrue(e.getMessage().endsWith("."), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
