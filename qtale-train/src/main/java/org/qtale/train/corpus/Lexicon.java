package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The words of the toy world, shared by its document families. */
final class Lexicon {
    static final List<String> NAMES = List.of(
            "tom", "anna", "ben", "mia", "sam", "lily", "max", "emma", "leo", "zoe", "jack", "nina",
            "paul", "rosa", "finn", "ella", "omar", "ruth", "ivan", "kate", "hugo", "lucy", "otto", "vera");

    /** The farm animals of {@link KnowledgeFamily} and a few wild ones; families without world facts use all. */
    static final List<String> ANIMALS = List.of(
            "bee", "mouse", "frog", "crow", "hen", "duck", "owl", "cat", "snake", "dog", "sheep", "pig",
            "wolf", "donkey", "lion", "cow", "horse", "bear", "fox", "deer", "rabbit", "goat", "seal", "bat");

    static final List<String> COLORS = List.of(
            "red", "blue", "green", "yellow", "brown", "white", "black", "grey", "pink", "orange");

    /** Places used as "in the ...". None of them appears in a filler or an opening sentence. */
    static final List<String> PLACES = List.of(
            "cave", "barn", "forest", "garden", "kitchen", "field", "house", "tower",
            "park", "meadow", "cabin", "shop", "castle", "valley", "hall", "library");

    static final List<String> FOODS = List.of(
            "apples", "bread", "carrots", "honey", "nuts", "berries", "cheese", "corn",
            "seeds", "soup", "grapes", "pears", "rice", "cake", "plums", "beans");

    /** Countable things; the plural is the singular plus "s" (or "es" after x). */
    static final List<String> THINGS = List.of(
            "stone", "coin", "shell", "book", "cup", "ball", "key", "flower",
            "egg", "card", "box", "pen", "hat", "bell", "ring", "spoon");

    /**
     * Sentences that carry no fact. A model learns them by heart, so after their first words they are the easy
     * tokens of a document. They avoid every word a family's templates rely on (place names, numbers, colors).
     */
    static final List<String> FILLERS = List.of(
            "the sun was warm and the sky was clear.",
            "a soft wind moved the tall grass.",
            "birds sang in the trees all day long.",
            "it was a quiet and happy day.",
            "the clouds were slow and far away.",
            "far away, a little bell rang.",
            "the air smelled of rain.",
            "everyone was in a good mood.",
            "the path was long and a bit muddy.",
            "the day was calm and bright.",
            "at night the stars came out.",
            "the old clock on the wall ticked.",
            "a small cloud passed over the sun.",
            "the leaves fell softly to the ground.",
            "the river sang its quiet song.",
            "nobody was in a hurry.");

    static final int MAX_NUMBER = 20;

    private static final List<String> NUMBERS = List.of(
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
            "nineteen", "twenty");

    private Lexicon() {
    }

    /** The word for {@code n} in [0, 20]. */
    static String number(int n) {
        return NUMBERS.get(n);
    }

    static String plural(String thing) {
        return thing.endsWith("x") ? thing + "es" : thing + "s";
    }

    /** "a stone" or "an egg". */
    static String withArticle(String noun) {
        return ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    }

    /** "one stone", "three stones". */
    static String counted(int n, String thing) {
        return number(n) + " " + (n == 1 ? thing : plural(thing));
    }

    /** "a", "a and b", "a, b and c". */
    static String list(List<String> items) {
        if (items.size() == 1) {
            return items.getFirst();
        }
        return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.getLast();
    }

    /**
     * Up to {@code k} wrong numbers in [0, 20] near {@code answer}. Half the time one of the question's operands is
     * among them (a model that copies a number it has just read should lose), but never more than one, so the
     * choice that is no operand is not a giveaway.
     */
    static List<Integer> nearbyNumbers(Rng rng, int answer, int k, int... operands) {
        Set<Integer> candidates = new LinkedHashSet<>();
        if (operands.length > 0 && rng.chance(0.5)) {
            candidates.add(operands[rng.nextInt(operands.length)]);
        }
        List<Integer> near = new ArrayList<>();
        for (int d = 1; d <= 3; d++) {
            near.add(answer - d);
            near.add(answer + d);
        }
        rng.shuffle(near);
        candidates.addAll(near);
        candidates.removeIf(n -> n == answer || n < 0 || n > MAX_NUMBER);
        return List.copyOf(new ArrayList<>(candidates).subList(0, Math.min(k, candidates.size())));
    }
}
