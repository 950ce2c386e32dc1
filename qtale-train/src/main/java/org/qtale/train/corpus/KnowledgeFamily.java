package org.qtale.train.corpus;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * World knowledge: someone visits the zoo and sees three or four animals; the questions ask what every reader
 * knows about them (the sound each makes, whether it flies, which of two is bigger) and which the document never
 * states. The facts are the same in every document, so they are learned by heart over the corpus, unlike the
 * other families, whose answers live in the document.
 */
final class KnowledgeFamily implements Family {
    /**
     * An animal and the facts about it.
     *
     * @param size  a rough size class from 0 (bee) to 7 (cow); only classes two or more apart are compared
     * @param flies null where the answer is debatable (hens flutter), so it is never asked
     */
    record Animal(String name, String sound, int size, Boolean flies) {
    }

    static final List<Animal> ANIMALS = List.of(
            new Animal("bee", "buzzes", 0, true),
            new Animal("mouse", "squeaks", 1, false),
            new Animal("frog", "croaks", 1, false),
            new Animal("crow", "caws", 2, true),
            new Animal("hen", "clucks", 2, null),
            new Animal("duck", "quacks", 2, true),
            new Animal("owl", "hoots", 2, true),
            new Animal("cat", "meows", 3, false),
            new Animal("snake", "hisses", 3, false),
            new Animal("dog", "barks", 4, false),
            new Animal("sheep", "bleats", 5, false),
            new Animal("pig", "oinks", 5, false),
            new Animal("wolf", "howls", 5, false),
            new Animal("donkey", "brays", 6, false),
            new Animal("lion", "roars", 6, false),
            new Animal("cow", "moos", 7, false),
            new Animal("horse", "neighs", 7, false),
            new Animal("bear", "growls", 7, false));

    @Override
    public String name() {
        return "knowledge";
    }

    @Override
    public Story generate(Rng rng) {
        String person = rng.pick(Lexicon.NAMES);
        List<Animal> seen = rng.sample(ANIMALS, rng.between(3, 4));
        List<String> names = seen.stream().map(Animal::name).toList();

        Story.Builder story = new Story.Builder(name());
        story.say(person + " visits the zoo.");
        story.say("there " + person + " sees " + Lexicon.list(names.stream().map(Lexicon::withArticle).toList()) + ".");
        story.say(person + " gives some " + rng.pick(Lexicon.FOODS) + " to the " + rng.pick(names) + ".");

        // an animal whose sound was asked once is not asked again the other way round, which could be copied
        Set<Animal> soundAsked = new HashSet<>();
        int questions = rng.between(2, 3);
        while (questions > 0) {
            Animal animal = rng.pick(seen);
            int kind = rng.nextInt(4);
            if (kind <= 1 && !soundAsked.add(animal)) {
                continue;
            }
            boolean added = switch (kind) {
                case 0 -> story.askNew("what sound does the " + animal.name() + " make?", " it " + animal.sound() + ".",
                        seen.stream().filter(a -> a != animal).map(a -> " it " + a.sound() + ".").toList());
                case 1 -> story.askNew("which animal " + animal.sound() + "?", Family.the(animal.name()),
                        Family.wrong(names, animal.name(), Family::the));
                case 2 -> flies(story, rng, seen);
                default -> bigger(story, rng, animal, rng.pick(seen));
            };
            if (added) {
                questions--;
            }
        }
        return story.build(rng);
    }

    /**
     * "can the owl fly?" Most animals here do not fly, so half the time a flying one is asked about if there is one;
     * otherwise "no" would be right three times in four without knowing anything.
     */
    private static boolean flies(Story.Builder story, Rng rng, List<Animal> seen) {
        List<Animal> flying = seen.stream().filter(a -> Boolean.TRUE.equals(a.flies())).toList();
        Animal animal = !flying.isEmpty() && rng.chance(0.5) ? rng.pick(flying) : rng.pick(seen);
        return animal.flies() != null && story.askNew("can the " + animal.name() + " fly?",
                animal.flies() ? " yes." : " no.", List.of(animal.flies() ? " no." : " yes."));
    }

    /** "which is bigger, the cow or the hen?" (or smaller), when the two differ clearly in size. */
    private static boolean bigger(Story.Builder story, Rng rng, Animal x, Animal y) {
        if (Math.abs(x.size() - y.size()) < 2) {
            return false;
        }
        boolean bigger = rng.chance(0.5);
        Animal answer = bigger == (x.size() > y.size()) ? x : y;
        Animal other = answer == x ? y : x;
        String lead = "which is " + (bigger ? "bigger" : "smaller") + ", the ";
        String question = lead + x.name() + " or the " + y.name() + "?";
        String swapped = lead + y.name() + " or the " + x.name() + "?";
        return !story.asked(swapped) && story.askNew(question, Family.the(answer.name()),
                List.of(Family.the(other.name())));
    }
}
