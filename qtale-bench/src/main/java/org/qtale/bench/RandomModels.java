package org.qtale.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.qtale.model.LayerWeights;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.tensor.BF16Weights;
import org.qtale.quant.GroupQuantizedWeights;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.tensor.DType;
import org.qtale.tensor.F16Weights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.Half;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.Parallel;

/**
 * Models of a real shape with random weights (uniform with standard deviation 0.02, norms 1), built off-heap in the
 * chosen dtype, for benchmarks: the kernels read exactly the bytes a real checkpoint of that shape would.
 */
public final class RandomModels {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK = 1 << 16;
    private static final float HALF_WIDTH = (float) (0.02 * Math.sqrt(3));

    private RandomModels() {
    }

    /** Columns per group of the quantized dtypes (AutoGPTQ's and AutoAWQ's default). */
    public static final int GROUP_SIZE = 128;

    /**
     * A model of shape {@code c} with random weights in {@code dtype}. For a group-quantized dtype the decoder
     * projections hold random codes in groups of {@link #GROUP_SIZE} with float16 scales and zero points, and the
     * embedding and output head are BF16, as AutoGPTQ and AutoAWQ keep them in 16 bits.
     */
    public static LlamaModel build(LlamaConfig c, DType dtype, long seed, Parallel parallel) {
        Arena arena = Arena.ofShared();
        Builder b = new Builder(arena, dtype, seed, parallel);
        Builder head = dtype.isQuantized() ? new Builder(arena, DType.BF16, seed + 1, parallel) : b;
        LinearWeights embedding = head.matrix(c.vocabSize(), c.dim());
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(new LayerWeights(ones(c.dim()), b.matrix(c.qDim(), c.dim()), b.matrix(c.kvDim(), c.dim()),
                    b.matrix(c.kvDim(), c.dim()), b.matrix(c.dim(), c.qDim()), ones(c.dim()),
                    b.matrix(c.hiddenDim(), c.dim()), b.matrix(c.hiddenDim(), c.dim()), b.matrix(c.dim(), c.hiddenDim())));
        }
        LinearWeights output = c.tiedEmbeddings() ? embedding : head.matrix(c.vocabSize(), c.dim());
        return new LlamaModel(c, new LlamaWeights(embedding, layers, ones(c.dim()), output, false), arena);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    private static final class Builder {
        private final Arena arena;
        private final DType dtype;
        private final Parallel parallel;
        private long stream;

        Builder(Arena arena, DType dtype, long seed, Parallel parallel) {
            this.arena = arena;
            this.dtype = dtype;
            this.parallel = parallel;
            this.stream = seed * 0x9E3779B97F4A7C15L + 1;
        }

        LinearWeights matrix(int rows, int cols) {
            if (dtype.isQuantized()) {
                return quantized(rows, cols);
            }
            long n = (long) rows * cols;
            MemorySegment segment = arena.allocate(n * dtype.bytes(), 64);
            long base = stream;
            stream += n;
            int chunks = (int) ((n + CHUNK - 1) / CHUNK);
            parallel.forRange(chunks, (start, end) -> {
                float[] values = new float[CHUNK];
                short[] halves = new short[CHUNK];
                for (int chunk = start; chunk < end; chunk++) {
                    long from = (long) chunk * CHUNK;
                    int len = (int) Math.min(CHUNK, n - from);
                    fill(values, len, base + from);
                    write(segment, from, values, halves, len);
                }
            });
            return switch (dtype) {
                case F32 -> new F32Weights(segment, rows, cols);
                case F16 -> new F16Weights(segment, rows, cols);
                case BF16 -> new BF16Weights(segment, rows, cols);
                case I32 -> throw new IllegalArgumentException("random weights need a float dtype, not I32");
                case Q2, Q3, Q4, Q8 -> throw new IllegalArgumentException("Random models are built in float dtypes, not "
                        + dtype + ".");
            };
        }

        /** Random codes spread over the whole grid, scales spanning the float models' range, zero points mid-grid. */
        private LinearWeights quantized(int rows, int cols) {
            int maxCode = (1 << dtype.bits()) - 1;
            int groups = cols / GROUP_SIZE;
            byte[] codes = new byte[rows * cols];
            long base = stream;
            stream += (long) rows * cols;
            int chunks = (codes.length + CHUNK - 1) / CHUNK;
            parallel.forRange(chunks, (start, end) -> {
                float[] values = new float[CHUNK];
                for (int chunk = start; chunk < end; chunk++) {
                    int from = chunk * CHUNK;
                    int len = Math.min(CHUNK, codes.length - from);
                    fill(values, len, base + from);
                    for (int i = 0; i < len; i++) {
                        double u = (values[i] / HALF_WIDTH + 1) / 2;
                        codes[from + i] = (byte) Math.min(maxCode, (int) (u * (maxCode + 1)));
                    }
                }
            });
            float[] scales = new float[rows * groups];
            Arrays.fill(scales, 2 * HALF_WIDTH / maxCode);
            byte[] zeros = new byte[rows * groups];
            Arrays.fill(zeros, (byte) ((maxCode + 1) / 2));
            return GroupQuantizedWeights.of(new QuantizedMatrix(rows, cols, dtype.bits(), GROUP_SIZE, codes, scales, zeros,
                    null));
        }

        private void write(MemorySegment segment, long from, float[] values, short[] halves, int len) {
            if (dtype == DType.F32) {
                MemorySegment.copy(values, 0, segment, FLOAT, from * 4, len);
                return;
            }
            for (int i = 0; i < len; i++) {
                halves[i] = dtype == DType.BF16 ? Half.floatToBf16(values[i]) : Half.floatToF16(values[i]);
            }
            MemorySegment.copy(halves, 0, segment, SHORT, from * 2, len);
        }

        /** Uniform values from a counter-based hash, so the result does not depend on the thread count. */
        private static void fill(float[] values, int len, long counter) {
            for (int i = 0; i < len; i++) {
                long z = (counter + i) * 0x9E3779B97F4A7C15L;
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                z ^= z >>> 31;
                float u = (z >>> 40) / (float) (1L << 24);
                values[i] = (2 * u - 1) * HALF_WIDTH;
            }
        }
    }
}
