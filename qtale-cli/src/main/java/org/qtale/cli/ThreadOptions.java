package org.qtale.cli;

import org.qtale.tensor.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The compute thread count. */
final class ThreadOptions {
    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: the number of cores).")
    Integer threads;

    int count() {
        return threads != null ? threads : Runtime.getRuntime().availableProcessors();
    }

    void validate(CommandLine cl) {
        if (threads != null && (threads < 1 || threads > 1024)) {
            throw new CommandLine.ParameterException(cl, "--threads must be between 1 and 1024, got " + threads + ".");
        }
    }

    Parallel parallel() {
        return new Parallel(count());
    }
}
