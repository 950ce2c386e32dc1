package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Comparing: three or four people with an age and a number of coins, stated as number words in shuffled order.
 * The questions compare two of them ("who is older, tom or anna?") or ask for the extreme of all ("who has the most
 * coins?"), so the model must recall two or more numbers and know the order of the number words.
 */
final class CompareFamily implements Family {
    /** One compared quantity: how to ask for more, less, the most and the least of it. */
    private record Scale(String more, String less, String most, String least) {
    }

    private static final Scale AGE =
            new Scale("who is older", "who is younger", "who is the oldest", "who is the youngest");
    private static final Scale COINS = new Scale(
            "who has more coins", "who has fewer coins", "who has the most coins", "who has the fewest coins");

    @Override
    public String name() {
        return "compare";
    }

    @Override
    public Story generate(Rng rng) {
        int n = rng.between(3, 4);
        List<String> people = rng.sample(Lexicon.NAMES, n);
        List<Integer> range = IntStream.rangeClosed(2, Lexicon.MAX_NUMBER).boxed().toList();
        List<Integer> ages = rng.sample(range, n);
        List<Integer> coins = rng.sample(range, n);

        Story.Builder story = new Story.Builder(name());
        story.say("here are some facts about " + Lexicon.list(people) + ".");
        List<String> facts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            facts.add(people.get(i) + " is " + Lexicon.number(ages.get(i)) + " years old.");
            facts.add(people.get(i) + " has " + Lexicon.number(coins.get(i)) + " coins.");
        }
        rng.shuffle(facts);
        facts.forEach(story::say);

        int questions = rng.between(2, 3);
        while (questions > 0) {
            boolean age = rng.chance(0.5);
            if (ask(story, rng, people, age ? AGE : COINS, age ? ages : coins)) {
                questions--;
            }
        }
        return story.build(rng);
    }

    /** Asks a pair question (two choices) or, one time in three, the extreme of everyone (three or four choices). */
    private static boolean ask(Story.Builder story, Rng rng, List<String> people, Scale scale, List<Integer> values) {
        boolean more = rng.chance(0.5);
        List<String> candidates = rng.chance(1.0 / 3) ? people : rng.sample(people, 2);
        String question;
        if (candidates.size() == 2) {
            String lead = more ? scale.more() : scale.less();
            if (story.asked(lead + ", " + candidates.get(1) + " or " + candidates.get(0) + "?")) {
                return false; // the same question with the names swapped
            }
            question = lead + ", " + candidates.get(0) + " or " + candidates.get(1) + "?";
        } else {
            question = (more ? scale.most() : scale.least()) + "?";
        }
        String best = candidates.getFirst();
        for (String person : candidates) {
            int value = values.get(people.indexOf(person));
            int bestValue = values.get(people.indexOf(best));
            if (more ? value > bestValue : value < bestValue) {
                best = person;
            }
        }
        return story.askNew(question, Family.word(best), Family.wrong(candidates, best, Family::word));
    }
}
