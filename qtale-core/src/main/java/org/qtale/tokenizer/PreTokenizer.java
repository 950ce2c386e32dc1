package org.qtale.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "pre_tokenizer" of a {@code tokenizer.json}: cuts normalized text into pieces that BPE encodes one at a time.
 * {@code atStart} tells whether the text begins the input (not after an added token), for Metaspace's "first" scheme.
 */
sealed interface PreTokenizer {
    List<String> split(String text, boolean atStart);

    /** GPT-2's split, used by ByteLevel when its {@code use_regex} is set. */
    Pattern GPT2_PATTERN = compileRegex("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    /**
     * Compiles a tokenizers regex (Oniguruma syntax) for java.util.regex. The syntax of the patterns in use is common
     * to both; what differs is {@code \s}, {@code \S} and case folding, which Oniguruma applies to all of Unicode and
     * Java only to ASCII unless told, so the Unicode flags make "\s" match U+00A0, U+3000 and the other White_Space.
     */
    static Pattern compileRegex(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
    }

    /** Applies each step to every piece the previous steps produced. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            List<String> pieces = List.of(text);
            for (PreTokenizer step : steps) {
                List<String> next = new ArrayList<>();
                for (int i = 0; i < pieces.size(); i++) {
                    next.addAll(step.split(pieces.get(i), atStart && i == 0));
                }
                pieces = next;
            }
            return pieces;
        }
    }

    /** What happens to the matches of a {@link Split} pattern. */
    enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT }

    /** Cuts at the matches of {@code pattern}. */
    record Split(Pattern pattern, Behavior behavior) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            List<String> pieces = new ArrayList<>();
            Matcher m = pattern.matcher(text);
            int end = 0;
            boolean lastWasMatch = false;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue;
                }
                if (m.start() > end) {
                    add(pieces, text.substring(end, m.start()), false, lastWasMatch);
                    lastWasMatch = false;
                }
                add(pieces, m.group(), true, lastWasMatch);
                lastWasMatch = true;
                end = m.end();
            }
            if (end < text.length()) {
                add(pieces, text.substring(end), false, lastWasMatch);
            }
            return pieces;
        }

        private void add(List<String> pieces, String part, boolean isMatch, boolean lastWasMatch) {
            boolean glue = switch (behavior) {
                case ISOLATED, REMOVED -> false;
                case MERGED_WITH_PREVIOUS -> isMatch && !lastWasMatch && !pieces.isEmpty();
                case MERGED_WITH_NEXT -> !isMatch && lastWasMatch;
            };
            if (behavior == Behavior.REMOVED && isMatch) {
                return;
            }
            if (glue) {
                pieces.set(pieces.size() - 1, pieces.getLast() + part);
            } else {
                pieces.add(part);
            }
        }
    }

    /** Maps each piece to GPT-2's byte characters, optionally after a leading space and GPT-2's own split. */
    record ByteLevelSplit(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            String s = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
            List<String> parts = useRegex ? new Split(GPT2_PATTERN, Behavior.ISOLATED).split(s, atStart) : List.of(s);
            return parts.stream().map(ByteLevel::encode).toList();
        }
    }

    /** How Metaspace puts the replacement character in front of a piece. */
    enum PrependScheme { ALWAYS, FIRST, NEVER }

    /** SentencePiece's whitespace handling: spaces become {@code replacement}, and each word starts with one. */
    record Metaspace(String replacement, PrependScheme scheme, boolean splitWords) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            String s = text.replace(" ", replacement);
            boolean prepend = scheme == PrependScheme.ALWAYS || (scheme == PrependScheme.FIRST && atStart);
            if (prepend && !s.startsWith(replacement)) {
                s = replacement + s;
            }
            if (!splitWords) {
                return List.of(s);
            }
            List<String> words = new ArrayList<>(); // each replacement character starts a new word
            int start = 0;
            for (int i = s.indexOf(replacement, 1); i >= 0; i = s.indexOf(replacement, i + replacement.length())) {
                words.add(s.substring(start, i));
                start = i;
            }
            words.add(s.substring(start));
            return words;
        }
    }
}
