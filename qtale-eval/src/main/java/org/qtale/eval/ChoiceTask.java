package org.qtale.eval;

import java.util.List;

/**
 * A multiple-choice task as read from its file.
 *
 * @param name     the name it is reported under
 * @param source   the file (or built-in set) it came from
 * @param examples the examples that parsed
 * @param skipped  the rows that did not, each with its file, line and reason
 */
public record ChoiceTask(String name, String source, List<ChoiceExample> examples, List<SkippedRow> skipped)
        implements EvalTask {
    public ChoiceTask {
        examples = List.copyOf(examples);
        skipped = List.copyOf(skipped);
    }

    /** A malformed row: where it is and what is wrong with it. */
    public record SkippedRow(String file, int line, String reason) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + reason;
        }
    }

    /** The first {@code limit} examples (all when {@code limit} is 0 or less). */
    public ChoiceTask limit(int limit) {
        return limit <= 0 || limit >= examples.size() ? this
                : new ChoiceTask(name, source, examples.subList(0, limit), skipped);
    }

    /** The mean chance accuracy over the examples. */
    public double chance() {
        return examples.stream().mapToDouble(ChoiceExample::chance).average().orElse(Double.NaN);
    }
}
