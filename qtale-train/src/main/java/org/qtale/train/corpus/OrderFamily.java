package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.List;

/**
 * Ordering: three or four people ranked by height and by speed, each ranking given only as neighbouring pairs
 * ("tom is taller than anna.", or the converse "anna is shorter than tom."), all in shuffled order. The questions
 * ask for the extreme, which of two is more, or yes/no about a pair; pairs that were not stated need the chain.
 */
final class OrderFamily implements Family {
    private record Relation(String more, String less, String most, String least) {
    }

    private static final List<Relation> RELATIONS = List.of(
            new Relation("taller", "shorter", "tallest", "shortest"),
            new Relation("faster", "slower", "fastest", "slowest"));

    @Override
    public String name() {
        return "order";
    }

    @Override
    public Story generate(Rng rng) {
        int n = rng.between(3, 4);
        List<String> people = rng.sample(Lexicon.NAMES, n);
        // rankings.get(r).get(0) has the most of relation r
        List<List<String>> rankings = List.of(rng.sample(people, n), rng.sample(people, n));

        Story.Builder story = new Story.Builder(name());
        story.say(Lexicon.list(people) + " are good friends.");
        List<String> statements = new ArrayList<>();
        for (int r = 0; r < RELATIONS.size(); r++) {
            Relation relation = RELATIONS.get(r);
            List<String> ranking = rankings.get(r);
            for (int i = 0; i + 1 < n; i++) {
                statements.add(rng.chance(0.5)
                        ? ranking.get(i) + " is " + relation.more() + " than " + ranking.get(i + 1) + "."
                        : ranking.get(i + 1) + " is " + relation.less() + " than " + ranking.get(i) + ".");
            }
        }
        rng.shuffle(statements);
        statements.forEach(story::say);

        int questions = rng.between(2, 3);
        while (questions > 0) {
            int r = rng.nextInt(RELATIONS.size());
            if (ask(story, rng, RELATIONS.get(r), rankings.get(r))) {
                questions--;
            }
        }
        return story.build(rng);
    }

    private static boolean ask(Story.Builder story, Rng rng, Relation relation, List<String> ranking) {
        boolean more = rng.chance(0.5);
        String word = more ? relation.more() : relation.less();
        int kind = rng.nextInt(3);
        if (kind == 0) {
            String question = "who is the " + (more ? relation.most() : relation.least()) + "?";
            String answer = more ? ranking.getFirst() : ranking.getLast();
            return story.askNew(question, Family.word(answer), Family.wrong(ranking, answer, Family::word));
        }
        List<String> pair = pair(rng, ranking);
        String x = pair.get(0);
        String y = pair.get(1);
        boolean xIsMore = ranking.indexOf(x) < ranking.indexOf(y);
        if (kind == 1) {
            boolean yes = more == xIsMore;
            return story.askNew("is " + x + " " + word + " than " + y + "?", yes ? " yes." : " no.",
                    List.of(yes ? " no." : " yes."));
        }
        if (story.asked("who is " + word + ", " + y + " or " + x + "?")) {
            return false;
        }
        String answer = more == xIsMore ? x : y;
        return story.askNew("who is " + word + ", " + x + " or " + y + "?", Family.word(answer),
                List.of(Family.word(answer.equals(x) ? y : x)));
    }

    /** Two people in random order, two or more ranks apart seven times in ten, so the chain must be followed. */
    private static List<String> pair(Rng rng, List<String> ranking) {
        while (true) {
            List<String> pair = rng.sample(ranking, 2);
            int gap = Math.abs(ranking.indexOf(pair.get(0)) - ranking.indexOf(pair.get(1)));
            if (gap >= 2 || rng.chance(0.3)) {
                return pair;
            }
        }
    }
}
