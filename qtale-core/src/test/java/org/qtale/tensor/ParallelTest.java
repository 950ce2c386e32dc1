package org.qtale.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyIndexRunsExactlyOnceInGrainAlignedChunks() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (Parallel parallel = new Parallel(threads)) {
                for (int n : new int[] {1, 2, 3, 4, 7, 64, 1001}) {
                    for (int round = 0; round < 50; round++) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(n);
                        parallel.forRange(n, 4, (start, end) -> {
                            assertTrue(start % 4 == 0, "chunks start on a multiple of the grain");
                            for (int i = start; i < end; i++) {
                                hits.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, hits.get(i), "threads " + threads + " n " + n + " index " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void nestedRegionsRunOnTheCallingThread() {
        try (Parallel parallel = new Parallel(2)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(16);
            parallel.forRange(4, (start, end) -> {
                for (int i = start; i < end; i++) {
                    int row = i;
                    parallel.forRange(4, (s, e) -> {
                        for (int j = s; j < e; j++) {
                            hits.incrementAndGet(row * 4 + j);
                        }
                    });
                }
            });
            for (int i = 0; i < 16; i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }

    @Test
    void aFailureInAWorkerReachesTheCaller() {
        try (Parallel parallel = new Parallel(2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parallel.forRange(100, (s, end) -> {
                if (s > 0) {
                    throw new IllegalArgumentException("boom");
                }
            }));
            assertEquals("boom", e.getMessage());
            AtomicIntegerArray hits = new AtomicIntegerArray(10);
            parallel.forRange(10, (s, end) -> {
                for (int i = s; i < end; i++) {
                    hits.incrementAndGet(i);
                }
            });
            assertEquals(1, hits.get(9), "the pool still works after a failure");
        }
    }
}
