package org.qtale.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.DoubleAdder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.qtale.tensor.Parallel;

/**
 * The machine's memory read bandwidth, measured the way decode reads weights: threads each stream a contiguous part of
 * a buffer much larger than the caches and sum it with vector loads. Best of several passes.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private MemoryBandwidth() {
    }

    /** Bytes per second. */
    public static double measure(Parallel parallel, long bytes, int passes) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(bytes, 64);
            buffer.fill((byte) 1);
            long floats = bytes / 4;
            int blocks = (int) (floats / (1 << 16));
            double best = 0;
            for (int pass = 0; pass < passes; pass++) {
                DoubleAdder sink = new DoubleAdder(); // the sums go somewhere, so the loads cannot be dropped
                long start = System.nanoTime();
                parallel.forRange(blocks, (from, to) -> sink.add(sum(buffer, (long) from << 16, (long) to << 16)));
                long nanos = System.nanoTime() - start;
                best = Math.max(best, (double) blocks * (1 << 16) * 4 / (nanos * 1e-9));
            }
            return best;
        }
    }

    private static float sum(MemorySegment buffer, long fromFloat, long toFloat) {
        FloatVector total = FloatVector.zero(F);
        for (long block = fromFloat; block < toFloat; block += 1 << 16) {
            total = total.add(sumBlock(buffer, block * 4));
        }
        return total.reduceLanes(VectorOperators.ADD);
    }

    /** One block of 2^16 floats; an int-counted loop so the JIT unrolls it. */
    private static FloatVector sumBlock(MemorySegment buffer, long byteOffset) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int step = 4 * F.length();
        for (int i = 0; i < 1 << 16; i += step) {
            long o = byteOffset + i * 4L;
            a0 = a0.add(FloatVector.fromMemorySegment(F, buffer, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, buffer, o + F.length() * 4L, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, buffer, o + F.length() * 8L, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, buffer, o + F.length() * 12L, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3));
    }
}
