package org.qtale.train.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Checks every answer in toy-world documents with a small solver per family. The solvers read only the text (and,
 * for world knowledge, facts written down here again), so a generator that states one thing and answers another,
 * or marks the wrong choice, fails here.
 */
class ToyWorldAnswersTest {
    private interface Solver {
        /** The answer continuation (" in the cave."), or null when the question is not understood. */
        String answer(List<String> context, String question);
    }

    private static final Map<String, Solver> SOLVERS = Map.of(
            "recall", ToyWorldAnswersTest::recall,
            "track", ToyWorldAnswersTest::track,
            "compare", ToyWorldAnswersTest::compare,
            "order", ToyWorldAnswersTest::order,
            "count", ToyWorldAnswersTest::count,
            "arith", ToyWorldAnswersTest::arith,
            "knowledge", ToyWorldAnswersTest::knowledge);

    private static final List<String> NUMBERS = List.of("zero", "one", "two", "three", "four", "five", "six",
            "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen", "nineteen", "twenty");

    private static final Map<String, String> SOUNDS = pairs("bee buzzes mouse squeaks frog croaks crow caws "
            + "hen clucks duck quacks owl hoots cat meows snake hisses dog barks sheep bleats pig oinks wolf howls "
            + "donkey brays lion roars cow moos horse neighs bear growls");
    private static final Set<String> FLYING = Set.of("bee", "crow", "duck", "owl");
    private static final Set<String> NOT_FLYING = Set.of("mouse", "frog", "cat", "snake", "dog", "sheep", "pig",
            "wolf", "donkey", "lion", "cow", "horse", "bear");
    /** Typical adult weights in grams. */
    private static final Map<String, String> GRAMS = pairs("bee 0.1 mouse 20 frog 50 crow 500 hen 2000 duck 1500 "
            + "owl 1500 cat 4000 snake 3000 dog 20000 sheep 60000 pig 100000 wolf 40000 donkey 200000 lion 190000 "
            + "cow 600000 horse 500000 bear 300000");

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    @Test
    void everyAnswerInEveryDocumentIsRight() {
        Map<String, Integer> checked = new HashMap<>();
        for (QaExample example : ToyWorld.qaExamples(12, 1400)) {
            checkDocument(example.family(), example.text(), checked);
        }
        for (MultipleChoice q : ToyWorld.questions(12, 700)) {
            checkDocument(q.family(), q.prompt() + q.correct(), checked);
        }
        assertEquals(SOLVERS.keySet(), checked.keySet());
        checked.forEach((family, n) -> assertTrue(n > 300, family + ": only " + n + " answers checked"));
    }

    @Test
    void theMarkedChoiceIsTheSolversAnswer() {
        for (MultipleChoice q : ToyWorld.questions(13, 1400)) {
            String expected = SOLVERS.get(q.family()).answer(sentences(q.context()), q.question());
            assertEquals(expected, q.correct(), q.prompt() + " " + q.choices());
        }
    }

    /** Each question is answered from the sentences before it; the answer is the sentence after it. */
    private static void checkDocument(String family, String text, Map<String, Integer> checked) {
        List<String> sentences = sentences(text);
        for (int i = 0; i + 1 < sentences.size(); i++) {
            if (sentences.get(i).endsWith("?")) {
                String expected = SOLVERS.get(family).answer(sentences.subList(0, i), sentences.get(i));
                assertEquals(expected, " " + sentences.get(i + 1), family + ": " + text);
                checked.merge(family, 1, Integer::sum);
            }
        }
    }

    private static List<String> sentences(String text) {
        return Arrays.asList(text.split("(?<=[.?]) "));
    }

    private static String recall(List<String> context, String question) {
        Map<String, String> color = new HashMap<>();
        Map<String, String> home = new HashMap<>();
        Map<String, String> food = new HashMap<>();
        for (String sentence : context) {
            Matcher m;
            if ((m = match("the (\\w+) (\\w+) lives in the (\\w+)\\.", sentence)) != null) {
                color.put(m.group(2), m.group(1));
                home.put(m.group(2), m.group(3));
            } else if ((m = match("the (\\w+) likes (\\w+)\\.", sentence)) != null) {
                food.put(m.group(1), m.group(2));
            }
        }
        Matcher q;
        if ((q = match("where does the (\\w+) live\\?", question)) != null) {
            return " in the " + home.get(q.group(1)) + ".";
        }
        if ((q = match("what color is the (\\w+)\\?", question)) != null) {
            return " " + color.get(q.group(1)) + ".";
        }
        if ((q = match("what does the (\\w+) like to eat\\?", question)) != null) {
            return " " + food.get(q.group(1)) + ".";
        }
        if ((q = match("which animal lives in the (\\w+)\\?", question)) != null) {
            String place = q.group(1);
            return home.entrySet().stream().filter(e -> e.getValue().equals(place))
                    .map(e -> " the " + e.getKey() + ".").reduce((a, b) -> "ambiguous").orElse(null);
        }
        return null;
    }

