package org.qtale.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.qtale.QtaleException;

/**
 * A dedicated pool of compute threads: the calling thread plus {@code threads - 1} workers. Work is split into
 * contiguous chunks of rows, a few per thread, which the threads claim one after another: each chunk streams its own
 * part of a weight matrix, and a thread slowed down by a neighbour on a shared machine leaves its last chunks to the
 * others instead of holding everyone up.
 *
 * <p>Decoding one token runs a few hundred short parallel regions, so handing out work must cost microseconds, not
 * the tens of microseconds a parked thread takes to wake up: workers spin briefly for the next region before they
 * park, and the caller works on the first chunk itself.
 */
public final class Parallel implements AutoCloseable {
    /** A body that processes the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** About 50 microseconds of spinning before a worker parks. */
    private static final int SPIN_LIMIT = 1 << 14;
    private static final int CHUNKS_PER_THREAD = 8;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger nextChunk = new AtomicInteger();

    // the current region; published by the volatile write of generation
    private RangeBody body;
    private int size;
    private int grain;
    private int chunks;
    private volatile long generation;
    private volatile Throwable failure;
    private volatile boolean closed;

    public Parallel(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new QtaleException("The thread count must be between 1 and 1024, got " + threads + ".");
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("qtale-compute-" + (i + 1)).start(this::work);
        }
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
     * the remainder), so that register-tiled kernels see whole tiles. A call from inside a running region, or while
     * another thread holds the pool, runs on the calling thread alone.
     */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        if (closed) {
            throw new IllegalStateException("This thread pool is closed.");
        }
        if (threads == 1 || n <= grain || lock.isHeldByCurrentThread() || !lock.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            this.body = body;
            this.size = n;
            this.grain = grain;
            this.chunks = Math.min(threads * CHUNKS_PER_THREAD, (n + grain - 1) / grain);
            this.failure = null;
            nextChunk.set(0);
            pending.set(workers.length);
            generation++;
            for (Thread worker : workers) {
                LockSupport.unpark(worker);
            }
            runChunks();
            for (int spins = 0; pending.get() > 0; spins++) {
                if (spins < SPIN_LIMIT) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            this.body = null;
            Throwable thrown = failure;
            if (thrown instanceof RuntimeException e) {
                throw e;
            }
            if (thrown instanceof Error e) {
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Claims and runs chunks until none is left. */
    private void runChunks() {
        int units = (size + grain - 1) / grain;
        for (int chunk = nextChunk.getAndIncrement(); chunk < chunks; chunk = nextChunk.getAndIncrement()) {
            int start = (int) Math.min(size, (long) units * chunk / chunks * grain);
            int end = (int) Math.min(size, (long) units * (chunk + 1) / chunks * grain);
            if (start < end) {
                body.run(start, end);
            }
        }
    }

    private void work() {
        long seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen) {
                if (closed) {
                    return;
                }
                if (spins++ < SPIN_LIMIT) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = generation;
            try {
                runChunks();
            } catch (Throwable t) {
                failure = t;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
    }
}
