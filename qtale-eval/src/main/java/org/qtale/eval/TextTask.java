package org.qtale.eval;

/** Text to measure perplexity on. */
public record TextTask(String name, String source, String text) implements EvalTask {
}
