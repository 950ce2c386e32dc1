package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.List;

/**
 * Arithmetic: one or two word problems ("anna has four cups. tom gives anna three more cups. how many cups does
 * anna have now?") and one or two bare sums ("what is nine minus five?"), in random order. All numbers are words
 * from zero to twenty; the wrong choices are neighbours of the answer and sometimes an operand.
 */
final class ArithFamily implements Family {
    @Override
    public String name() {
        return "arith";
    }

    @Override
    public Story generate(Rng rng) {
        List<String> people = rng.sample(Lexicon.NAMES, 2);
        List<String> things = rng.sample(Lexicon.THINGS, 2);
        Story.Builder story = new Story.Builder(name());
        story.say("this is a story about " + people.get(0) + " and " + people.get(1) + ".");

        List<Boolean> plan = new ArrayList<>(); // true: a word problem, false: a bare sum
        for (int i = rng.between(1, 2); i > 0; i--) {
            plan.add(true);
        }
        for (int i = rng.between(1, 2); i > 0; i--) {
            plan.add(false);
        }
        rng.shuffle(plan);
        int problems = 0;
        for (boolean wordProblem : plan) {
            if (wordProblem) {
                problem(story, rng, rng.sample(people, 2), things.get(problems++));
            } else {
                sum(story, rng);
            }
        }
        return story.build(rng);
    }

    private static void problem(Story.Builder story, Rng rng, List<String> pair, String thing) {
        String a = pair.get(0);
        String b = pair.get(1);
        int x;
        int y;
        int z;
        if (rng.chance(0.5)) {
            x = rng.between(1, 10);
            y = rng.between(1, 10);
            z = x + y;
            story.say(a + " has " + Lexicon.counted(x, thing) + ".");
            String things = y == 1 ? thing : Lexicon.plural(thing);
            story.say(b + " gives " + a + " " + Lexicon.number(y) + " more " + things + ".");
        } else {
            x = rng.between(2, 10);
            y = rng.between(1, x);
            z = x - y;
            story.say(a + " has " + Lexicon.counted(x, thing) + ".");
            story.say(a + " gives " + Lexicon.counted(y, thing) + " to " + b + ".");
        }
        story.ask("how many " + Lexicon.plural(thing) + " does " + a + " have now?", Family.numberAnswer(z),
                Family.numberAnswers(Lexicon.nearbyNumbers(rng, z, 3, x, y)));
    }

    private static void sum(Story.Builder story, Rng rng) {
        while (true) {
            boolean plus = rng.chance(0.5);
            int x = plus ? rng.between(0, 10) : rng.between(1, Lexicon.MAX_NUMBER);
            int y = plus ? rng.between(0, 10) : rng.between(0, Math.min(x, 10));
            String question = "what is " + Lexicon.number(x) + (plus ? " plus " : " minus ") + Lexicon.number(y) + "?";
            int z = plus ? x + y : x - y;
            if (story.askNew(question, Family.numberAnswer(z),
                    Family.numberAnswers(Lexicon.nearbyNumbers(rng, z, 3, x, y)))) {
                return;
            }
        }
    }
}
