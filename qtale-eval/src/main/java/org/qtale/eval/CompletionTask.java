package org.qtale.eval;

import java.util.List;

/**
 * A completion task (LAMBADA): each example's continuation, scored after its context by whether greedy decoding
 * reproduces it and by its log-likelihood.
 */
public record CompletionTask(String name, String source, List<Choice> examples, List<ChoiceTask.SkippedRow> skipped)
        implements EvalTask {
    public CompletionTask {
        examples = List.copyOf(examples);
        skipped = List.copyOf(skipped);
    }

    /** The first {@code limit} examples (all when {@code limit} is 0 or less). */
    public CompletionTask limit(int limit) {
        return limit <= 0 || limit >= examples.size() ? this
                : new CompletionTask(name, source, examples.subList(0, limit), skipped);
    }
}
