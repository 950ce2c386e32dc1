package org.qtale.train.finetune;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.qtale.QtaleException;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.corpus.Corpus;
import org.qtale.train.corpus.CorpusSpec;
import org.qtale.train.corpus.QaExample;
import org.qtale.train.corpus.ToyWorld;

/**
 * Fine-tuning examples, tokenized. A SPEC is one of:
 * <ul>
 *   <li>{@code toyworld}, optionally followed by parameters, e.g. {@code toyworld:seed=7,docs=5000,heldout=200};
 *       the parameters and their defaults are those of {@link CorpusSpec} (seed 1, 20000 training and 1000
 *       held-out documents, all families). Every document is one example: the prompt is the document up to and
 *       including its last question, the answer is the last answer (" in the cave."), as in
 *       {@link ToyWorld#qaExamples}. The held-out examples are {@link ToyWorld#heldOutQaExamples}, the same
 *       documents as the held-out part of the toyworld corpus and as {@link ToyWorld#questions}.
 *   <li>a path ending in {@code .json}: an Alpaca-style JSON array of objects with an {@code instruction} string, an
 *       optional {@code input} string and an {@code output} string. The answer is the output, the prompt is the
 *       Stanford Alpaca template, which reads (with {@code \n} line breaks)
 *       <pre>{@code
 * Below is an instruction that describes a task. Write a response that appropriately completes the request.
 *
 * ### Instruction:
 * {instruction}
 *
 * ### Response:
 * }</pre>
 *       when the input is empty or absent, and otherwise
 *       <pre>{@code
 * Below is an instruction that describes a task, paired with an input that provides further context. Write a
 * response that appropriately completes the request.
 *
 * ### Instruction:
 * {instruction}
 *
 * ### Input:
 * {input}
 *
 * ### Response:
 * }</pre>
 *       (the preamble is one line). A file that is not such an array, or a row without an {@code instruction} or
 *       {@code output} string or with an empty output, is an error naming the row (counted from 1).
 *   <li>any other path: a plain text or {@code .jsonl} corpus file, read exactly as {@link CorpusSpec} reads it.
 *       Every document is trained on whole: there is no prompt, and the loss covers every token after BOS.
 * </ul>
 * For files the last twentieth of the rows or documents is held out, at least one when there are two or more (see
 * {@link Corpus#tailHeldOut}).
 *
 * <p>Tokens: an example is BOS, the prompt, then the answer. It is tokenized as a whole ({@code prompt + answer}
 * with BOS), and the answer starts after the tokens it shares with the prompt tokenized alone (with BOS). Normally
 * that is exactly the prompt's tokens, which is where Stanford Alpaca's training code and lm-evaluation-harness put
 * the boundary too. When a token spans the boundary (a merge of the prompt's last characters with the answer's
 * first), that token counts as answer, so the loss still covers every character of the answer. Encoding the answer
 * on its own instead would be wrong for SentencePiece tokenizers such as Llama 2's, which put a space in front of
 * every text they encode: each answer would gain a stray leading space token.
 *
 * <p>Length: no example is longer than {@code maxTokens}.
 * <ul>
 *   <li>A prompt and answer that do not fit lose prompt tokens from the left, right after BOS, so that the whole
 *       answer and the end of the prompt remain. When not even one prompt token fits beside the whole answer, the
 *       example is dropped and counted in {@link #droppedExamples}.
 *   <li>A document of more tokens (with BOS) is cut into consecutive windows of up to {@code maxTokens} tokens, each
 *       starting with BOS, so that every one of its tokens is trained on exactly once; nothing is dropped.
 * </ul>
 *
 * @param spec            the spec read, with every toyworld parameter spelled out ({@link CorpusSpec#spec()})
 * @param train           the training examples
 * @param heldOut         the held-out examples, from other documents or rows than the training examples
 * @param droppedExamples how many training and held-out examples were left out because their whole answer and one
 *                        prompt token do not fit in {@code maxTokens}
 */
public record FineTuneData(String spec, List<TokenExample> train, List<TokenExample> heldOut, int droppedExamples) {
    public FineTuneData {
        train = List.copyOf(train);
        heldOut = List.copyOf(heldOut);
    }

