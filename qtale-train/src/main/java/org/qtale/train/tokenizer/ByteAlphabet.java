package org.qtale.train.tokenizer;

/**
 * GPT-2's byte-to-character table, which byte-level BPE uses to spell tokens as visible text: the 188 printable
 * Latin-1 bytes stand for themselves and the other 68 (controls, space, DEL, NBSP, soft hyphen...) take the
 * characters from U+0100 on, in byte order. So the space byte is "Ġ" and a newline is "Ċ".
 */
final class ByteAlphabet {
    private static final String[] PIECES = new String[256];

    static {
        char shifted = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            PIECES[b] = String.valueOf(printable ? (char) b : shifted++);
        }
    }

    private ByteAlphabet() {
    }

    /** The one-character piece of byte {@code b} (0 to 255). */
    static String piece(int b) {
        return PIECES[b];
    }
}
