package org.qtale.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Turns text into token ids and token ids back into bytes. */
public interface Tokenizer {
    int vocabSize();

    /** Encodes {@code text}, with the beginning-of-sequence token first when {@code addBos} is set. */
    int[] encode(String text, boolean addBos);

    /**
     * The bytes {@code token} contributes to the text when it follows {@code previous} (-1 at the start). Control
     * tokens contribute nothing. A token may carry part of a UTF-8 sequence; {@link Utf8StreamDecoder} joins them.
     */
    byte[] tokenBytes(int token, int previous);

    /** The beginning-of-sequence id, or -1. */
    int bos();

    /** The end-of-sequence id, or -1. */
    int eos();

    /** Ids that end a generation. */
    Set<Integer> stopTokens();

    /** The stored piece of a token, for display. */
    String piece(int token);

    /** Decodes a whole sequence to text. */
    default String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int previous = -1;
        for (int token : tokens) {
            bytes.writeBytes(tokenBytes(token, previous));
            previous = token;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
