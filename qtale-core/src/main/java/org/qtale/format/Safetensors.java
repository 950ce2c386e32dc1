package org.qtale.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.qtale.QtaleException;
import org.qtale.tensor.DType;

/**
 * The tensors of a safetensors checkpoint, memory-mapped in place. A file is an 8-byte little-endian header length,
 * a JSON header mapping each tensor name to its {@code dtype}, {@code shape} and {@code data_offsets} (relative to
 * the end of the header), then the data. A sharded checkpoint has several such files and an index
 * ({@code model.safetensors.index.json}) whose {@code weight_map} names the file of each tensor.
 */
public final class Safetensors {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    static final String METADATA_KEY = "__metadata__";
    /** The limit the reference implementation puts on headers; anything larger is a corrupt length. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Map<String, MappedTensor> tensors;
    private final Map<String, String> metadata;

    private Safetensors(Map<String, MappedTensor> tensors, Map<String, String> metadata) {
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Maps one {@code .safetensors} file; the mapping lives as long as {@code arena}. */
    public static Safetensors open(Path file, Arena arena) {
        return parse(MappedFile.map(file, arena), file.toString());
    }

    /** The tensors of a model directory: from the index when there is one, else from {@code model.safetensors}. */
    public static Safetensors openDirectory(Path dir, Arena arena) {
        if (Files.isRegularFile(dir.resolve(INDEX_FILE))) {
            return openIndex(dir.resolve(INDEX_FILE), arena);
        }
        if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) {
            return open(dir.resolve(SINGLE_FILE), arena);
        }
        throw new QtaleException(dir + " has neither " + SINGLE_FILE + " nor " + INDEX_FILE + ".");
    }

    /** A sharded checkpoint: every tensor the index's {@code weight_map} names, from the shard it names. */
    public static Safetensors openIndex(Path index, Arena arena) {
        JsonNode weightMap = Json.readObject(index).path("weight_map");
        if (!weightMap.isObject() || weightMap.isEmpty()) {
            throw new QtaleException(index + " has no 'weight_map' object naming the shard of each tensor.");
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, Safetensors> shards = new LinkedHashMap<>();
        Map<String, MappedTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
            String shardName = entry.getValue().asText("");
            Path shard = shardPath(dir, shardName, index);
            Safetensors file = shards.computeIfAbsent(shardName, s -> open(shard, arena));
            MappedTensor tensor = file.find(entry.getKey()).orElseThrow(() -> new QtaleException(index
                    + " maps tensor " + entry.getKey() + " to " + shardName + ", which does not contain it."));
            tensors.put(entry.getKey(), tensor);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        shards.values().forEach(s -> metadata.putAll(s.metadata));
        return new Safetensors(tensors, metadata);
    }

    /** Shard names are plain file names inside the checkpoint directory. */
    private static Path shardPath(Path dir, String name, Path index) {
        Path shard = dir.resolve(name).normalize();
        if (name.isEmpty() || !dir.equals(shard.getParent())) {
            throw new QtaleException(index + " names the shard '" + name + "', which is not a file name in " + dir + ".");
        }
        return shard;
    }

    /** Reads the header of a safetensors image and slices its tensors out of {@code file}. */
    public static Safetensors parse(MemorySegment file, String source) {
        long size = file.byteSize();
        if (size < Long.BYTES) {
            throw new QtaleException(source + " is too short to be a safetensors file (" + size + " bytes).");
        }
        long headerLength = file.get(LONG, 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - Long.BYTES) {
            throw new QtaleException(source + " has a bad safetensors header length: it announces "
                    + Long.toUnsignedString(headerLength) + " bytes of JSON but the file has " + (size - Long.BYTES)
                    + " bytes after the length field.");
        }
        JsonNode header = Json.parse(file.asSlice(Long.BYTES, headerLength).toArray(ValueLayout.JAVA_BYTE),
                "the safetensors header of " + source);
        if (!header.isObject()) {
            throw new QtaleException("The safetensors header of " + source + " is not a JSON object.");
        }
        MemorySegment data = file.asSlice(Long.BYTES + headerLength);
        Map<String, MappedTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : header.properties()) {
            if (entry.getKey().equals(METADATA_KEY)) {
                entry.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
            } else {
                tensors.put(entry.getKey(), tensor(entry.getKey(), entry.getValue(), data, source));
            }
        }
        return new Safetensors(tensors, metadata);
    }

    private static MappedTensor tensor(String name, JsonNode entry, MemorySegment data, String source) {
        JsonNode dtypeNode = entry.path("dtype");
        if (!dtypeNode.isTextual()) {
            throw malformed(source, name, "dtype", "a string such as \"F32\"");
        }
        DType dtype = dtype(dtypeNode.asText(), name, source);
        int[] shape = shape(entry.path("shape"), name, source);
        long[] offsets = offsets(entry.path("data_offsets"), name, source);
        if (offsets[1] > data.byteSize()) {
            throw new QtaleException(source + " has truncated tensor data: tensor " + name + " ends at byte " + offsets[1]
                    + " of the data section, but only " + data.byteSize() + " bytes follow the header.");
        }
        long needed = MappedTensor.elementCount(shape) * dtype.bytes();
        if (offsets[1] - offsets[0] != needed) {
            throw new QtaleException("Tensor " + name + " in " + source + " has " + (offsets[1] - offsets[0])
                    + " bytes of data, but its shape " + Arrays.toString(shape) + " of " + dtype.safetensorsName()
                    + " needs " + needed + ".");
        }
        return new MappedTensor(name, dtype, shape, data.asSlice(offsets[0], needed), source);
    }

    private static DType dtype(String name, String tensor, String source) {
        for (DType t : DType.values()) {
            if (!t.isQuantized() && t.safetensorsName().equals(name)) {
                return t;
            }
        }
        throw new QtaleException("Unsupported tensor dtype '" + name + "' of tensor " + tensor + " in " + source
                + " (qtale reads F32, F16, BF16 and I32).");
    }

    private static int[] shape(JsonNode node, String tensor, String source) {
        if (!node.isArray()) {
            throw malformed(source, tensor, "shape", "an array of non-negative integers");
        }
        int[] shape = new int[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw malformed(source, tensor, "shape", "an array of non-negative integers");
            }
            shape[i] = d.intValue();
        }
        try {
            Math.multiplyExact(MappedTensor.elementCount(shape), Long.BYTES);
        } catch (ArithmeticException e) {
            throw malformed(source, tensor, "shape", "a shape whose size fits in 64 bits");
        }
        return shape;
    }

    private static long[] offsets(JsonNode node, String tensor, String source) {
        boolean valid = node.isArray() && node.size() == 2 && node.get(0).isIntegralNumber()
                && node.get(1).isIntegralNumber() && node.get(0).canConvertToLong() && node.get(1).canConvertToLong();
        long begin = valid ? node.get(0).longValue() : -1;
        long end = valid ? node.get(1).longValue() : -1;
        if (begin < 0 || end < begin) {
            throw malformed(source, tensor, "data_offsets", "two non-decreasing non-negative integers [begin, end]");
        }
        return new long[] {begin, end};
    }

    private static QtaleException malformed(String source, String tensor, String field, String expected) {
        return new QtaleException("The safetensors header of " + source + " gives tensor " + tensor + " an invalid '"
                + field + "' (expected " + expected + ").");
    }

    /** Tensor names in header (or index) order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public Optional<MappedTensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The named tensor; a missing one is an error naming it. */
    public MappedTensor tensor(String name) {
        MappedTensor t = tensors.get(name);
        if (t == null) {
            throw new QtaleException("The checkpoint has no tensor named " + name + ".");
        }
        return t;
    }

    /** The string pairs of {@code __metadata__} (for shards, merged). */
    public Map<String, String> metadata() {
        return metadata;
    }
}
