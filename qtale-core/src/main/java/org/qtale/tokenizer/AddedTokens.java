package org.qtale.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the added tokens (such as {@code <|begin_of_text|>}) in raw text before normalization: at each position the
 * longest token that starts there wins, and the text between tokens is left for the normal pipeline.
 */
final class AddedTokens {
    /** One entry of "added_tokens"; {@code special} tokens are control tokens that decode to nothing. */
    record Token(int id, String content, boolean special) {
    }

    /** A run of plain text ({@code id == -1}) or one added token, at {@code offset} in the input. */
    record Segment(String text, int id, int offset) {
        boolean isToken() {
            return id >= 0;
        }
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>();
        int id = -1;
    }

    private final Node root = new Node();

    AddedTokens(List<Token> tokens) {
        for (Token token : tokens) {
            if (token.content().isEmpty()) {
                continue;
            }
            Node node = root;
            for (char c : token.content().toCharArray()) {
                node = node.children.computeIfAbsent(c, k -> new Node());
            }
            node.id = token.id();
        }
    }

    List<Segment> split(String text) {
        List<Segment> segments = new ArrayList<>();
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            int[] match = longestMatch(text, i);
            if (match == null) {
                i++;
                continue;
            }
            if (i > plainStart) {
                segments.add(new Segment(text.substring(plainStart, i), -1, plainStart));
            }
            segments.add(new Segment(text.substring(i, match[1]), match[0], i));
            i = match[1];
            plainStart = i;
        }
        if (plainStart < text.length()) {
            segments.add(new Segment(text.substring(plainStart), -1, plainStart));
        }
        return segments;
    }

    /** {id, end} of the longest token starting at {@code from}, or null. */
    private int[] longestMatch(String text, int from) {
        Node node = root;
        int[] best = null;
        for (int j = from; j < text.length(); j++) {
            node = node.children.get(text.charAt(j));
            if (node == null) {
                break;
            }
            if (node.id >= 0) {
                best = new int[] {node.id, j + 1};
            }
        }
        return best;
    }
}
