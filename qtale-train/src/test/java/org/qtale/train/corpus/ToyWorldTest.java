package org.qtale.train.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;

class ToyWorldTest {
    private static final Set<String> NUMBER_WORDS = Set.of("zero", "one", "two", "three", "four", "five", "six",
            "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen", "nineteen", "twenty");

    @Test
    void theSameSeedGivesTheSameCorpus() {
        assertEquals(ToyWorld.documents(7, 300), ToyWorld.documents(7, 300));
        assertEquals(ToyWorld.questions(7, 70), ToyWorld.questions(7, 70));
        assertEquals(ToyWorld.qaExamples(7, 100), ToyWorld.qaExamples(7, 100));
        assertEquals(ToyWorld.documents(7, 300).subList(0, 40), ToyWorld.documents(7, 40));
    }

    @Test
    void aDifferentSeedGivesDifferentDocuments() {
        List<String> a = ToyWorld.documents(7, 500);
        List<String> b = ToyWorld.documents(8, 500);
        Set<String> shared = new HashSet<>(a);
        shared.retainAll(b);
        assertTrue(shared.size() <= 2, "seeds 7 and 8 share " + shared.size() + " of 500 documents");
        assertNotEquals(ToyWorld.questions(7, 20), ToyWorld.questions(8, 20));
    }

    @Test
    void noTrainingDocumentIsHeldOut() {
        Set<String> train = new HashSet<>(ToyWorld.documents(1, 6000));
        train.addAll(ToyWorld.documents(2, 2000));
        List<String> heldOut = new ArrayList<>(ToyWorld.heldOutDocuments(1, 700));
        heldOut.addAll(ToyWorld.heldOutDocuments(2, 350));
        for (String document : heldOut) {
            assertFalse(train.contains(document), document);
            assertTrue(ToyWorld.isHeldOut(document));
        }
        train.forEach(document -> assertFalse(ToyWorld.isHeldOut(document)));
    }

    @Test
    void questionsAreTheHeldOutDocumentsCutBeforeTheirLastAnswer() {
        List<String> documents = ToyWorld.heldOutDocuments(3, 140);
        List<MultipleChoice> questions = ToyWorld.questions(3, 140);
        for (int i = 0; i < questions.size(); i++) {
            MultipleChoice q = questions.get(i);
            assertEquals(documents.get(i), q.prompt() + q.correct());
            assertEquals(q.context() + " " + q.question(), q.prompt());
            assertEquals(ToyWorld.families().get(i % 7), q.family(), "families take turns");
        }
    }

    @Test
    void qaExamplesAreTheTrainingDocumentsCutBeforeTheirLastAnswer() {
        List<String> documents = ToyWorld.documents(4, 200);
        List<QaExample> examples = ToyWorld.qaExamples(4, 200);
        for (int i = 0; i < examples.size(); i++) {
            assertEquals(documents.get(i), examples.get(i).text());
            assertTrue(examples.get(i).prompt().endsWith("?"));
            assertTrue(examples.get(i).answer().startsWith(" ") && examples.get(i).answer().endsWith("."));
        }
    }

    @Test
    void heldOutQaExamplesAreTheHeldOutDocumentsCutBeforeTheirLastAnswer() {
        List<String> families = List.of("track", "order", "arith");
        List<String> documents = ToyWorld.heldOutDocuments(6, 90, families);
        List<MultipleChoice> questions = ToyWorld.questions(6, 90, families);
        List<QaExample> examples = ToyWorld.heldOutQaExamples(6, 90, families);
        assertEquals(documents, examples.stream().map(QaExample::text).toList());
        for (int i = 0; i < examples.size(); i++) {
            QaExample example = examples.get(i);
            assertEquals(questions.get(i).prompt(), example.prompt());
            assertEquals(questions.get(i).correct(), example.answer());
            assertEquals(families.get(i % 3), example.family());
        }
        assertEquals(ToyWorld.heldOutDocuments(6, 30), ToyWorld.heldOutQaExamples(6, 30).stream()
                .map(QaExample::text).toList());
    }

    @Test
    void documentsAreShortLowercaseAndMixAllFamilies() {
        List<QaExample> examples = ToyWorld.qaExamples(5, 3500);
        Set<String> vocabulary = new TreeSet<>();
        Map<String, Integer> perFamily = new HashMap<>();
        for (QaExample example : examples) {
            String text = example.text();
            int words = Story.words(text);
            assertTrue(words >= 50 && words <= 150, words + " words: " + text);
            assertTrue(text.matches("[a-z]+([ ,.?]+[a-z]+)*[.]"), text);
            for (String word : text.split("[ ,.?]+")) {
                vocabulary.add(word);
            }
            perFamily.merge(example.family(), 1, Integer::sum);
        }
        assertTrue(vocabulary.size() > 200 && vocabulary.size() < 400, vocabulary.size() + " words: " + vocabulary);
        assertEquals(Set.copyOf(ToyWorld.families()), perFamily.keySet());
        perFamily.forEach((family, n) -> assertTrue(n > 350, family + " has only " + n + " of 3500 documents"));
    }

