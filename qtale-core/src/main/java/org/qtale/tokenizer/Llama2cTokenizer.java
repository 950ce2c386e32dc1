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
import java.util.PriorityQueue;
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
        List<Integer> tokens = symbols(text, addBos);
        mergeByScore(tokens, addBos ? 1 : 0);
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@link #encode} by llama2.c's own merge loop, which rescans every pair after each merge: the reference. */
    int[] encodeByRescanning(String text, boolean addBos) {
        List<Integer> tokens = symbols(text, addBos);
        int first = addBos ? 1 : 0;
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
                return tokens.stream().mapToInt(Integer::intValue).toArray();
            }
            tokens.set(bestIndex, bestId);
            tokens.remove(bestIndex + 1);
        }
    }

    /** The symbols merging starts from: the sequence start, the dummy-prefix space, then each character or its bytes. */
    private List<Integer> symbols(String text, boolean addBos) {
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
        return tokens;
    }

    /**
     * Repeatedly merges the adjacent pair (from index {@code first} on) whose merged piece scores highest, the
     * leftmost of equal scores first, as llama2.c does. Candidate pairs wait in a heap ordered by score, then position,
     * over a linked list of symbols, so a document of n symbols costs O(n log n) instead of llama2.c's O(n²) rescans; a
     * candidate whose symbols changed since it was queued is dropped when it comes up.
     */
    private void mergeByScore(List<Integer> tokens, int first) {
        int n = tokens.size();
        int[] id = new int[n];
        int[] next = new int[n];
        int[] previous = new int[n];
        int[] version = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = tokens.get(i);
            next[i] = i + 1 < n ? i + 1 : -1;
            previous[i] = i - 1;
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>();
        for (int i = first; i + 1 < n; i++) {
            offer(queue, i, i + 1, id, version);
        }
        while (!queue.isEmpty()) {
            Candidate c = queue.poll();
            if (version[c.left] != c.leftVersion || version[c.right] != c.rightVersion) {
                continue;
            }
            id[c.left] = c.merged;
            version[c.left]++;
            version[c.right] = -1; // gone
            int after = next[c.right];
            next[c.left] = after;
            if (after >= 0) {
                previous[after] = c.left;
                offer(queue, c.left, after, id, version);
            }
            if (previous[c.left] >= first) {
                offer(queue, previous[c.left], c.left, id, version);
            }
        }
        tokens.clear();
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            tokens.add(id[i]);
        }
    }

    private void offer(PriorityQueue<Candidate> queue, int left, int right, int[] id, int[] version) {
        byte[] a = pieces[id[left]];
        byte[] b = pieces[id[right]];
        byte[] merged = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, merged, a.length, b.length);
        int mergedId = lookup(merged, 0, merged.length);
        if (mergedId >= 0 && scores[mergedId] > -1e10f) {
            queue.add(new Candidate(scores[mergedId], left, right, version[left], version[right], mergedId));
        }
    }

    /** A pair of neighbouring symbols that merge into {@code merged}; higher scores first, then leftmost. */
    private record Candidate(float score, int left, int right, int leftVersion, int rightVersion, int merged)
            implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            int byScore = Float.compare(o.score, score);
            return byScore != 0 ? byScore : Integer.compare(left, o.left);
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
