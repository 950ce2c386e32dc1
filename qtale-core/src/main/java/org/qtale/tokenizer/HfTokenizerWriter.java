package org.qtale.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.qtale.QtaleException;
import org.qtale.format.AtomicFiles;

/**
 * Writes a llama2.c {@code tokenizer.bin} vocabulary as a Llama-2-style Hugging Face {@code tokenizer.json}
 * (SentencePiece BPE with byte fallback) plus a {@code tokenizer_config.json} naming bos and eos.
 *
 * <p>llama2.c encodes by repeatedly merging the adjacent pair whose merged piece scores highest. The equivalent BPE
 * merge list holds, for every piece, each split into two pieces that are both in the vocabulary, ranked by the merged
 * piece's score (highest first). Ties are broken by the longer left part first, which reproduces llama2.c's
 * leftmost-first choice on runs of equal-score pieces such as Llama 2's whitespace runs, then by id.
 *
 * <p>Two differences remain, both outside llama2.c's usual input: a BPE rank cannot express llama2.c's
 * leftmost-first choice between <em>different</em> pieces of equal score (real vocabularies give every merged piece
 * its own score, except Llama 2's whitespace runs), and the Hugging Face side reads "<s>", "</s>", "<unk>" and a
 * literal "▁" in the text as the control tokens and the space, where llama2.c sees plain characters.
 */
public final class HfTokenizerWriter {
    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String CONFIG_FILE = HfTokenizerReader.CONFIG_FILE;
    static final String SPACE = "\u2581";
    private static final String[] CONTROL = {"<unk>", "<s>", "</s>"};
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A merge of {@code left} and {@code right} into the piece {@code result}, whose score ranks it. */
    record Merge(String left, String right, int result, float score) {
    }

