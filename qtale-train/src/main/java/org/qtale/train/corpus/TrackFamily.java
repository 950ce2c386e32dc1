package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tracking: two or three people move between a handful of places; "where is tom?" asks for the latest place, so
 * the earlier places of the same person (the usual wrong choices) must be overruled by the most recent move.
 * Questions may come between the moves; each is about someone who moved since they were last asked, so no answer
 * can be copied from an earlier one.
 */
final class TrackFamily implements Family {
    private static final List<String> VERBS = List.of("went", "moved", "walked", "ran");

    @Override
    public String name() {
        return "track";
    }

    @Override
    public Story generate(Rng rng) {
        List<String> people = rng.sample(Lexicon.NAMES, rng.between(2, 3));
        List<String> places = rng.sample(Lexicon.PLACES, rng.between(4, 5));
        World world = new World(new Story.Builder(name()), places);
        world.story.say(Lexicon.list(people) + " spent the day in the village.");

        int moves = rng.between(6, 8);
        int early = 0;
        for (int m = 0; m < moves; m++) {
            world.move(rng, rng.pick(people));
            if (m >= 2 && early < 2 && rng.chance(0.3)) {
                world.ask(rng.pick(world.history.keySet().stream().filter(world::movedSinceAsked).toList()));
                early++;
            }
        }
        List<String> candidates = people.stream()
                .filter(p -> world.history.containsKey(p) && world.history.get(p).size() >= 2)
                .filter(world::movedSinceAsked)
                .toList();
        String last = candidates.isEmpty() ? rng.pick(people) : rng.pick(candidates);
        if (candidates.isEmpty()) {
            world.move(rng, last);
        }
        // others usually move after the asked person, so "the place mentioned last" is no shortcut to the answer
        List<String> others = people.stream().filter(p -> !p.equals(last)).toList();
        for (int m = rng.chance(0.75) ? rng.between(1, 2) : 0; m > 0; m--) {
            world.move(rng, rng.pick(others));
        }
        world.ask(last);
        return world.story.build(rng);
    }

    /** The story being told and where everyone has been so far. */
    private static final class World {
        final Story.Builder story;
        final List<String> places;
        final Map<String, List<String>> history = new LinkedHashMap<>();
        final Map<String, Integer> lastMove = new LinkedHashMap<>();
        final Map<String, Integer> lastAsked = new LinkedHashMap<>();
        int step;

        World(Story.Builder story, List<String> places) {
            this.story = story;
            this.places = places;
        }

        void move(Rng rng, String person) {
            List<String> visited = history.computeIfAbsent(person, p -> new ArrayList<>());
            String place;
            do {
                place = rng.pick(places);
            } while (!visited.isEmpty() && visited.getLast().equals(place));
            visited.add(place);
            String then = step > 0 && rng.chance(0.3) ? "then " : "";
            story.say(then + person + " " + rng.pick(VERBS) + " to the " + place + ".");
            lastMove.put(person, step++);
        }

        boolean movedSinceAsked(String person) {
            return lastMove.get(person) > lastAsked.getOrDefault(person, -1);
        }

        /**
         * Wrong choices, hardest first: the person's own earlier places, where the others are, other places
         * mentioned. Places never mentioned would be easy to rule out, so they only fill in when nothing else is
         * left (everyone went to the same place so far).
         */
        void ask(String person) {
            List<String> visited = history.get(person);
            String here = visited.getLast();
            Set<String> wrong = new LinkedHashSet<>(visited.reversed());
            history.forEach((other, been) -> wrong.add(been.getLast()));
            history.forEach((other, been) -> wrong.addAll(been));
            wrong.remove(here);
            if (wrong.isEmpty()) {
                wrong.addAll(places);
                wrong.remove(here);
            }
            List<String> distractors = wrong.stream().limit(3).map(Family::in).toList();
            story.ask("where is " + person + "?", Family.in(here), distractors);
            lastAsked.put(person, step++);
        }
    }
}
