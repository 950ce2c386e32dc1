package org.qtale.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8StreamDecoderTest {
    @Test
    void holdsBackASplitCharacterUntilItIsComplete() {
        byte[] llama = "🦙".getBytes(StandardCharsets.UTF_8); // four bytes
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        assertEquals("a", decoder.feed(new byte[] {'a', llama[0]}));
        assertEquals("", decoder.feed(new byte[] {llama[1]}));
        assertEquals("", decoder.feed(new byte[] {llama[2]}));
        assertEquals("🦙b", decoder.feed(new byte[] {llama[3], 'b'}));
        assertEquals("", decoder.flush());
    }

    @Test
    void malformedBytesBecomeReplacementCharacters() {
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        assertEquals("\uFFFDx", decoder.feed(new byte[] {(byte) 0x80, 'x'}));
        assertEquals("", decoder.feed(new byte[] {(byte) 0xE2, (byte) 0x82}));
        assertEquals("\uFFFD", decoder.flush());
    }

    @Test
    void twoByteAndThreeByteSequences() {
        byte[] text = "é€".getBytes(StandardCharsets.UTF_8);
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        for (byte b : text) {
            out.append(decoder.feed(new byte[] {b}));
        }
        assertEquals("é€", out.toString());
    }
}