    private static String track(List<String> context, String question) {
        Map<String, String> at = new HashMap<>();
        for (String sentence : context) {
            Matcher m = match("(?:then )?(\\w+) (?:went|moved|walked|ran) to the (\\w+)\\.", sentence);
            if (m != null) {
                at.put(m.group(1), m.group(2));
            }
        }
        Matcher q = match("where is (\\w+)\\?", question);
        return q == null || !at.containsKey(q.group(1)) ? null : " in the " + at.get(q.group(1)) + ".";
    }

    private static String compare(List<String> context, String question) {
        Map<String, Integer> age = new HashMap<>();
        Map<String, Integer> coins = new HashMap<>();
        for (String sentence : context) {
            Matcher m;
            if ((m = match("(\\w+) is (\\w+) years old\\.", sentence)) != null) {
                age.put(m.group(1), NUMBERS.indexOf(m.group(2)));
            } else if ((m = match("(\\w+) has (\\w+) coins\\.", sentence)) != null) {
                coins.put(m.group(1), NUMBERS.indexOf(m.group(2)));
            }
        }
        Matcher q;
        if ((q = match("who is (older|younger), (\\w+) or (\\w+)\\?", question)) != null) {
            return extreme(age, List.of(q.group(2), q.group(3)), q.group(1).equals("older"));
        }
        if ((q = match("who has (more|fewer) coins, (\\w+) or (\\w+)\\?", question)) != null) {
            return extreme(coins, List.of(q.group(2), q.group(3)), q.group(1).equals("more"));
        }
        if ((q = match("who is the (oldest|youngest)\\?", question)) != null) {
            return extreme(age, age.keySet(), q.group(1).equals("oldest"));
        }
        if ((q = match("who has the (most|fewest) coins\\?", question)) != null) {
            return extreme(coins, coins.keySet(), q.group(1).equals("most"));
        }
        return null;
    }

    private static String extreme(Map<String, Integer> values, Iterable<String> among, boolean most) {
        String best = null;
        for (String person : among) {
            if (values.get(person) < 0) {
                return null;
            }
            if (best == null || (most ? values.get(person) > values.get(best) : values.get(person) < values.get(best))) {
                best = person;
            }
        }
        return " " + best + ".";
    }

    private static String order(List<String> context, String question) {
        // "tall" and "fast": who is known to have more than whom, as edges, then followed transitively
        Map<String, Map<String, Set<String>>> more = Map.of("tall", new HashMap<>(), "fast", new HashMap<>());
        for (String sentence : context) {
            Matcher m = match("(\\w+) is (taller|shorter|faster|slower) than (\\w+)\\.", sentence);
            if (m != null) {
                boolean up = m.group(2).equals("taller") || m.group(2).equals("faster");
                String from = up ? m.group(1) : m.group(3);
                String to = up ? m.group(3) : m.group(1);
                Map<String, Set<String>> graph = more.get(dimension(m.group(2)));
                graph.computeIfAbsent(from, k -> new HashSet<>()).add(to);
                graph.computeIfAbsent(to, k -> new HashSet<>());
            }
        }
        Matcher q;
        if ((q = match("who is the (tallest|shortest|fastest|slowest)\\?", question)) != null) {
            Map<String, Set<String>> graph = more.get(dimension(q.group(1)));
            boolean top = q.group(1).equals("tallest") || q.group(1).equals("fastest");
            for (String person : graph.keySet()) {
                boolean extreme = graph.keySet().stream().filter(o -> !o.equals(person))
                        .allMatch(o -> top ? reaches(graph, person, o) : reaches(graph, o, person));
                if (extreme) {
                    return " " + person + ".";
                }
            }
            return null;
        }
        if ((q = match("is (\\w+) (taller|shorter|faster|slower) than (\\w+)\\?", question)) != null) {
            String winner = answerPair(more.get(dimension(q.group(2))), q.group(1), q.group(3), q.group(2));
            return winner == null ? null : winner.equals(q.group(1)) ? " yes." : " no.";
        }
        if ((q = match("who is (taller|shorter|faster|slower), (\\w+) or (\\w+)\\?", question)) != null) {
            return " " + answerPair(more.get(dimension(q.group(1))), q.group(2), q.group(3), q.group(1)) + ".";
        }
        return null;
    }

    private static String dimension(String word) {
        return word.startsWith("tall") || word.startsWith("short") ? "tall" : "fast";
    }

    /** Which of x and y has more (taller, faster) or less (shorter, slower); null when the text does not say. */
    private static String answerPair(Map<String, Set<String>> graph, String x, String y, String word) {
        boolean up = word.equals("taller") || word.equals("faster");
        String higher = reaches(graph, x, y) ? x : reaches(graph, y, x) ? y : null;
        if (higher == null) {
            return null;
        }
        return up ? higher : higher.equals(x) ? y : x;
    }