    private HfTokenizerWriter() {
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code directory} (created if needed). */
    public static void write(Llama2cTokenizer tokenizer, Path directory) {
        byte[] json = prettyJson(tokenizerJson(tokenizer));
        byte[] config = prettyJson(tokenizerConfig());
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new QtaleException("Cannot create the folder " + directory + ": " + e.getMessage() + ".");
        }
        AtomicFiles.write(directory.resolve(TOKENIZER_FILE), json);
        AtomicFiles.write(directory.resolve(CONFIG_FILE), config);
    }

    /** The {@code tokenizer.json} document for {@code tokenizer}. */
    static ObjectNode tokenizerJson(Llama2cTokenizer tokenizer) {
        String[] pieces = pieces(tokenizer);
        float[] scores = new float[pieces.length];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = tokenizer.score(i);
        }
        ObjectNode root = NODES.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", addedTokens());
        root.set("normalizer", normalizer());
        root.putNull("pre_tokenizer");
        root.set("post_processor", bosTemplate());
        root.set("decoder", decoder());
        root.set("model", model(pieces, merges(pieces, scores)));
        return root;
    }

    /** The {@code tokenizer_config.json} document: special tokens and the BOS convention of Llama 2. */
    static ObjectNode tokenizerConfig() {
        ObjectNode config = NODES.objectNode();
        config.put("bos_token", CONTROL[1]);
        config.put("eos_token", CONTROL[2]);
        config.put("unk_token", CONTROL[0]);
        config.put("add_bos_token", true);
        config.put("add_eos_token", false);
        config.put("clean_up_tokenization_spaces", false);
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        return config;
    }

    /** Pieces as SentencePiece spells them: "▁" for space, and the three control tokens by name. */
    static String[] pieces(Llama2cTokenizer tokenizer) {
        if (tokenizer.vocabSize() < CONTROL.length) {
            throw new QtaleException("A tokenizer of " + tokenizer.vocabSize() + " tokens cannot hold <unk>, <s>, </s>.");
        }
        String[] pieces = new String[tokenizer.vocabSize()];
        Map<String, Integer> seen = new HashMap<>();
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = id < CONTROL.length ? CONTROL[id] : utf8(tokenizer.pieceBytes(id), id).replace(" ", SPACE);
            Integer previous = seen.putIfAbsent(pieces[id], id);
            if (previous != null) {
                throw new QtaleException("Tokens " + previous + " and " + id + " are both \"" + pieces[id]
                        + "\", which a tokenizer.json vocabulary cannot express.");
            }
        }
        return pieces;
    }

    private static String utf8(byte[] bytes, int id) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new QtaleException("Token " + id + " is not valid UTF-8, which a tokenizer.json cannot express.");
        }
    }

    /** Every split of every non-control piece into two vocabulary pieces, in rank order. */
    static List<Merge> merges(String[] pieces, float[] scores) {
        Map<String, Integer> ids = new HashMap<>(pieces.length * 2);
        for (int id = CONTROL.length; id < pieces.length; id++) {
            ids.put(pieces[id], id);
        }
        List<Merge> merges = new ArrayList<>();
        for (int id = CONTROL.length; id < pieces.length; id++) {
            String piece = pieces[id];
            for (int cut = piece.offsetByCodePoints(0, 1); cut < piece.length(); cut = piece.offsetByCodePoints(cut, 1)) {
                String left = piece.substring(0, cut);
                String right = piece.substring(cut);
                if (ids.containsKey(left) && ids.containsKey(right)) {
                    merges.add(new Merge(left, right, id, scores[id]));
                }
            }
        }
        // "+ 0f" turns -0.0 into 0.0: llama2.c compares scores with >, for which the two are equal
        Comparator<Merge> byScore = (a, b) -> Float.compare(b.score() + 0f, a.score() + 0f);
        merges.sort(byScore.thenComparingInt((Merge m) -> -m.left().length()).thenComparingInt(Merge::result));
        return merges;
    }

    private static ArrayNode addedTokens() {
        ArrayNode added = NODES.arrayNode();
        for (int id = 0; id < CONTROL.length; id++) {
            ObjectNode t = added.addObject();
            t.put("id", id);
            t.put("content", CONTROL[id]);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        return added;
    }

    /** Sequence[Prepend("▁"), Replace(" ", "▁")]: SentencePiece's dummy prefix and whitespace marker. */
    private static ObjectNode normalizer() {
        ObjectNode prepend = NODES.objectNode().put("type", "Prepend").put("prepend", SPACE);
        ObjectNode replace = NODES.objectNode().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", SPACE);
        ObjectNode sequence = NODES.objectNode().put("type", "Sequence");
        sequence.putArray("normalizers").add(prepend).add(replace);
        return sequence;
    }

    /** Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0). */
    private static ObjectNode decoder() {
        ObjectNode replace = NODES.objectNode().put("type", "Replace");
        replace.putObject("pattern").put("String", SPACE);
        replace.put("content", " ");
        ObjectNode sequence = NODES.objectNode().put("type", "Sequence");
        sequence.putArray("decoders").add(replace)
                .add(NODES.objectNode().put("type", "ByteFallback"))
                .add(NODES.objectNode().put("type", "Fuse"))
                .add(NODES.objectNode().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0));
        return sequence;
    }

    /** The post-processor that puts {@code <s>} in front, as Llama 2's tokenizer.json does. */
    private static ObjectNode bosTemplate() {
        ObjectNode p = NODES.objectNode().put("type", "TemplateProcessing");
        ArrayNode single = p.putArray("single");
        single.add(special(0));
        single.add(sequence("A", 0));
        ArrayNode pair = p.putArray("pair");
        pair.add(special(0)).add(sequence("A", 0)).add(special(1)).add(sequence("B", 1));
        ObjectNode bos = p.putObject("special_tokens").putObject(CONTROL[1]);
        bos.put("id", CONTROL[1]);
        bos.putArray("ids").add(1);
        bos.putArray("tokens").add(CONTROL[1]);
        return p;
    }

    private static ObjectNode special(int typeId) {
        ObjectNode node = NODES.objectNode();
        node.putObject("SpecialToken").put("id", CONTROL[1]).put("type_id", typeId);
        return node;
    }

    private static ObjectNode sequence(String id, int typeId) {
        ObjectNode node = NODES.objectNode();
        node.putObject("Sequence").put("id", id).put("type_id", typeId);
        return node;
    }

    private static ObjectNode model(String[] pieces, List<Merge> merges) {
        ObjectNode model = NODES.objectNode().put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", CONTROL[0]);
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < pieces.length; id++) {
            vocab.put(pieces[id], id);
        }
        ArrayNode list = model.putArray("merges");
        for (Merge m : merges) {
            list.add(m.left() + " " + m.right()); // no piece holds a space: spaces were turned into "▁"
        }
        return model;
    }

    /** A tokenizer file's bytes, indented with two spaces as the Hugging Face {@code tokenizers} library writes them. */
    public static byte[] prettyJson(ObjectNode node) {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                .withObjectIndenter(indenter).withArrayIndenter(indenter);
        try {
            return JSON.writer(printer).writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree of strings and numbers always serializes", e);
        }
    }
}
