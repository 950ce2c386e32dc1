package org.qtale.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

@Command(name = "jmh", description = "Runs the JMH kernel benchmarks; arguments go to JMH (e.g. KernelBenchmarks -p dtype=BF16).")
final class JmhCommand implements Callable<Integer> {
    /** Everything after {@code jmh}, passed to JMH untouched. */
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        org.openjdk.jmh.Main.main(args.toArray(new String[0]));
        return 0;
    }
}
