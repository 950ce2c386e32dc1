package org.qtale.bench.jmh;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.qtale.quant.GroupQuantizedWeights;
import org.qtale.quant.QuantizedMatrix;
import org.qtale.tensor.BF16Weights;
import org.qtale.tensor.DType;
import org.qtale.tensor.F16Weights;
import org.qtale.tensor.F32Weights;
import org.qtale.tensor.LinearInput;
import org.qtale.tensor.LinearWeights;
import org.qtale.tensor.ScalarOps;
import org.qtale.tensor.VectorOps;

/**
 * Single-thread kernel speed: the decode matrix-vector product and the prefill matrix-matrix product of each weight
 * format (against the scalar reference as the baseline), and the element-wise kernels. Run with
 * {@code ./qtale jmh KernelBenchmarks}; for instance {@code ./qtale jmh KernelBenchmarks.matVec -p dtype=F32,BF16,Q4
 * -p coldMiB=512} times the decode product of float32, bfloat16 and 4-bit weights streaming from memory. Weight bytes
 * read per second are the format's {@code byteSize} (printed at setup) over the time per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class KernelBenchmarks {
    /** A float type, or Q2, Q3, Q4, Q8 for group-quantized weights (random codes, group size {@link #groupSize}). */
    @Param({"F32", "BF16", "F16", "Q2", "Q3", "Q4", "Q8"})
    public String dtype;

    /** Columns per group of the quantized types. */
    @Param({"128"})
    public int groupSize;

    /**
     * 0 to use one matrix, which the caches may hold between operations; else copies of it spanning at least this many
     * MiB, each product using the next, so that the weights stream from memory.
     */
    @Param({"0"})
    public int coldMiB;

    /** rows x cols of the weight matrix (an FFN projection of the 1B shape by default). */
    @Param({"2048x8192"})
    public String shape;

    @Param({"32"})
    public int tokens;

    private LinearWeights weights;
    private LinearWeights[] copies;
    private int next;
    private float[] x1;
    private float[] xBatch;
    private float[] out;
    private float[] vector;
    private float[] vector2;
    private float[] norm;

    @Setup
    public void setup() {
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]);
        int cols = Integer.parseInt(dims[1]);
        Random random = new Random(1);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * 0.02f;
        }
        DType type = DType.valueOf(dtype);
        copies = new LinearWeights[Math.max(1, (int) Math.ceil(coldMiB * 1048576.0 / bytes(type, rows, cols)))];
        QuantizedMatrix quantized = type.isQuantized() ? randomQuantized(random, rows, cols, type.bits(), groupSize) : null;
        for (int i = 0; i < copies.length; i++) {
            copies[i] = weights(type, values, rows, cols, quantized);
        }
        weights = copies[0];
        System.out.printf("%n%s %s: %d bytes of weights, %d cop%s%n", dtype, shape, weights.byteSize(), copies.length,
                copies.length == 1 ? "y" : "ies");
        x1 = new float[cols];
        xBatch = new float[tokens * cols];
        for (int i = 0; i < xBatch.length; i++) {
            xBatch[i] = (float) random.nextGaussian();
        }
        System.arraycopy(xBatch, 0, x1, 0, cols);
        out = new float[tokens * rows];
        vector = new float[cols];
        vector2 = new float[cols];
        norm = new float[cols];
        java.util.Arrays.fill(norm, 1f);
        System.arraycopy(xBatch, 0, vector, 0, cols);
        System.arraycopy(xBatch, cols, vector2, 0, cols);
    }

    private static LinearWeights weights(DType type, float[] values, int rows, int cols, QuantizedMatrix quantized) {
        return switch (type) {
            case F32 -> F32Weights.of(values, rows, cols);
            case BF16 -> BF16Weights.of(values, rows, cols);
            case F16 -> F16Weights.of(values, rows, cols);
            case Q2, Q3, Q4, Q8 -> GroupQuantizedWeights.of(quantized);
            case I32 -> throw new IllegalArgumentException("not a weight dtype: " + type);
        };
    }

    private long bytes(DType type, int rows, int cols) {
        long groups = (long) rows * (cols / groupSize);
        return type.isQuantized() ? (long) rows * cols * type.bits() / 8 + groups * 3 : (long) rows * cols * type.bytes();
    }

    /** Random codes, zero points and scales: the kernels' speed does not depend on the values. */
    static QuantizedMatrix randomQuantized(Random random, int rows, int cols, int bits, int groupSize) {
        int groups = rows * (cols / groupSize);
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) random.nextInt(1 << bits);
        }
        float[] scales = new float[groups];
        byte[] zeros = new byte[groups];
        for (int i = 0; i < groups; i++) {
            scales[i] = 0.002f * (1 + random.nextFloat());
            zeros[i] = (byte) random.nextInt(1 << bits);
        }
        return new QuantizedMatrix(rows, cols, bits, groupSize, codes, scales, zeros, null);
    }

    /** The matrix for the next product: the same one, or the next copy when {@link #coldMiB} is set. */
    private LinearWeights nextWeights() {
        LinearWeights w = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        return w;
    }

    @Benchmark
    public float[] matVec() {
        LinearWeights w = nextWeights();
        LinearInput input = w.prepare(x1, 1);
        w.multiply(input, out, 0, w.rows());
        return out;
    }

    @Benchmark
    public float[] matVecScalarReference() {
        weights.multiplyReference(x1, 1, out, 0, weights.rows());
        return out;
    }

    @Benchmark
    public float[] matMulPrefill() {
        LinearWeights w = nextWeights();
        LinearInput input = w.prepare(xBatch, tokens);
        w.multiply(input, out, 0, w.rows());
        return out;
    }

    @Benchmark
    public float[] rmsNorm() {
        VectorOps.rmsNorm(vector2, 0, vector, 0, norm, 1e-5f, vector.length);
        return vector2;
    }

    @Benchmark
    public float[] rmsNormScalarReference() {
        ScalarOps.rmsNorm(vector2, 0, vector, 0, norm, 1e-5f, vector.length);
        return vector2;
    }

    @Benchmark
    public float[] softmax() {
        System.arraycopy(xBatch, 0, vector2, 0, vector2.length);
        VectorOps.softmax(vector2, 0, vector2.length);
        return vector2;
    }

    @Benchmark
    public float[] swiGlu() {
        System.arraycopy(xBatch, 0, vector2, 0, vector2.length);
        VectorOps.swiGlu(vector2, vector, vector2.length);
        return vector2;
    }
}
