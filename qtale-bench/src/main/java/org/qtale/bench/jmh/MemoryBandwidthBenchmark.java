package org.qtale.bench.jmh;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.qtale.tensor.VectorOps;

/**
 * The single-thread read bandwidth a Java kernel can reach: the sum of a large off-heap float array, vectorized with
 * four accumulators. The bound for a decode kernel is this rate over the weight bytes it reads. Run with {@code ./qtale
 * jmh MemoryBandwidthBenchmark}; bytes per second are {@code mib · 2^20} over the time per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class MemoryBandwidthBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Size of the array in MiB: well above the last-level cache. */
    @Param({"1024"})
    public int mib;

    private Arena arena;
    private MemorySegment data;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        data = arena.allocate((long) mib << 20, 64);
        for (long i = 0; i < data.byteSize(); i += 4096) {
            data.set(ValueLayout.JAVA_FLOAT, i, 1f);
        }
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float sum() {
        long step = F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (long o = 0, end = data.byteSize(); o < end; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, data, o, LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, data, o + step, LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, data, o + 2 * step, LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, data, o + 3 * step, LITTLE_ENDIAN));
        }
        float[] lanes = VectorOps.laneScratch();
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        return VectorOps.sumLanes(lanes);
    }
}