    @Test
    void choicesAreDistinctContinuationsAndTheAnswerCanBeAnywhere() {
        List<MultipleChoice> questions = ToyWorld.questions(6, 2100);
        Map<Integer, int[]> positions = new HashMap<>(); // choice count -> how often each index is the answer
        for (MultipleChoice q : questions) {
            assertTrue(q.choices().size() >= 2 && q.choices().size() <= 4, q.toString());
            assertEquals(q.choices().size(), Set.copyOf(q.choices()).size(), q.toString());
            assertTrue(q.question().endsWith("?"), q.question());
            for (String choice : q.choices()) {
                assertTrue(choice.matches(" [a-z]+( [a-z]+)*[.]"), choice);
            }
            positions.computeIfAbsent(q.choices().size(), n -> new int[n])[q.answer()]++;
        }
        positions.forEach((n, counts) -> {
            int total = Arrays.stream(counts).sum();
            for (int count : counts) {
                assertTrue(count > 0.6 * total / n && count < 1.4 * total / n,
                        "answer positions of " + n + "-way questions: " + Arrays.toString(counts));
            }
        });
        double chance = questions.stream().mapToDouble(MultipleChoice::chance).average().orElseThrow();
        assertTrue(chance > 0.25 && chance < 0.5, "chance level " + chance);
    }

    /** A right answer must not stand out by being the only choice the document mentions. */
    @Test
    void wrongChoicesAreMentionedInTheDocumentToo() {
        for (MultipleChoice q : ToyWorld.questions(9, 700)) {
            for (String choice : q.choices()) {
                String word = choice.substring(choice.lastIndexOf(' ') + 1, choice.length() - 1);
                boolean fromContext = !q.family().equals("knowledge") || !choice.startsWith(" it ");
                if (fromContext && !NUMBER_WORDS.contains(word) && !word.equals("yes") && !word.equals("no")) {
                    assertTrue(Pattern.compile("\\b" + word + "\\b").matcher(q.context()).find(),
                            "'" + word + "' is not in: " + q.prompt());
                }
            }
        }
    }

    /**
     * An answered question is asked again only when something new was said about its subject in between (someone
     * moved, even if back to the same place), so no answer is a plain copy of an earlier one.
     */
    @Test
    void noDocumentRepeatsAnAnsweredQuestionWithoutNews() {
        for (QaExample example : ToyWorld.qaExamples(14, 2000)) {
            List<String> sentences = Arrays.asList(example.text().split("(?<=[.?]) "));
            Map<String, Integer> answeredAt = new HashMap<>();
            for (int i = 0; i + 1 < sentences.size(); i++) {
                String question = sentences.get(i);
                if (!question.endsWith("?")) {
                    continue;
                }
                Integer before = answeredAt.put(question + " " + sentences.get(i + 1), i);
                if (before != null) {
                    String subject = question.substring(question.lastIndexOf(' ') + 1, question.length() - 1);
                    assertTrue(sentences.subList(before + 2, i).stream().anyMatch(s -> s.startsWith(subject + " ")
                            || s.startsWith("then " + subject + " ")), example.text());
                }
            }
        }
    }

    /** Two cheap guesses stay far from perfect: "the place mentioned last" for tracking, and "no" for yes/no. */
    @Test
    void shortcutsDoNotAnswerTheQuestions() {
        int track = 0;
        int recent = 0;
        Map<String, int[]> yesNo = new HashMap<>();
        for (MultipleChoice q : ToyWorld.questions(15, 2800)) {
            if (q.family().equals("track")) {
                track++;
                int latest = 0;
                for (int i = 1; i < q.choices().size(); i++) {
                    if (placeAt(q.context(), q.choices().get(i)) > placeAt(q.context(), q.choices().get(latest))) {
                        latest = i;
                    }
                }
                recent += latest == q.answer() ? 1 : 0;
            }
            if (q.choices().contains(" yes.")) {
                yesNo.computeIfAbsent(q.family(), f -> new int[2])[q.correct().equals(" yes.") ? 0 : 1]++;
            }
        }
        assertTrue(recent < 0.45 * track, "the place mentioned last is right " + recent + " times in " + track);
        assertEquals(Set.of("order", "knowledge"), yesNo.keySet());
        yesNo.forEach((family, counts) -> {
            double yes = counts[0] / (double) (counts[0] + counts[1]);
            assertTrue(yes > 0.35 && yes < 0.65, family + ": yes is right in " + yes + " of yes/no questions");
        });
    }

    /** Where the place of " in the barn." is mentioned last ("went to the barn.", "in the barn."). */
    private static int placeAt(String context, String choice) {
        return context.lastIndexOf(" the " + choice.substring(" in the ".length()));
    }

    /** World knowledge is asked, never told: the document does not contain the answer. */
    @Test
    void knowledgeAnswersAreNotInTheDocument() {
        for (MultipleChoice q : ToyWorld.questions(10, 350, List.of("knowledge"))) {
            if (q.question().startsWith("what sound")) {
                String sound = q.correct().substring(" it ".length(), q.correct().length() - 1);
                assertFalse(q.context().contains(sound), q.prompt() + q.correct());
            }
        }
    }

    @Test
    void familiesCanBeSelected() {
        List<QaExample> examples = ToyWorld.qaExamples(11, 60, List.of("arith", "count"));
        assertEquals(Set.of("arith", "count"), Set.copyOf(examples.stream().map(QaExample::family).toList()));
        assertTrue(ToyWorld.questions(11, 10, List.of("order")).stream().allMatch(q -> q.family().equals("order")));
        QtaleException e = assertThrows(QtaleException.class, () -> ToyWorld.documents(1, 5, List.of("recall", "poetry")));
        assertEquals("Unknown toyworld family 'poetry'; the families are recall, track, compare, order, count, arith, "
                + "knowledge.", e.getMessage());
        assertThrows(QtaleException.class, () -> ToyWorld.documents(1, 5, List.of()));
    }
}
