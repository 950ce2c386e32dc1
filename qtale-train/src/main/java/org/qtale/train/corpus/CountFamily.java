package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counting: someone fills a bag over three or four sentences ("tom finds a shell, a key and a shell.") and
 * sometimes loses one thing. "how many shells does tom have?" needs the mentions of one noun counted across
 * sentences, minus the losses; "how many things" needs all of them.
 */
final class CountFamily implements Family {
    private static final List<String> VERBS = List.of("finds", "picks up", "gets");

    @Override
    public String name() {
        return "count";
    }

    @Override
    public Story generate(Rng rng) {
        String person = rng.pick(Lexicon.NAMES);
        List<String> things = rng.sample(Lexicon.THINGS, 3);
        Map<String, Integer> bag = new LinkedHashMap<>();
        things.forEach(thing -> bag.put(thing, 0));

        Story.Builder story = new Story.Builder(name());
        story.say(person + " has an empty bag.");
        int events = rng.between(3, 4);
        for (int e = 0; e < events || total(bag) == 0; e++) {
            String then = e > 0 && rng.chance(0.4) ? "then " : "";
            List<String> held = held(bag);
            if (e > 0 && !held.isEmpty() && rng.chance(0.2)) {
                String lost = rng.pick(held);
                bag.merge(lost, -1, Integer::sum);
                story.say(then + person + " loses " + Lexicon.withArticle(lost) + ".");
            } else {
                List<String> found = new ArrayList<>();
                for (int k = rng.between(1, 3); k > 0; k--) {
                    String thing = rng.pick(things);
                    bag.merge(thing, 1, Integer::sum);
                    found.add(Lexicon.withArticle(thing));
                }
                story.say(then + person + " " + rng.pick(VERBS) + " " + Lexicon.list(found) + ".");
            }
        }

        int questions = rng.between(1, 2);
        while (questions > 0) {
            String thing = rng.chance(0.25) ? "thing" : rng.pick(held(bag));
            String question = "how many " + Lexicon.plural(thing) + " does " + person + " have?";
            int count = thing.equals("thing") ? total(bag) : bag.get(thing);
            if (story.askNew(question, Family.numberAnswer(count),
                    Family.numberAnswers(Lexicon.nearbyNumbers(rng, count, 3)))) {
                questions--;
            }
        }
        return story.build(rng);
    }

    private static List<String> held(Map<String, Integer> bag) {
        return bag.keySet().stream().filter(thing -> bag.get(thing) > 0).toList();
    }

    private static int total(Map<String, Integer> bag) {
        return bag.values().stream().mapToInt(Integer::intValue).sum();
    }
}
