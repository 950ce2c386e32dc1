package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Recall: three or four animals, each with a color, a home and a favourite food stated once in shuffled order;
 * the questions ask one attribute back (or the animal from its home). Every choice is an attribute of some animal
 * in the same document, so only the binding of attribute to animal tells the right one.
 */
final class RecallFamily implements Family {
    @Override
    public String name() {
        return "recall";
    }

    @Override
    public Story generate(Rng rng) {
        int n = rng.between(3, 4);
        List<String> animals = rng.sample(Lexicon.ANIMALS, n);
        List<String> colors = rng.sample(Lexicon.COLORS, n);
        List<String> places = rng.sample(Lexicon.PLACES, n);
        List<String> foods = rng.sample(Lexicon.FOODS, n);

        Story.Builder story = new Story.Builder(name());
        story.say("this is a story about " + Lexicon.number(n) + " animals.");
        List<String> facts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            facts.add("the " + colors.get(i) + " " + animals.get(i) + " lives in the " + places.get(i) + ".");
            facts.add("the " + animals.get(i) + " likes " + foods.get(i) + ".");
        }
        rng.shuffle(facts);
        facts.forEach(story::say);

        int questions = rng.between(2, 3);
        while (questions > 0) {
            int i = rng.nextInt(n);
            String animal = animals.get(i);
            boolean added = switch (rng.nextInt(4)) {
                case 0 -> ask(story, "where does the " + animal + " live?", places, i, Family::in);
                case 1 -> ask(story, "what color is the " + animal + "?", colors, i, Family::word);
                case 2 -> ask(story, "what does the " + animal + " like to eat?", foods, i, Family::word);
                default -> ask(story, "which animal lives in the " + places.get(i) + "?", animals, i, Family::the);
            };
            if (added) {
                questions--;
            }
        }
        return story.build(rng);
    }

    /** Asks {@code question} unless it was asked already; the answer is {@code values[i]}, the others are wrong. */
    private static boolean ask(Story.Builder story, String question, List<String> values, int i,
            Function<String, String> form) {
        return story.askNew(question, form.apply(values.get(i)), Family.wrong(values, values.get(i), form));
    }
}
