package org.qtale.eval;

/**
 * One answer of a multiple-choice example, scored by the log-likelihood of {@code continuation} after {@code
 * context}. Most tasks share one context across their choices; partial-evaluation tasks (WinoGrande) put the choice
 * in the context and share the continuation.
 */
public record Choice(String context, String continuation) {
    public Choice {
        if (context == null || continuation == null) {
            throw new IllegalArgumentException("a choice needs a context and a continuation");
        }
    }

    /**
     * The answer's own length in characters, without the whitespace that joins it to the context (the harness's
     * target delimiter): what {@code acc_norm} divides by.
     */
    public int answerLength() {
        return continuation.stripLeading().length();
    }
}
