package org.qtale.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.qtale.QtaleException;

/**
 * The SentencePiece-style tokenizer of llama2.c ({@code tokenizer.bin}): a vocabulary of byte strings with scores.
 * Encoding prepends a space (the dummy prefix), splits the UTF-8 text into code points (unknown ones fall back to
 * byte tokens {@code 3 + byte}) and then repeatedly merges the adjacent pair whose merged piece has the highest
 * score.
 */
public final class Llama2cTokenizer implements Tokenizer {
    public static final int BOS = 1;
    public static final int EOS = 2;
    private static final int BYTE_OFFSET = 3;

    private final byte[][] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids;

    public Llama2cTokenizer(byte[][] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        this.ids = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(key(pieces[i]), i);
        }
    }

    /**
     * Reads a {@code tokenizer.bin}. The file does not store its size, so {@code expectedVocabSize} (from the model)
     * is checked when positive, and otherwise every entry up to the end of the file is read.
     */
    public static Llama2cTokenizer load(Path path, int expectedVocabSize) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw QtaleException.cannotRead("tokenizer file", path, e);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        String malformed = path + " is not a llama2.c tokenizer.bin";
        if (in.remaining() < 4) {
            throw new QtaleException(malformed + " (it is too short).");
        }
        int maxLength = in.getInt();
        if (maxLength <= 0 || maxLength > 1024) {
            throw new QtaleException(malformed + " (its maximum token length is " + maxLength + ").");
        }
        List<byte[]> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (in.hasRemaining() && (expectedVocabSize <= 0 || pieces.size() < expectedVocabSize)) {
            if (in.remaining() < 8) {
                throw new QtaleException(malformed + " (entry " + pieces.size() + " is truncated).");
            }
            float score = in.getFloat();
            int length = in.getInt();
            if (length < 0 || length > maxLength || length > in.remaining()) {
                throw new QtaleException(malformed + " (entry " + pieces.size() + " has length " + length + ").");
            }
            byte[] piece = new byte[length];
            in.get(piece);
            pieces.add(piece);
            scores.add(score);
        }
        if (expectedVocabSize > 0 && pieces.size() != expectedVocabSize) {
            throw new QtaleException("Tokenizer " + path + " has " + pieces.size() + " tokens but the model expects "
                    + expectedVocabSize + ".");
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        return new Llama2cTokenizer(pieces.toArray(new byte[0][]), s);
    }

    /** Byte strings as map keys: ISO-8859-1 maps every byte to one char and back. */
    private static String key(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private int lookup(byte[] bytes, int from, int to) {
        return ids.getOrDefault(new String(bytes, from, to - from, StandardCharsets.ISO_8859_1), -1);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    public byte[] pieceBytes(int token) {
        return pieces[token].clone();
    }

    public float score(int token) {
        return scores[token];
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> tokens = new ArrayList<>();
        if (addBos) {
            tokens.add(BOS);
        }
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0) {
            int space = ids.getOrDefault(" ", -1);
            if (space >= 0) {
                tokens.add(space);
            }
        }
        int start = 0;
        while (start < utf8.length) {
            int end = start + 1;
            while (end < utf8.length && (utf8[end] & 0xC0) == 0x80 && end - start < 4) {
                end++;
            }
            int id = lookup(utf8, start, end);
            if (id >= 0) {
                tokens.add(id);
            } else {
                for (int i = start; i < end; i++) {
                    tokens.add((utf8[i] & 0xFF) + BYTE_OFFSET);
                }
            }
            start = end;
        }
        mergeByScore(tokens, addBos ? 1 : 0);
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Repeatedly merges the adjacent pair (from index {@code first} on) whose merged piece scores highest. */
    private void mergeByScore(List<Integer> tokens, int first) {
        while (true) {
            float bestScore = -1e10f;
            int bestId = -1;
            int bestIndex = -1;
            for (int i = first; i + 1 < tokens.size(); i++) {
                byte[] a = pieces[tokens.get(i)];
                byte[] b = pieces[tokens.get(i + 1)];
                byte[] merged = Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, merged, a.length, b.length);
                int id = lookup(merged, 0, merged.length);
                if (id >= 0 && scores[id] > bestScore) {
                    bestScore = scores[id];
                    bestId = id;
                    bestIndex = i;
                }
            }
            if (bestIndex < 0) {
                return;
            }
            tokens.set(bestIndex, bestId);
            tokens.remove(bestIndex + 1);
        }
    }

    @Override
    public byte[] tokenBytes(int token, int previous) {
        if (token == BOS || token == EOS) {
            return new byte[0];
        }
        byte[] piece = pieces[token];
        if (isByteToken(piece)) {
            return new byte[] {(byte) Integer.parseInt(new String(piece, 3, 2, StandardCharsets.US_ASCII), 16)};
        }
        if (previous == BOS && piece.length > 0 && piece[0] == ' ') {
            return Arrays.copyOfRange(piece, 1, piece.length);
        }
        return piece.clone();
    }

    /** Pieces of the form {@code <0xXX>} stand for one raw byte. */
    private static boolean isByteToken(byte[] p) {
        return p.length == 6 && p[0] == '<' && p[1] == '0' && p[2] == 'x' && p[5] == '>' && isHex(p[3]) && isHex(p[4]);
    }

    private static boolean isHex(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F') || (b >= 'a' && b <= 'f');
    }

    @Override
    public int bos() {
        return BOS;
    }

    @Override
    public int eos() {
        return EOS;
    }

    /** llama2.c stops at BOS, which delimits sequences in its training data; EOS ends them too. */
    @Override
    public Set<Integer> stopTokens() {
        return Set.of(BOS, EOS);
    }

    @Override
    public String piece(int token) {
        return new String(pieces[token], StandardCharsets.UTF_8);
    }
}
