package org.qtale.train.pretrain;

import java.util.List;
import java.util.SplittableRandom;
import org.qtale.QtaleException;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.nn.CrossEntropyOp;

/**
 * A corpus as two token streams, training and held-out, each the concatenation of its documents as
 * {@code BOS text EOS}. Training windows start where a document starts (so a question and the facts it asks about
 * arrive together) or, in a document longer than a window, at each further window's length into it, so every token
 * is covered; windows are drawn by a generator seeded by the run's seed and the step, so a resumed run draws
 * exactly the batches it would have drawn.
 */
public final class TokenDataset {
    private final int[] train;
    private final int[] heldOut;
    private final int[] documentStarts;
    private int[] cachedStarts;
    private int cachedSeqLen;

    /** Streams without document boundaries: windows may start anywhere. */
    public TokenDataset(int[] train, int[] heldOut) {
        this(train, heldOut, null);
    }

    private TokenDataset(int[] train, int[] heldOut, int[] documentStarts) {
        this.train = train;
        this.heldOut = heldOut;
        this.documentStarts = documentStarts;
    }

    public static TokenDataset encode(Tokenizer tokenizer, List<String> trainDocuments, List<String> heldOutDocuments) {
        IntList starts = new IntList();
        int[] train = stream(tokenizer, trainDocuments, starts);
        return new TokenDataset(train, stream(tokenizer, heldOutDocuments, new IntList()), starts.toArray());
    }

    private static int[] stream(Tokenizer tokenizer, List<String> documents, IntList starts) {
        IntList tokens = new IntList();
        for (String document : documents) {
            starts.add(tokens.size());
            if (tokenizer.bos() >= 0) {
                tokens.add(tokenizer.bos());
            }
            for (int id : tokenizer.encode(document, false)) {
                tokens.add(id);
            }
            if (tokenizer.eos() >= 0) {
                tokens.add(tokenizer.eos());
            }
        }
        return tokens.toArray();
    }

    public int trainTokens() {
        return train.length;
    }

    public int heldOutTokens() {
        return heldOut.length;
    }

    /**
     * Fills {@code batch} windows of {@code seqLen} inputs and their next-token targets for micro-batch
     * {@code micro} of step {@code step}.
     */
    public void trainingBatch(long seed, long step, int micro, int batch, int seqLen, int[] tokens, int[] targets) {
        if (train.length < seqLen + 1) {
            throw new QtaleException("The training text has " + train.length + " tokens, fewer than one sequence of "
                    + (seqLen + 1) + ".");
        }
        SplittableRandom random = new SplittableRandom(seed ^ (step * 0x9E3779B97F4A7C15L) ^ (micro * 0xC2B2AE3D27D4EB4FL));
        int[] starts = documentStarts == null ? null : windowStarts(seqLen);
        for (int b = 0; b < batch; b++) {
            int start = starts != null && starts.length > 0 ? starts[random.nextInt(starts.length)]
                    : random.nextInt(train.length - seqLen);
            copyWindow(train, start, seqLen, tokens, targets, b * seqLen);
        }
    }

    /** Window starts for {@code seqLen}: every document start and every {@code seqLen} tokens into a document. */
    private int[] windowStarts(int seqLen) {
        if (cachedStarts == null || cachedSeqLen != seqLen) {
            IntList starts = new IntList();
            int last = train.length - seqLen - 1;
            for (int d = 0; d < documentStarts.length; d++) {
                int end = d + 1 < documentStarts.length ? documentStarts[d + 1] : train.length;
                for (int start = documentStarts[d]; start < end && start <= last; start += seqLen) {
                    starts.add(start);
                }
            }
            cachedStarts = starts.toArray();
            cachedSeqLen = seqLen;
        }
        return cachedStarts;
    }

    /** Non-overlapping held-out windows of {@code seqLen} inputs, at most {@code limit}. */
    public int heldOutWindows(int seqLen, int limit) {
        return Math.min(limit, Math.max(0, (heldOut.length - 1) / seqLen));
    }

    /** Fills held-out windows {@code first .. first + count - 1}. */
    public void heldOutBatch(int first, int count, int seqLen, int[] tokens, int[] targets) {
        for (int b = 0; b < count; b++) {
            copyWindow(heldOut, (first + b) * seqLen, seqLen, tokens, targets, b * seqLen);
        }
    }

    private static void copyWindow(int[] stream, int start, int seqLen, int[] tokens, int[] targets, int offset) {
        System.arraycopy(stream, start, tokens, offset, seqLen);
        System.arraycopy(stream, start + 1, targets, offset, seqLen);
    }

    /** Marks every target of a padded row as ignored (used when a last held-out batch is not full). */
    static void ignoreRows(int[] targets, int fromRow, int rows, int seqLen) {
        java.util.Arrays.fill(targets, fromRow * seqLen, rows * seqLen, CrossEntropyOp.IGNORE);
    }

    /** A growable int array. */
    static final class IntList {
        private int[] values = new int[1024];
        private int size;

        void add(int value) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }
}
