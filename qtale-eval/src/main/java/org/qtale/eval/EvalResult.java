package org.qtale.eval;

/** One task's result: multiple choice, completion, or perplexity on text. */
public sealed interface EvalResult permits TaskResult, CompletionResult, TextResult {
    /** The task's name. */
    String task();
}
