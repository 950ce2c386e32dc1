package org.qtale.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long job: a redrawn bar when stderr is a terminal, otherwise a plain line every few seconds (and at
 * the end), which reads well in logs and CI.
 */
final class Progress implements AutoCloseable {
    private static final long PLAIN_INTERVAL_NANOS = 5_000_000_000L;

    private final String task;
    private final long total;
    private final PrintWriter plain;
    private final ProgressBar bar;
    private long lastPrinted;

    private Progress(String task, long total, PrintWriter plain, ProgressBar bar) {
        this.task = task;
        this.total = total;
        this.plain = plain;
        this.bar = bar;
        this.lastPrinted = System.nanoTime();
    }

    /** A bar when stderr is a terminal, plain lines on {@code err} otherwise. */
    static Progress start(String task, long total, PrintWriter err) {
        // the launcher knows whether stderr is a terminal (it pipes stderr through a filter); run without it, the
        // console tells whether this process talks to a terminal at all
        String launcher = System.getenv("QTALE_STDERR_IS_TERMINAL");
        boolean terminal = launcher != null ? launcher.equals("1")
                : System.console() != null && System.console().isTerminal();
        if (terminal) {
            ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                    .setConsumer(new ConsoleProgressBarConsumer(new PrintStream(System.err, true), 110))
                    .build();
            return new Progress(task, total, null, bar);
        }
        return new Progress(task, total, err, null);
    }

    /** Moves to {@code done} of {@code total}, with a short status such as the current loss. */
    void update(long done, String status) {
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(status);
            return;
        }
        long now = System.nanoTime();
        if (done == total || now - lastPrinted >= PLAIN_INTERVAL_NANOS) {
            lastPrinted = now;
            plain.printf("[%s] %d/%d %s%n", task, done, total, status);
            plain.flush();
        }
    }

    /** A line that stays (an evaluation result, a checkpoint). */
    void note(String line) {
        if (bar != null) {
            System.err.print("\r" + " ".repeat(110) + "\r");
            System.err.println("[" + task + "] " + line);
            System.err.flush();
        } else {
            plain.println("[" + task + "] " + line);
            plain.flush();
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
