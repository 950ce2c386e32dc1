package org.qtale.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.SequencedMap;
import org.qtale.QtaleException;
import org.qtale.tensor.DType;
import org.qtale.tensor.Half;

/**
 * Writes safetensors files: the header lists the tensors in the given order, with {@code __metadata__} first, as
 * compact JSON padded with spaces to a multiple of 8 bytes so that the data section starts 8-byte aligned.
 */
public final class SafetensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    private SafetensorsWriter() {
    }

    /** Writes {@code file} through a temporary sibling, so that a failure leaves no partial file behind. */
    public static void write(Path file, SequencedMap<String, WritableTensor> tensors, Map<String, String> metadata) {
        Path temp = file.resolveSibling("." + file.getFileName() + ".partial");
        try {
            byte[] header = header(tensors, metadata);
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer length = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                writeFully(out, length.putLong(0, header.length));
                writeFully(out, ByteBuffer.wrap(header));
                ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (Map.Entry<String, WritableTensor> e : tensors.entrySet()) {
                    writeData(out, e.getKey(), e.getValue(), chunk);
                }
                out.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new QtaleException("Cannot write " + file + ": " + e.getMessage() + ".", e);
        } catch (RuntimeException e) {
            deleteQuietly(temp);
            throw e;
        }
    }

    /** The header JSON, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(SequencedMap<String, WritableTensor> tensors, Map<String, String> metadata) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(Safetensors.METADATA_KEY);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, WritableTensor> e : tensors.entrySet()) {
            if (e.getKey().equals(Safetensors.METADATA_KEY)) {
                throw new QtaleException("A tensor cannot be named " + Safetensors.METADATA_KEY + ".");
            }
            WritableTensor t = e.getValue();
            ObjectNode entry = root.putObject(e.getKey());
            entry.put("dtype", t.dtype().safetensorsName());
            Arrays.stream(t.shape()).forEach(entry.putArray("shape")::add);
            entry.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] json;
        try {
            json = Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        byte[] padded = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeData(FileChannel out, String name, WritableTensor t, ByteBuffer chunk) throws IOException {
        if (t.dtype() == DType.I32) {
            writeInts(out, name, t, chunk);
            return;
        }
        float[] values = t.values().get();
        checkLength(name, t, values.length);
        int perChunk = CHUNK_BYTES / t.dtype().bytes();
        for (int from = 0; from < values.length; from += perChunk) {
            int count = Math.min(perChunk, values.length - from);
            chunk.clear();
            encode(values, from, count, t.dtype(), chunk);
            chunk.flip();
            writeFully(out, chunk);
        }
    }

    private static void writeInts(FileChannel out, String name, WritableTensor t, ByteBuffer chunk) throws IOException {
        int[] values = t.ints().get();
        checkLength(name, t, values.length);
        int perChunk = CHUNK_BYTES / Integer.BYTES;
        for (int from = 0; from < values.length; from += perChunk) {
            int count = Math.min(perChunk, values.length - from);
            chunk.clear();
            chunk.asIntBuffer().put(values, from, count);
            chunk.position(count * Integer.BYTES).flip();
            writeFully(out, chunk);
        }
    }

    private static void checkLength(String name, WritableTensor t, int length) {
        if (length != t.elementCount()) {
            throw new QtaleException("Tensor " + name + " has " + length + " values but its shape "
                    + Arrays.toString(t.shape()) + " needs " + t.elementCount() + ".");
        }
    }

    /** Little-endian float values, rounded to nearest even for the 16-bit types. */
    static void encode(float[] values, int from, int count, DType dtype, ByteBuffer out) {
        switch (dtype) {
            case F32 -> out.asFloatBuffer().put(values, from, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out.putShort(2 * i, Half.floatToF16(values[from + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out.putShort(2 * i, Half.floatToBf16(values[from + i]));
                }
            }
            case I32 -> throw new IllegalArgumentException("I32 tensors hold ints, not floats");
        }
        out.position(count * dtype.bytes());
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // the original failure is the one worth reporting
        }
    }
}
