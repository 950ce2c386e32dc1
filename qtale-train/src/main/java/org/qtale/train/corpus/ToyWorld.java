package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.qtale.QtaleException;

/**
 * The built-in corpus {@code toyworld}: short documents (50 to 150 words, about 300 distinct lowercase words) in a
 * small synthetic world, generated from a seed with no data files.
 *
 * <p>Each document belongs to one family and ends with two or three questions answered in place
 * ("where does the fox live? in the cave."). The mix of difficulty is the point: template words, filler sentences
 * and punctuation are nearly free to predict, while the answers need real work, and a different kind of work per
 * family:
 * <ul>
 *   <li>{@code recall}: an attribute stated once for one of three or four animals (color, home, food);
 *   <li>{@code track}: where a person is after several moves (the latest place wins over earlier ones);
 *   <li>{@code compare}: which of two people is older or has more coins, or who has the most;
 *   <li>{@code order}: extremes and pairs of a ranking given only as shuffled neighbouring pairs (transitivity);
 *   <li>{@code count}: how many of one thing (or of all things) someone has found, minus what they lost;
 *   <li>{@code arith}: word problems and bare sums with number words from zero to twenty;
 *   <li>{@code knowledge}: fixed world facts never stated in the document (animal sounds, flying, sizes).
 * </ul>
 *
 * <p>Splits: whether a document is training or held-out text is decided by a hash of its text (one in sixteen is
 * held out), and each split is drawn from its own seed stream. So no training document can equal a held-out one,
 * whatever the seeds, and held-out documents have the same distribution as training ones. Every held-out document
 * is also a {@link MultipleChoice} question (its last question), so {@link #heldOutDocuments}, {@link #questions}
 * and {@link #heldOutQaExamples} with the same arguments describe the same documents. Held-out families take turns,
 * so each family gets the same share of questions.
 *
 * <p>The same seed gives the same documents on every JDK, and the first n documents of a longer list are the list
 * for n.
 */
public final class ToyWorld {
    private static final List<Family> FAMILIES = List.of(new RecallFamily(), new TrackFamily(), new CompareFamily(),
            new OrderFamily(), new CountFamily(), new ArithFamily(), new KnowledgeFamily());

    private static final long TRAIN_STREAM = 0x5452_4149_4EL;
    private static final long HELD_OUT_STREAM = 0x4845_4C44_4F55_54L;
    private static final long SPLIT_SALT = 0x53_504C_4954L;
    private static final long CHOICE_SALT = 0x43_484F_4943_45L;

    private ToyWorld() {
    }

    /** The family names, in the order of the class comment. */
    public static List<String> families() {
        return FAMILIES.stream().map(Family::name).toList();
    }

    /** {@code count} training documents of all families, mixed at random. */
    public static List<String> documents(long seed, int count) {
        return documents(seed, count, families());
    }

    /** {@code count} training documents of the given families, mixed at random. */
    public static List<String> documents(long seed, int count, List<String> families) {
        return map(stories(seed, count, select(families), false), Story::text);
    }

    /** {@code count} held-out documents of all families. */
    public static List<String> heldOutDocuments(long seed, int count) {
        return heldOutDocuments(seed, count, families());
    }

    /** {@code count} held-out documents of the given families, which take turns. */
    public static List<String> heldOutDocuments(long seed, int count, List<String> families) {
        return map(stories(seed, count, select(families), true), Story::text);
    }

    /** {@code count} held-out multiple-choice questions of all families. */
    public static List<MultipleChoice> questions(long seed, int count) {
        return questions(seed, count, families());
    }

    /** {@code count} held-out multiple-choice questions of the given families, which take turns. */
    public static List<MultipleChoice> questions(long seed, int count, List<String> families) {
        return map(stories(seed, count, select(families), true), ToyWorld::question);
    }

    /** The training documents of {@link #documents(long, int)}, each split before its last answer. */
    public static List<QaExample> qaExamples(long seed, int count) {
        return qaExamples(seed, count, families());
    }

    /** The training documents of {@link #documents(long, int, List)}, each split before its last answer. */
    public static List<QaExample> qaExamples(long seed, int count, List<String> families) {
        return map(stories(seed, count, select(families), false), ToyWorld::qaExample);
    }

    /** The held-out documents of {@link #heldOutDocuments(long, int)}, each split before its last answer. */
    public static List<QaExample> heldOutQaExamples(long seed, int count) {
        return heldOutQaExamples(seed, count, families());
    }

    /**
     * The held-out documents of {@link #heldOutDocuments(long, int, List)}, each split before its last answer: the
     * same split as {@link #questions}, with the correct choice as the answer.
     */
    public static List<QaExample> heldOutQaExamples(long seed, int count, List<String> families) {
        return map(stories(seed, count, select(families), true), ToyWorld::qaExample);
    }

    /** Whether a document belongs to the held-out split: a function of its text alone. */
    static boolean isHeldOut(String document) {
        return Rng.mix(document.hashCode(), SPLIT_SALT) >>> 60 == 0;
    }

    private static List<Story> stories(long seed, int count, List<Family> families, boolean heldOut) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0: " + count);
        }
        long stream = Rng.mix(seed, heldOut ? HELD_OUT_STREAM : TRAIN_STREAM);
        List<Story> stories = new ArrayList<>(count);
        for (long candidate = 0; stories.size() < count; candidate++) {
            Rng rng = new Rng(Rng.mix(stream, candidate));
            Family family = heldOut ? families.get(stories.size() % families.size()) : rng.pick(families);
            Story story = family.generate(rng);
            if (isHeldOut(story.text()) == heldOut) {
                stories.add(story);
            }
        }
        return stories;
    }

    private static MultipleChoice question(Story story) {
        Story.Question last = story.lastQuestion();
        List<String> choices = new ArrayList<>(last.distractors());
        choices.add(last.answer());
        new Rng(Rng.mix(story.text().hashCode(), CHOICE_SALT)).shuffle(choices);
        return new MultipleChoice(story.family(), story.context(), last.question(), choices,
                choices.indexOf(last.answer()));
    }

    private static QaExample qaExample(Story story) {
        return new QaExample(story.family(), prompt(story), story.lastQuestion().answer());
    }

    private static String prompt(Story story) {
        return story.context() + " " + story.lastQuestion().question();
    }

    /** The families of {@code names}, in their order and without repeats; unknown names are an error. */
    static List<Family> select(List<String> names) {
        if (names.isEmpty()) {
            throw new QtaleException("No toyworld family was selected; the families are "
                    + String.join(", ", families()) + ".");
        }
        List<Family> selected = new ArrayList<>();
        for (String name : names) {
            Family family = FAMILIES.stream().filter(f -> f.name().equals(name)).findFirst()
                    .orElseThrow(() -> new QtaleException("Unknown toyworld family '" + name + "'; the families are "
                            + String.join(", ", families()) + "."));
            if (!selected.contains(family)) {
                selected.add(family);
            }
        }
        return selected;
    }

    private static <T> List<T> map(List<Story> stories, Function<Story, T> f) {
        return stories.stream().map(f).toList();
    }
}
