package org.qtale.train.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** One kind of toy-world document, named by what its questions make a model do. */
interface Family {
    String name();

    /** A new document; every call with a generator in the same state gives the same story. */
    Story generate(Rng rng);

    /** The continuations of {@code values} except {@code answer}, each rendered by {@code form}. */
    static List<String> wrong(List<String> values, String answer, Function<String, String> form) {
        List<String> wrong = new ArrayList<>();
        for (String value : values) {
            if (!value.equals(answer)) {
                wrong.add(form.apply(value));
            }
        }
        return wrong;
    }

    /** " in the cave." */
    static String in(String place) {
        return " in the " + place + ".";
    }

    /** " the fox." */
    static String the(String noun) {
        return " the " + noun + ".";
    }

    /** " red.", " tom." */
    static String word(String word) {
        return " " + word + ".";
    }

    /** " seven." and so on, for answers that are numbers. */
    static String numberAnswer(int n) {
        return " " + Lexicon.number(n) + ".";
    }

    static List<String> numberAnswers(List<Integer> numbers) {
        return numbers.stream().map(Family::numberAnswer).toList();
    }
}
