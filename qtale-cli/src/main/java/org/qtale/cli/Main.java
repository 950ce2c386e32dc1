package org.qtale.cli;

import java.io.PrintWriter;
import org.qtale.QtaleException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code qtale} command. */
@Command(
        name = "qtale",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Runs LLaMA-family models with token-adaptive layer execution and low-bit quantization.",
        subcommands = {
            DemoCommand.class,
            PretrainCommand.class,
            TrainCommand.class,
            QuantizeCommand.class,
            GenerateCommand.class,
            CalibrateCommand.class,
            EvalCommand.class,
            SweepCommand.class,
            TokenizeCommand.class,
            TokenizerCommand.class,
            InfoCommand.class,
            BenchCommand.class,
            JmhCommand.class,
            ConvertCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Name a command; 'qtale help' lists them.");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit status; used by the tests too. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            Throwable cause = ex;
            while (cause.getCause() != null && !(cause instanceof QtaleException)) {
                cause = cause.getCause();
            }
            if (cause instanceof QtaleException q) {
                err.println("error: " + q.getMessage());
                err.flush();
                return 2;
            }
            if (cause instanceof OutOfMemoryError) {
                return outOfMemory(err);
            }
            err.println("internal error: " + ex + " (set QTALE_DEBUG=1 for the stack trace)");
            if (System.getenv("QTALE_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return 70;
        });
        cli.setParameterExceptionHandler((ex, arguments) -> {
            err.println("error: " + ex.getMessage());
            err.println("Run '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for the options.");
            err.flush();
            return 2;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands only exceptions to the handler above; errors thrown by a command arrive here
            return outOfMemory(err);
        }
    }

    private static int outOfMemory(PrintWriter err) {
        err.println("error: out of memory; give the JVM more heap (QTALE_JAVA_OPTS=-Xmx20g, say) or use a smaller model.");
        err.flush();
        return 3;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"qtale " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
