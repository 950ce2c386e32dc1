package org.qtale.train.corpus;

/**
 * A toyworld document split before its last answer, for fine-tuning where the loss covers the answer tokens only.
 * {@code prompt + answer} is the whole document.
 *
 * @param family the document family it comes from
 * @param prompt the document up to and including the last question, e.g. "... where does the fox live?"
 * @param answer the continuation, e.g. " in the cave."
 */
public record QaExample(String family, String prompt, String answer) {
    public String text() {
        return prompt + answer;
    }
}
