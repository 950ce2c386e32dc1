package org.qtale.train.corpus;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.qtale.QtaleException;

/**
 * Names a corpus. A SPEC is one of:
 * <ul>
 *   <li>{@code toyworld}: the built-in {@link ToyWorld} corpus, optionally followed by a colon and comma-separated
 *       parameters, e.g. {@code toyworld:seed=7,docs=5000,heldout=200,families=recall+track}:
 *       <ul>
 *         <li>{@code seed}: any whole number (default 1);
 *         <li>{@code docs}: the number of training documents, at least 1 (default 20000);
 *         <li>{@code heldout}: the number of held-out documents, at least 0 (default 1000);
 *         <li>{@code families}: family names joined by {@code +} (default all of {@link ToyWorld#families()}).
 *       </ul>
 *       The held-out documents are generated apart from the training ones and never equal one.
 *   <li>a path ending in {@code .jsonl}: one JSON object per line, whose {@code text} string is a document; blank
 *       lines are skipped, a malformed line or one without a {@code text} string is an error naming the line.
 *   <li>any other path: plain UTF-8 text, documents separated by blank lines. A file without blank lines has one
 *       document per line (WikiText-2 raw as shipped by Hugging Face is like this).
 * </ul>
 * For files the last twentieth of the documents is held out (at least one document when there are two or more).
 * A file that happens to be called {@code toyworld} is named {@code ./toyworld}.
 */
public sealed interface CorpusSpec {
    String TOYWORLD = "toyworld";

    /** Reads or generates the documents. */
    Corpus load();

    /** The spec in the form {@link #parse} reads, with every toyworld parameter spelled out. */
    String spec();

    static CorpusSpec parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new QtaleException("The corpus spec is empty; give toyworld or the path of a text or .jsonl file.");
        }
        if (spec.equals(TOYWORLD) || spec.startsWith(TOYWORLD + ":")) {
            return ToyWorldSpec.parseParameters(spec.substring(TOYWORLD.length()).replaceFirst("^:", ""));
        }
        Path path;
        try {
            path = Path.of(spec);
        } catch (InvalidPathException e) {
            throw new QtaleException("The corpus spec '" + spec + "' is neither toyworld nor a valid path: "
                    + e.getReason() + ".");
        }
        return spec.toLowerCase(Locale.ROOT).endsWith(".jsonl") ? new JsonlFile(path) : new TextFile(path);
    }

    /** The built-in corpus; see {@link ToyWorld}. */
    record ToyWorldSpec(long seed, int docs, int heldOut, List<String> families) implements CorpusSpec {
        public static final long DEFAULT_SEED = 1;
        public static final int DEFAULT_DOCS = 20_000;
        public static final int DEFAULT_HELD_OUT = 1_000;

        public ToyWorldSpec {
            families = List.copyOf(families);
            ToyWorld.select(families);
            if (docs < 1) {
                throw new QtaleException("The toyworld parameter docs must be at least 1, got " + docs + ".");
            }
            if (heldOut < 0) {
                throw new QtaleException("The toyworld parameter heldout must be at least 0, got " + heldOut + ".");
            }
        }

        /** The defaults: seed 1, 20000 training and 1000 held-out documents of all families. */
        public static ToyWorldSpec defaults() {
            return new ToyWorldSpec(DEFAULT_SEED, DEFAULT_DOCS, DEFAULT_HELD_OUT, ToyWorld.families());
        }

        @Override
        public Corpus load() {
            return new Corpus(spec(), ToyWorld.documents(seed, docs, families),
                    ToyWorld.heldOutDocuments(seed, heldOut, families));
        }

        @Override
        public String spec() {
            String spec = TOYWORLD + ":seed=" + seed + ",docs=" + docs + ",heldout=" + heldOut;
            return families.equals(ToyWorld.families()) ? spec : spec + ",families=" + String.join("+", families);
        }

        /** Reads "seed=7,docs=100"; an empty string gives the defaults. */
        private static ToyWorldSpec parseParameters(String parameters) {
            Map<String, String> values = new LinkedHashMap<>();
            for (String parameter : parameters.isEmpty() ? new String[0] : parameters.split(",", -1)) {
                int equals = parameter.indexOf('=');
                if (equals <= 0) {
                    throw new QtaleException(
                            "The toyworld parameter '" + parameter + "' is not of the form name=value.");
                }
                String name = parameter.substring(0, equals).trim();
                if (!List.of("seed", "docs", "heldout", "families").contains(name)) {
                    throw new QtaleException("Unknown toyworld parameter '" + name
                            + "'; the parameters are seed, docs, heldout and families.");
                }
                if (values.put(name, parameter.substring(equals + 1).trim()) != null) {
                    throw new QtaleException("The toyworld parameter " + name + " is given twice.");
                }
            }
            List<String> families = values.containsKey("families")
                    ? Arrays.stream(values.get("families").split("\\+", -1)).map(String::trim).toList()
                    : ToyWorld.families();
            return new ToyWorldSpec(
                    number(values, "seed", DEFAULT_SEED, Long.MIN_VALUE, Long.MAX_VALUE),
                    (int) number(values, "docs", DEFAULT_DOCS, 1, Integer.MAX_VALUE),
                    (int) number(values, "heldout", DEFAULT_HELD_OUT, 0, Integer.MAX_VALUE),
                    families);
        }

        private static long number(Map<String, String> values, String name, long fallback, long min, long max) {
            String value = values.get(name);
            if (value == null) {
                return fallback;
            }
            try {
                long number = Long.parseLong(value);
                if (number >= min && number <= max) {
                    return number;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            String range = min == Long.MIN_VALUE ? "" : " from " + min + " to " + max;
            throw new QtaleException("The toyworld parameter " + name + " must be a whole number" + range
                    + ", not '" + value + "'.");
        }
    }

    /** Plain UTF-8 text; documents are separated by blank lines (or are lines, when there is no blank line). */
    record TextFile(Path path) implements CorpusSpec {
        @Override
        public Corpus load() {
            return Corpus.splitTail(path.toString(), CorpusFiles.readText(path));
        }

        @Override
        public String spec() {
            return path.toString();
        }
    }

    /** One JSON object per line with a {@code text} string. */
    record JsonlFile(Path path) implements CorpusSpec {
        @Override
        public Corpus load() {
            return Corpus.splitTail(path.toString(), CorpusFiles.readJsonl(path));
        }

        @Override
        public String spec() {
            return path.toString();
        }
    }
}
