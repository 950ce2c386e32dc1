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
     * How many of the {@code size} documents (or rows) of a file are held out: the last twentieth, at least one when
     * there are two or more. Other readers of data files use it too, so that every file splits the same way.
     */
    public static int tailHeldOut(int size) {
        return size < 2 ? 0 : Math.max(1, size / 20);
    }

    /**
     * Holds out the last twentieth of {@code documents} (at least one when there are two or more), keeping their
     * order; the tail rather than a random sample, so that the split is obvious and the same for every reader.
     */
    static Corpus splitTail(String name, List<String> documents) {
        int n = documents.size();
        int heldOut = tailHeldOut(n);
        return new Corpus(name, documents.subList(0, n - heldOut), documents.subList(n - heldOut, n));
    }
}
