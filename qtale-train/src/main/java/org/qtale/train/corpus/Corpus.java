package org.qtale.train.corpus;

import java.util.List;

/**
 * Documents to train on and documents held out for evaluation.
 *
 * @param name    where they come from: the spec of a built-in corpus or the file path
 * @param train   training documents
 * @param heldOut held-out documents, none of them a training document
 */
public record Corpus(String name, List<String> train, List<String> heldOut) {
    public Corpus {
        train = List.copyOf(train);
        heldOut = List.copyOf(heldOut);
    }

    /**
     * Holds out the last twentieth of {@code documents} (at least one when there are two or more), keeping their
     * order; the tail rather than a random sample, so that the split is obvious and the same for every reader.
     */
    static Corpus splitTail(String name, List<String> documents) {
        int n = documents.size();
        int heldOut = n < 2 ? 0 : Math.max(1, n / 20);
        return new Corpus(name, documents.subList(0, n - heldOut), documents.subList(n - heldOut, n));
    }
}
