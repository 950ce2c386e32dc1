package org.qtale.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Builds tokenizers.",
        subcommands = {TokenizerTrainCommand.class})
final class TokenizerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Name a subcommand: train.");
    }
}
