package org.qtale.tokenizer;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * A Hugging Face {@code tokenizer.json} with a BPE model: byte-level BPE as in Llama 3 (regex split, GPT-2 byte
 * characters, {@code ignore_merges}) and SentencePiece-style BPE with byte fallback as in Llama 2. Added tokens are
 * found in the raw text first; the text between them is normalized, pre-tokenized and merged piece by piece.
 * Instances are immutable apart from an internal cache and may be shared between threads.
 */
public final class HfTokenizer implements Tokenizer {
    private static final List<String> BOS_NAMES = List.of("<|begin_of_text|>", "<s>", "<bos>");
    private static final List<String> EOS_NAMES = List.of("<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>");
    private static final List<String> EXTRA_STOP_NAMES = List.of("<|end_of_text|>", "<|eot_id|>", "<|eom_id|>");
    private static final String[] LLAMA3_CHAT_TOKENS = {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};

    /** What happens to the leading space of the first token when decoding. */
    enum FirstSpace {
        KEEP,
        /** The Strip decoder: one leading space goes. */
        STRIP_ONE,
        /** The Metaspace decoder: every space marker of the first token goes. */
        STRIP_ALL
    }

    /** How token pieces become bytes again. */
    record Decoding(boolean byteLevel, boolean byteFallback, String spaceMarker, FirstSpace firstSpace) {
    }

    /** Everything a {@code tokenizer.json} (and its {@code tokenizer_config.json}) defines. */
    record Definition(String source, Normalizer normalizer, PreTokenizer preTokenizer, BpeModel model,
            Map<String, Integer> vocab, List<AddedTokens.Token> addedTokens, Decoding decoding, String bosToken,
            String eosToken, String chatTemplate) {
    }

    /** Kinds of token: an ordinary piece, a control token (decodes to nothing), an added token that is text. */
    private static final byte NORMAL = 0;
    private static final byte CONTROL = 1;
    private static final byte ADDED_TEXT = 2;

    private final String source;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final AddedTokens addedTokens;
    private final Decoding decoding;
    private final String[] pieces;
    private final byte[] kind;
    private final Map<String, Integer> ids;
    private final int bos;
    private final int eos;
    private final Set<Integer> stopTokens;
    private final String chatTemplate;

    HfTokenizer(Definition d) {
        this.source = d.source();
        this.normalizer = d.normalizer();
        this.preTokenizer = d.preTokenizer();
        this.model = d.model();
        this.addedTokens = new AddedTokens(d.addedTokens());
        this.decoding = d.decoding();
        int size = size(d.vocab(), d.addedTokens());
        this.pieces = new String[size];
        this.kind = new byte[size];
        this.ids = new HashMap<>(d.vocab());
        Arrays.fill(pieces, "");
        d.vocab().forEach((piece, id) -> pieces[id] = piece);
        for (AddedTokens.Token t : d.addedTokens()) {
            pieces[t.id()] = t.content();
            kind[t.id()] = t.special() ? CONTROL : ADDED_TEXT;
            ids.put(t.content(), t.id()); // as in Hugging Face, an added token wins a lookup by content
        }
        this.bos = resolve(d.bosToken(), BOS_NAMES);
        this.eos = resolve(d.eosToken(), EOS_NAMES);
        this.stopTokens = stopTokens(eos);
        this.chatTemplate = d.chatTemplate();
    }

    /** One past the largest id of the vocabulary and the added tokens. */
    private static int size(Map<String, Integer> vocab, List<AddedTokens.Token> added) {
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        for (AddedTokens.Token t : added) {
            max = Math.max(max, t.id());
        }
        return max + 1;
    }

    /**
     * Reads a {@code tokenizer.json} (or a gzip-compressed {@code .json.gz}). A {@code tokenizer_config.json} in the
     * same folder, when present, names the bos/eos tokens and the chat template.
     */
    public static HfTokenizer load(Path tokenizerJson) {
        return HfTokenizerReader.load(tokenizerJson);
    }

    /** Reads a {@code tokenizer.json} from a stream (gzip is detected); {@code name} is used in error messages. */
    public static HfTokenizer load(InputStream tokenizerJson, String name) {
        return HfTokenizerReader.load(tokenizerJson, null, name);
    }

    /** As {@link #load(InputStream, String)}, with the content of a {@code tokenizer_config.json} (may be null). */
    public static HfTokenizer load(InputStream tokenizerJson, InputStream tokenizerConfig, String name) {
        return HfTokenizerReader.load(tokenizerJson, tokenizerConfig, name);
    }

