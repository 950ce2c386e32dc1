package org.qtale.eval;

import java.util.List;

/** A multiple-choice example: two or more choices and the index of the right one. */
public record ChoiceExample(List<Choice> choices, int gold) {
    public ChoiceExample {
        choices = List.copyOf(choices);
        if (choices.size() < 2) {
            throw new IllegalArgumentException("an example needs at least two choices, got " + choices.size());
        }
        if (gold < 0 || gold >= choices.size()) {
            throw new IllegalArgumentException("the answer " + gold + " is not one of the " + choices.size() + " choices");
        }
    }

    /** Choices that all continue the same {@code context}, each after a space, as lm-evaluation-harness joins them. */
    public static ChoiceExample sharedContext(String context, List<String> answers, int gold) {
        return new ChoiceExample(answers.stream().map(a -> new Choice(context, " " + a)).toList(), gold);
    }

    /** The accuracy of guessing. */
    public double chance() {
        return 1.0 / choices.size();
    }
}
