package org.qtale.cli;

import java.io.PrintWriter;

/** A progress display that starts when the number of steps is known (after the data is loaded). */
final class LazyProgress implements AutoCloseable {
    private final String task;
    private final PrintWriter err;
    private Progress progress;

    LazyProgress(String task, PrintWriter err) {
        this.task = task;
        this.err = err;
    }

    void update(long done, long total, String status) {
        if (progress == null) {
            progress = Progress.start(task, total, err);
        }
        progress.update(done, status);
    }

    void note(String line) {
        if (progress == null) {
            err.println(line);
            err.flush();
        } else {
            progress.note(line);
        }
    }

    @Override
    public void close() {
        if (progress != null) {
            progress.close();
        }
    }
}
