package org.qtale.eval;

/** A text task's perplexity on one model and policy. */
public record TextResult(String task, String source, TextPerplexity.Result perplexity) implements EvalResult {
}