    private static boolean reaches(Map<String, Set<String>> graph, String from, String to) {
        Set<String> seen = new HashSet<>();
        List<String> todo = new ArrayList<>(List.of(from));
        while (!todo.isEmpty()) {
            String next = todo.removeLast();
            for (String below : graph.getOrDefault(next, Set.of())) {
                if (below.equals(to)) {
                    return true;
                }
                if (seen.add(below)) {
                    todo.add(below);
                }
            }
        }
        return false;
    }

    private static String count(List<String> context, String question) {
        Map<String, Integer> bag = new HashMap<>();
        for (String sentence : context) {
            Matcher m;
            if ((m = match("(?:then )?\\w+ (?:finds|picks up|gets) (.+)\\.", sentence)) != null) {
                for (String item : m.group(1).split(", | and ")) {
                    bag.merge(item.replaceFirst("^an? ", ""), 1, Integer::sum);
                }
            } else if ((m = match("(?:then )?\\w+ loses an? (\\w+)\\.", sentence)) != null) {
                bag.merge(m.group(1), -1, Integer::sum);
            }
        }
        Matcher q = match("how many (\\w+) does \\w+ have\\?", question);
        if (q == null) {
            return null;
        }
        int n = q.group(1).equals("things")
                ? bag.values().stream().mapToInt(Integer::intValue).sum()
                : bag.getOrDefault(singular(q.group(1)), 0);
        return " " + NUMBERS.get(n) + ".";
    }

    private static String arith(List<String> context, String question) {
        Map<String, Integer> holdings = new HashMap<>(); // "tom stone" -> 3
        for (String sentence : context) {
            Matcher m;
            if ((m = match("(\\w+) has (\\w+) (\\w+)\\.", sentence)) != null) {
                holdings.put(m.group(1) + " " + singular(m.group(3)), NUMBERS.indexOf(m.group(2)));
            } else if ((m = match("\\w+ gives (\\w+) (\\w+) more (\\w+)\\.", sentence)) != null) {
                holdings.merge(m.group(1) + " " + singular(m.group(3)), NUMBERS.indexOf(m.group(2)), Integer::sum);
            } else if ((m = match("(\\w+) gives (\\w+) (\\w+) to \\w+\\.", sentence)) != null) {
                holdings.merge(m.group(1) + " " + singular(m.group(3)), -NUMBERS.indexOf(m.group(2)), Integer::sum);
            }
        }
        Matcher q;
        if ((q = match("what is (\\w+) (plus|minus) (\\w+)\\?", question)) != null) {
            int x = NUMBERS.indexOf(q.group(1));
            int y = NUMBERS.indexOf(q.group(3));
            return " " + NUMBERS.get(q.group(2).equals("plus") ? x + y : x - y) + ".";
        }
        if ((q = match("how many (\\w+) does (\\w+) have now\\?", question)) != null) {
            Integer n = holdings.get(q.group(2) + " " + singular(q.group(1)));
            return n == null ? null : " " + NUMBERS.get(n) + ".";
        }
        return null;
    }

    private static String knowledge(List<String> context, String question) {
        List<String> seen = new ArrayList<>();
        for (String sentence : context) {
            Matcher m = match("there \\w+ sees (.+)\\.", sentence);
            if (m != null) {
                Arrays.stream(m.group(1).split(", | and ")).map(a -> a.replaceFirst("^an? ", "")).forEach(seen::add);
            }
        }
        Matcher q;
        if ((q = match("what sound does the (\\w+) make\\?", question)) != null) {
            return " it " + SOUNDS.get(q.group(1)) + ".";
        }
        if ((q = match("which animal (\\w+)\\?", question)) != null) {
            String sound = q.group(1);
            return seen.stream().filter(a -> sound.equals(SOUNDS.get(a))).map(a -> " the " + a + ".")
                    .reduce((a, b) -> "ambiguous").orElse(null);
        }
        if ((q = match("can the (\\w+) fly\\?", question)) != null) {
            String animal = q.group(1);
            return FLYING.contains(animal) ? " yes." : NOT_FLYING.contains(animal) ? " no." : null;
        }
        if ((q = match("which is (bigger|smaller), the (\\w+) or the (\\w+)\\?", question)) != null) {
            double x = Double.parseDouble(GRAMS.get(q.group(2)));
            double y = Double.parseDouble(GRAMS.get(q.group(3)));
            boolean xWins = q.group(1).equals("bigger") ? x > y : x < y;
            return " the " + (xWins ? q.group(2) : q.group(3)) + ".";
        }
        return null;
    }

    private static String singular(String noun) {
        return noun.endsWith("xes") ? noun.substring(0, noun.length() - 2)
                : noun.endsWith("s") ? noun.substring(0, noun.length() - 1) : noun;
    }

    private static Matcher match(String regex, String text) {
        Matcher m = PATTERNS.computeIfAbsent(regex, Pattern::compile).matcher(text);
        return m.matches() ? m : null;
    }

    /** "a x b y" as the map {a=x, b=y}. */
    private static Map<String, String> pairs(String words) {
        String[] w = words.split(" ");
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i + 1 < w.length; i += 2) {
            map.put(w[i], w[i + 1]);
        }
        return Map.copyOf(map);
    }
}
