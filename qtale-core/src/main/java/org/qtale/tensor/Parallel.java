package org.qtale.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import org.qtale.QtaleException;

/**
 * A dedicated pool of compute threads. Work is split into contiguous chunks of rows, so that each worker streams
 * its own part of a weight matrix.
 */
public final class Parallel implements AutoCloseable {
    /** A body that processes the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;
    private final ForkJoinPool pool;

    public Parallel(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new QtaleException("The thread count must be between 1 and 1024, got " + threads + ".");
        }
        this.threads = threads;
        if (threads == 1) {
            this.pool = null;
        } else {
            AtomicInteger counter = new AtomicInteger();
            ForkJoinPool.ForkJoinWorkerThreadFactory factory = p -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                t.setName("qtale-compute-" + counter.getAndIncrement());
                t.setDaemon(true);
                return t;
            };
            this.pool = new ForkJoinPool(threads, factory, null, false);
        }
    }

    /** A pool with one thread per available processor. */
    public static Parallel ofAvailableProcessors() {
        return new Parallel(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} split into one contiguous chunk per thread. */
    public void forRange(int n, RangeBody body) {
        forRange(n, 1, body);
    }

    /**
     * Like {@link #forRange(int, RangeBody)} with chunk boundaries on multiples of {@code grain} (the last chunk takes
     * the remainder), so that register-tiled kernels see whole tiles.
     */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int units = (n + grain - 1) / grain;
        int chunks = Math.min(threads, units);
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int start = (int) Math.min(n, (long) units * c / chunks * grain);
            int end = (int) Math.min(n, (long) units * (c + 1) / chunks * grain);
            tasks.add(ForkJoinTask.adapt(() -> body.run(start, end)));
        }
        pool.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
