package org.qtale.train.corpus;

import java.util.List;
import java.util.Set;

/**
 * A question with a known answer, meant to be scored by the log-likelihood of each choice as a continuation of
 * {@link #prompt()}, as lm-evaluation-harness does. {@code prompt() + correct()} is the whole document the
 * question was taken from.
 *
 * @param family   the document family it comes from, one of {@link ToyWorld#families()}
 * @param context  the document up to the question (earlier questions included, with their answers)
 * @param question the question, e.g. "where does the fox live?"
 * @param choices  2 to 4 distinct continuations of the prompt, each starting with a space, e.g. " in the cave."
 * @param answer   the index of the right choice
 */
public record MultipleChoice(String family, String context, String question, List<String> choices, int answer) {
    public MultipleChoice {
        choices = List.copyOf(choices);
        if (choices.size() < 2 || choices.size() > 4 || Set.copyOf(choices).size() != choices.size()) {
            throw new IllegalArgumentException("need 2 to 4 distinct choices, got " + choices);
        }
        if (answer < 0 || answer >= choices.size()) {
            throw new IllegalArgumentException("answer " + answer + " is not one of " + choices.size() + " choices");
        }
    }

    /** The text every choice continues: the context, a space and the question. */
    public String prompt() {
        return context.isEmpty() ? question : context + " " + question;
    }

    public String correct() {
        return choices.get(answer);
    }

    /** The accuracy of guessing: one over the number of choices. */
    public double chance() {
        return 1.0 / choices.size();
    }
}
