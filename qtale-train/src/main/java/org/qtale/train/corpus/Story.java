package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** One generated document: statements and answered questions in reading order, the last segment a question. */
record Story(String family, List<Segment> segments) {
    /** Documents are padded with filler sentences up to this many words. */
    static final int MIN_WORDS = 50;

    sealed interface Segment permits Sentence, Question {
    }

    record Sentence(String text) implements Segment {
    }

    /** A question, its answer as a continuation (" in the cave.") and 1 to 3 wrong continuations. */
    record Question(String question, String answer, List<String> distractors) implements Segment {
        Question {
            distractors = List.copyOf(distractors);
            if (!answer.startsWith(" ") || distractors.isEmpty() || distractors.size() > 3
                    || Set.copyOf(distractors).size() != distractors.size() || distractors.contains(answer)) {
                throw new IllegalArgumentException("bad choices for '" + question + "': " + answer + " " + distractors);
            }
        }
    }

    Story {
        segments = List.copyOf(segments);
        if (!(segments.getLast() instanceof Question)) {
            throw new IllegalArgumentException("a story must end with a question");
        }
    }

    String text() {
        return join(segments);
    }

    Question lastQuestion() {
        return (Question) segments.getLast();
    }

    /** The text before the last question. */
    String context() {
        return join(segments.subList(0, segments.size() - 1));
    }

    private static String join(List<Segment> segments) {
        StringBuilder text = new StringBuilder();
        for (Segment segment : segments) {
            if (!text.isEmpty()) {
                text.append(' ');
            }
            switch (segment) {
                case Sentence s -> text.append(s.text());
                case Question q -> text.append(q.question()).append(q.answer());
            }
        }
        return text.toString();
    }

    /** The number of words of a generated text (single spaces, no leading or trailing space). */
    static int words(String text) {
        int words = text.isEmpty() ? 0 : 1;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == ' ') {
                words++;
            }
        }
        return words;
    }

    static final class Builder {
        private final String family;
        private final List<Segment> segments = new ArrayList<>();
        private final Set<String> questions = new HashSet<>();

        Builder(String family) {
            this.family = family;
        }

        Builder say(String sentence) {
            segments.add(new Sentence(sentence));
            return this;
        }

        Builder ask(String question, String answer, List<String> distractors) {
            segments.add(new Question(question, answer, distractors));
            questions.add(question);
            return this;
        }

        /** Asks unless this exact question was asked already (a repeat would let the model copy the answer). */
        boolean askNew(String question, String answer, List<String> distractors) {
            if (asked(question)) {
                return false;
            }
            ask(question, answer, distractors);
            return true;
        }

        boolean asked(String question) {
            return questions.contains(question);
        }

        /**
         * Adds distinct filler sentences after the opening sentence and before the first question until the
         * document has {@link #MIN_WORDS} words, then zero to two more so that length alone tells nothing.
         */
        Story build(Rng rng) {
            List<String> fillers = rng.sample(Lexicon.FILLERS, Lexicon.FILLERS.size());
            int words = words(join(segments));
            int next = 0;
            int extra = rng.nextInt(3);
            while (words < MIN_WORDS || extra-- > 0) {
                String filler = fillers.get(next++);
                segments.add(rng.between(1, firstQuestion()), new Sentence(filler));
                words += words(filler);
            }
            return new Story(family, segments);
        }

        private int firstQuestion() {
            for (int i = 0; i < segments.size(); i++) {
                if (segments.get(i) instanceof Question) {
                    return i;
                }
            }
            throw new IllegalStateException(family + " story has no question");
        }
    }
}