    private int resolve(String configured, List<String> fallbacks) {
        if (configured != null) {
            return ids.getOrDefault(configured, -1);
        }
        return fallbacks.stream().filter(ids::containsKey).findFirst().map(ids::get).orElse(-1);
    }

    private Set<Integer> stopTokens(int eosId) {
        Set<Integer> stops = new LinkedHashSet<>();
        if (eosId >= 0) {
            stops.add(eosId);
        }
        for (String name : EXTRA_STOP_NAMES) {
            Integer id = ids.get(name);
            if (id != null && kind[id] == CONTROL) {
                stops.add(id);
            }
        }
        return Set.copyOf(stops);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    /** Encodes {@code text}; added tokens written in the text (such as {@code <|eot_id|>}) become their ids. */
    @Override
    public int[] encode(String text, boolean addBos) {
        return encode(text, addBos, true);
    }

    /**
     * Encodes {@code text}. With {@code parseSpecial} false, added tokens in the text are encoded as ordinary text,
     * which is what untrusted input (a user message) should get.
     */
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntStream.Builder out = IntStream.builder();
        if (addBos && bos >= 0) {
            out.add(bos);
        }
        List<AddedTokens.Segment> segments = parseSpecial ? addedTokens.split(text)
                : List.of(new AddedTokens.Segment(text, -1, 0));
        for (AddedTokens.Segment segment : segments) {
            if (segment.isToken()) {
                out.add(segment.id());
            } else {
                encodePlain(segment.text(), segment.offset() == 0, out);
            }
        }
        return out.build().toArray();
    }

    private void encodePlain(String text, boolean atStart, IntStream.Builder out) {
        String normalized = normalizer == null ? text : normalizer.apply(text);
        List<String> words = preTokenizer == null ? List.of(normalized) : preTokenizer.split(normalized, atStart);
        for (String word : words) {
            if (!word.isEmpty()) {
                for (int id : model.encodeWord(word)) {
                    out.add(id);
                }
            }
        }
    }

    @Override
    public byte[] tokenBytes(int token, int previous) {
        if (token < 0 || token >= pieces.length) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary of " + source);
        }
        String piece = pieces[token];
        return switch (kind[token]) {
            case CONTROL -> new byte[0];
            case ADDED_TEXT -> piece.getBytes(StandardCharsets.UTF_8);
            case NORMAL -> decoding.byteLevel() ? ByteLevel.decode(piece) : sentencePieceBytes(piece, previous);
            default -> throw new IllegalStateException("unknown token kind " + kind[token]);
        };
    }

    /** Byte tokens give their byte; the space marker becomes a space, (partly) dropped at the start of the text. */
    private byte[] sentencePieceBytes(String piece, int previous) {
        if (decoding.byteFallback() && isByteToken(piece)) {
            return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
        }
        boolean first = previous < 0 || previous == bos;
        String marker = decoding.spaceMarker();
        String text = marker == null ? piece
                : piece.replace(marker, first && decoding.firstSpace() == FirstSpace.STRIP_ALL ? "" : " ");
        if (first && decoding.firstSpace() == FirstSpace.STRIP_ONE && text.startsWith(" ")) {
            text = text.substring(1);
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean isByteToken(String piece) {
        return piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")
                && Character.digit(piece.charAt(3), 16) >= 0 && Character.digit(piece.charAt(4), 16) >= 0;
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    @Override
    public String piece(int token) {
        return pieces[token];
    }

    /** The id of a piece or added token, or -1. */
    public int tokenId(String piece) {
        return ids.getOrDefault(piece, -1);
    }

    /** Whether {@code token} is a control token (a special added token, which decodes to nothing). */
    public boolean isControl(int token) {
        return kind[token] == CONTROL;
    }

    /** The Jinja chat template of {@code tokenizer_config.json}, when there is one. */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /**
     * The Llama 3 chat prompt for one user message, ending where the assistant's answer begins, or empty when this
     * vocabulary lacks the header tokens. It has no BOS: encode it with {@code addBos} set. The message is trimmed,
     * as Llama 3's template does.
     */
    public Optional<String> chatPrompt(String userMessage) {
        for (String name : LLAMA3_CHAT_TOKENS) {
            if (!ids.containsKey(name)) {
                return Optional.empty();
            }
        }
        return Optional.of("<|start_header_id|>user<|end_header_id|>\n\n" + userMessage.strip()
                + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    /** The file this tokenizer was read from, for messages. */
    public String source() {
        return source;
    }

    /** Number of ranked merges, for diagnostics. */
    public int mergeCount() {
        return model.mergeCount();
    }
}
