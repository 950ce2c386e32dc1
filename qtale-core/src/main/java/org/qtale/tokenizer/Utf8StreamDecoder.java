package org.qtale.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes a stream of byte chunks (one per generated token) to text, holding back a UTF-8 sequence that is not yet
 * complete so that a character split across tokens is printed whole. Malformed bytes become U+FFFD.
 */
public final class Utf8StreamDecoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private byte[] pending = new byte[0];

    /** Returns the text that is complete after adding {@code bytes}. */
    public String feed(byte[] bytes) {
        byte[] all = Arrays.copyOf(pending, pending.length + bytes.length);
        System.arraycopy(bytes, 0, all, pending.length, bytes.length);
        int complete = completePrefix(all);
        pending = Arrays.copyOfRange(all, complete, all.length);
        return decode(all, complete);
    }

    /** Returns whatever is held back, incomplete sequences as U+FFFD, and resets. */
    public String flush() {
        String rest = decode(pending, pending.length);
        pending = new byte[0];
        return rest;
    }

    /** Length of the prefix that ends on a character boundary (an unfinished trailing sequence is excluded). */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int lead = b[n - back] & 0xFF;
            if ((lead & 0xC0) == 0x80) {
                continue; // a continuation byte: keep looking for the lead byte
            }
            int needed = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 && lead < 0xE0 ? 2 : 1;
            return needed > back ? n - back : n;
        }
        return n;
    }

    private String decode(byte[] bytes, int length) {
        try {
            decoder.reset();
            return decoder.decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("UTF-8 decoding with replacement cannot fail", e);
        }
    }
}
