package org.qtale.train.finetune;

/**
 * One fine-tuning sequence as token ids. The cross-entropy covers the tokens from {@code answerStart} on (each
 * predicted from the position before it); {@code answerStart = 1} makes every token but the first count (plain
 * text), and the first token is normally BOS.
 *
 * @param tokens      the whole sequence, prompt then answer
 * @param answerStart the index of the first answer token, {@code 1 ≤ answerStart ≤ tokens.length}
 */
public record TokenExample(int[] tokens, int answerStart) {
    public TokenExample {
        if (answerStart < 1 || answerStart > tokens.length) {
            throw new IllegalArgumentException("answerStart " + answerStart + " is outside 1.." + tokens.length);
        }
    }

    public int length() {
        return tokens.length;
    }

    /** How many tokens the loss covers. */
    public int answerTokens() {
        return tokens.length - answerStart;
    }
}