    /**
     * Reads or generates the examples of {@code spec} and tokenizes them.
     *
     * @param spec      what to read; see the class comment
     * @param tokenizer the model's tokenizer, which must have a beginning-of-sequence token
     * @param maxTokens the most tokens an example may have, at least 2
     */
    public static FineTuneData load(String spec, Tokenizer tokenizer, int maxTokens) {
        if (spec == null || spec.isBlank()) {
            throw new QtaleException("The fine-tuning data spec is empty; give toyworld, an Alpaca .json file, "
                    + "or a text or .jsonl file.");
        }
        if (maxTokens < 2) {
            throw new QtaleException("Fine-tuning examples need room for at least 2 tokens, got " + maxTokens + ".");
        }
        if (tokenizer.bos() < 0) {
            throw new QtaleException("The tokenizer has no beginning-of-sequence token, which every fine-tuning "
                    + "example starts with.");
        }
        Split train = new Split(tokenizer, maxTokens);
        Split heldOut = new Split(tokenizer, maxTokens);
        CorpusSpec corpus = CorpusSpec.parse(spec);
        switch (corpus) {
            case CorpusSpec.ToyWorldSpec toyWorld -> {
                for (QaExample example : ToyWorld.qaExamples(toyWorld.seed(), toyWorld.docs(), toyWorld.families())) {
                    train.addPromptAndAnswer(example.prompt(), example.answer());
                }
                for (QaExample example : ToyWorld.heldOutQaExamples(toyWorld.seed(), toyWorld.heldOut(),
                        toyWorld.families())) {
                    heldOut.addPromptAndAnswer(example.prompt(), example.answer());
                }
            }
            case CorpusSpec.TextFile(Path path) when isAlpacaFile(path) -> {
                List<AlpacaFile.Row> rows = AlpacaFile.read(path);
                int firstHeldOut = rows.size() - Corpus.tailHeldOut(rows.size());
                for (int i = 0; i < rows.size(); i++) {
                    (i < firstHeldOut ? train : heldOut)
                            .addPromptAndAnswer(rows.get(i).prompt(), rows.get(i).output());
                }
            }
            default -> {
                Corpus documents = corpus.load();
                documents.train().forEach(train::addDocument);
                documents.heldOut().forEach(heldOut::addDocument);
            }
        }
        return new FineTuneData(corpus.spec(), train.examples, heldOut.examples, train.dropped + heldOut.dropped);
    }

    /**
     * BOS, {@code prompt} and {@code answer} as one example whose loss covers the answer, shortened from the left of
     * the prompt to {@code maxTokens}; empty when the answer leaves no room for a prompt token. See the class comment.
     */
    static Optional<TokenExample> promptAndAnswer(Tokenizer tokenizer, String prompt, String answer, int maxTokens) {
        int[] promptAlone = tokenizer.encode(prompt, true);
        int[] tokens = tokenizer.encode(prompt + answer, true);
        int answerStart = Math.max(1, sharedPrefix(promptAlone, tokens));
        if (tokens.length <= maxTokens) {
            return Optional.of(new TokenExample(tokens, answerStart));
        }
        int answerLength = tokens.length - answerStart;
        int promptKept = maxTokens - 1 - answerLength;
        if (promptKept < 1) {
            return Optional.empty();
        }
        int[] shortened = new int[maxTokens];
        shortened[0] = tokens[0];
        System.arraycopy(tokens, answerStart - promptKept, shortened, 1, promptKept + answerLength);
        return Optional.of(new TokenExample(shortened, 1 + promptKept));
    }

    /**
     * A whole document as examples of at most {@code maxTokens} tokens: BOS and the next {@code maxTokens - 1}
     * tokens of the document, then BOS and the ones after them, and so on; the loss covers all but the BOS.
     */
    static List<TokenExample> windows(Tokenizer tokenizer, String document, int maxTokens) {
        int[] tokens = tokenizer.encode(document, true);
        int perWindow = maxTokens - 1;
        List<TokenExample> windows = new ArrayList<>();
        for (int from = 1; from < tokens.length; from += perWindow) {
            int to = Math.min(tokens.length, from + perWindow);
            int[] window = new int[1 + to - from];
            window[0] = tokens[0];
            System.arraycopy(tokens, from, window, 1, to - from);
            windows.add(new TokenExample(window, 1));
        }
        return windows;
    }

    private static boolean isAlpacaFile(Path path) {
        return path.toString().toLowerCase(Locale.ROOT).endsWith(".json");
    }

    private static int sharedPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < a.length && n < b.length && a[n] == b[n]) {
            n++;
        }
        return n;
    }

    /** The examples of one split so far, and how many were dropped for length. */
    private static final class Split {
        private final Tokenizer tokenizer;
        private final int maxTokens;
        final List<TokenExample> examples = new ArrayList<>();
        int dropped;

        Split(Tokenizer tokenizer, int maxTokens) {
            this.tokenizer = tokenizer;
            this.maxTokens = maxTokens;
        }

        void addPromptAndAnswer(String prompt, String answer) {
            promptAndAnswer(tokenizer, prompt, answer, maxTokens).ifPresentOrElse(examples::add, () -> dropped++);
        }

        void addDocument(String document) {
            examples.addAll(windows(tokenizer, document, maxTokens));
        }
    }
}
