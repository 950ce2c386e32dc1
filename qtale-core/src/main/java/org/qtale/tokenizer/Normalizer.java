package org.qtale.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The text rewrites of a {@code tokenizer.json} "normalizer", applied to the text between added tokens. */
sealed interface Normalizer {
    String apply(String text);

    /** Steps applied in order. */
    record Sequence(List<Normalizer> steps) implements Normalizer {
        @Override
        public String apply(String text) {
            for (Normalizer step : steps) {
                text = step.apply(text);
            }
            return text;
        }
    }

    /** Puts {@code prefix} in front of non-empty text (Llama 2's "▁" dummy prefix). */
    record Prepend(String prefix) implements Normalizer {
        @Override
        public String apply(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    /** Replaces every match of {@code pattern} by {@code content}. */
    record Replace(Pattern pattern, String content) implements Normalizer {
        @Override
        public String apply(String text) {
            return pattern.matcher(text).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    /** One of the Unicode normal forms (NFC, NFD, NFKC, NFKD). */
    record Unicode(java.text.Normalizer.Form form) implements Normalizer {
        @Override
        public String apply(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    record Lowercase() implements Normalizer {
        @Override
        public String apply(String text) {
            return text.toLowerCase(Locale.ROOT);
        }
    }
}
