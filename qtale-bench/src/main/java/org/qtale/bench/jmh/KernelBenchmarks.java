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
 * {@code ./qtale jmh KernelBenchmarks}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class KernelBenchmarks {
    @Param({"F32", "BF16", "F16"})
    public String dtype;

    /** rows x cols of the weight matrix (an FFN projection of the 1B shape by default). */
    @Param({"2048x8192"})
    public String shape;

    @Param({"32"})
    public int tokens;

    private LinearWeights weights;
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
        weights = switch (DType.valueOf(dtype)) {
            case F32 -> F32Weights.of(values, rows, cols);
            case BF16 -> BF16Weights.of(values, rows, cols);
            case F16 -> F16Weights.of(values, rows, cols);
            case I32, Q2, Q3, Q4, Q8 -> throw new IllegalArgumentException("not a float weight dtype: " + dtype);
        };
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

    @Benchmark
    public float[] matVec() {
        LinearInput input = weights.prepare(x1, 1);
        weights.multiply(input, out, 0, weights.rows());
        return out;
    }

    @Benchmark
    public float[] matVecScalarReference() {
        weights.multiplyReference(x1, 1, out, 0, weights.rows());
        return out;
    }

    @Benchmark
    public float[] matMulPrefill() {
        LinearInput input = weights.prepare(xBatch, tokens);
        weights.multiply(input, out, 0, weights.rows());
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
