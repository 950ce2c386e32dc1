package org.qtale.eval;

/** A task read from a file: multiple-choice questions, continuations to complete, or text to measure perplexity on. */
public sealed interface EvalTask permits ChoiceTask, CompletionTask, TextTask {
    /** The name it is reported under. */
    String name();

    /** The file (or built-in set) it came from. */
    String source();
}
