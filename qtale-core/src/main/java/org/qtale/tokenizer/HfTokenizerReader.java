package org.qtale.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.zip.GZIPInputStream;
import org.qtale.QtaleException;

/**
 * Turns a {@code tokenizer.json} into an {@link HfTokenizer}, with one-sentence errors naming the file. The vocabulary
 * and merges (most of a 9 MB Llama 3 file) are streamed straight into maps; only the small rest becomes a JSON tree.
 */
final class HfTokenizerReader {
    static final String CONFIG_FILE = "tokenizer_config.json";
    /** 128k distinct vocabulary keys would only fill Jackson's name table; interning them is wasted work. */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build());

    private final String source;
    private Map<String, Integer> vocab;
    /** Merges resolved to ids as they stream in; they wait in {@link #pendingMerges} if the vocabulary comes later. */
    private MergeTable merges;
    private List<String[]> pendingMerges;

    private HfTokenizerReader(String source) {
        this.source = source;
    }

    static HfTokenizer load(Path tokenizerJson) {
        HfTokenizerReader reader = new HfTokenizerReader(tokenizerJson.toString());
        JsonNode root = reader.readFile(tokenizerJson, true);
        Path config = tokenizerJson.toAbsolutePath().resolveSibling(CONFIG_FILE);
        JsonNode configJson = Files.isRegularFile(config) ? new HfTokenizerReader(config.toString())
                .readFile(config, false) : null;
        return reader.build(root, configJson);
    }

    static HfTokenizer load(InputStream tokenizerJson, InputStream tokenizerConfig, String name) {
        HfTokenizerReader reader = new HfTokenizerReader(name);
        JsonNode root = reader.readStream(tokenizerJson, true);
        JsonNode config = tokenizerConfig == null ? null
                : new HfTokenizerReader(name + " (" + CONFIG_FILE + ")").readStream(tokenizerConfig, false);
        return reader.build(root, config);
    }

    private JsonNode readFile(Path path, boolean tokenizer) {
        try (InputStream in = Files.newInputStream(path)) {
            return readStream(in, tokenizer);
        } catch (IOException e) {
            throw QtaleException.cannotRead("tokenizer file", path, e);
        }
    }

    /** Parses JSON, unpacking gzip when the stream starts with its magic bytes. */
    private JsonNode readStream(InputStream raw, boolean tokenizer) {
        try {
            InputStream in = new BufferedInputStream(raw, 1 << 16);
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            try (JsonParser p = JSON.createParser(gzip ? new GZIPInputStream(in, 1 << 16) : in)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new QtaleException(source + " is not a tokenizer file (it does not hold a JSON object).");
                }
                return tokenizer ? readRoot(p) : p.readValueAsTree();
            }
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            throw new QtaleException(source + " is not valid JSON (" + e.getOriginalMessage() + where + ").");
        } catch (IOException | UncheckedIOException e) {
            throw new QtaleException("Cannot read tokenizer file " + source + ": " + e.getMessage() + ".");
        }
    }

    /** The top level as a tree, except for the model, whose big parts are streamed. */
    private ObjectNode readRoot(JsonParser p) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            root.set(field, field.equals("model") && value == JsonToken.START_OBJECT ? readModel(p) : p.readValueAsTree());
        }
        return root;
    }

    /** The model as a tree, except "vocab" and "merges", which go to {@link #vocab} and {@link #merges}. */
    private ObjectNode readModel(JsonParser p) throws IOException {
        ObjectNode model = JSON.createObjectNode();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("vocab") && value == JsonToken.START_OBJECT) {
                vocab = readVocab(p);
            } else if (field.equals("merges") && value == JsonToken.START_ARRAY) {
                readMerges(p);
            } else {
                model.set(field, p.readValueAsTree());
            }
        }
        return model;
    }

    private Map<String, Integer> readVocab(JsonParser p) throws IOException {
        Map<String, Integer> map = new HashMap<>(1 << 16);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String piece = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0
                    || p.getLongValue() > Integer.MAX_VALUE - 1) {
                throw malformed("the id of \"" + piece + "\" is not a non-negative integer");
            }
            map.put(piece, p.getIntValue());
        }
        return map;
    }

    /** Merges as "a b" strings (the classic form) or [a, b] pairs (tokenizers 0.20 and later); rank = position. */
    private void readMerges(JsonParser p) throws IOException {
        merges = new MergeTable(vocab == null ? 1 << 16 : vocab.size() * 2);
        pendingMerges = vocab == null ? new ArrayList<>() : null;
        int rank = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken(), rank++) {
            String[] pair = null;
            if (t == JsonToken.VALUE_STRING) {
                pair = splitMerge(p.getText());
            } else if (t == JsonToken.START_ARRAY && p.nextToken() == JsonToken.VALUE_STRING) {
                String left = p.getText();
                if (p.nextToken() == JsonToken.VALUE_STRING) {
                    String right = p.getText();
                    pair = p.nextToken() == JsonToken.END_ARRAY ? new String[] {left, right} : null;
                }
            }
            if (pair == null) {
                throw malformed("merge " + rank + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
            if (pendingMerges != null) {
                pendingMerges.add(pair);
            } else {
                addMerge(pair, rank);
            }
        }
    }

    private static String[] splitMerge(String s) {
        int space = s.indexOf(' ');
        boolean one = space > 0 && space == s.lastIndexOf(' ') && space < s.length() - 1;
        return one ? new String[] {s.substring(0, space), s.substring(space + 1)} : null;
    }

    private QtaleException unsupported(String what) {
        return new QtaleException(source + " uses " + what + ", which qtale does not support.");
    }

    private QtaleException malformed(String what) {
        return new QtaleException(source + " is not a valid tokenizer.json: " + what + ".");
    }

    private HfTokenizer build(JsonNode root, JsonNode config) {
        JsonNode model = requireBpeModel(root);
        List<AddedTokens.Token> added = addedTokens(root.path("added_tokens"));
        checkIdsAreDense(added);
        if (pendingMerges != null) {
            for (int rank = 0; rank < pendingMerges.size(); rank++) {
                addMerge(pendingMerges.get(rank), rank);
            }
        }
        BpeModel bpe = new BpeModel(vocab, merges, options(model, vocab));
        PreTokenizer preTokenizer = preTokenizer(root.path("pre_tokenizer"));
        return new HfTokenizer(new HfTokenizer.Definition(source, normalizer(root.path("normalizer")), preTokenizer,
                bpe, vocab, added, decoding(root.path("decoder"), preTokenizer, bpe),
                configToken(config, "bos_token"), configToken(config, "eos_token"), chatTemplate(config)));
    }

    private JsonNode requireBpeModel(JsonNode root) {
        JsonNode model = root.path("model");
        if (!model.isObject()) {
            throw malformed("it has no \"model\" object");
        }
        String type = model.path("type").asText(merges != null ? "BPE" : "");
        if (!type.equals("BPE")) {
            throw unsupported("the " + (type.isEmpty() ? "untyped" : type) + " model (only BPE tokenizers load)");
        }
        if (vocab == null || vocab.isEmpty()) {
            throw malformed("\"model.vocab\" is missing or empty");
        }
        if (merges == null) {
            throw malformed("\"model.merges\" is missing");
        }
        return model;
    }

    // ---- model ----

    /** Ids index arrays of the vocabulary size, so a stray huge id must not allocate gigabytes. */
    private void checkIdsAreDense(List<AddedTokens.Token> added) {
        int count = vocab.size() + added.size();
        int max = Math.max(vocab.values().stream().mapToInt(Integer::intValue).max().orElse(0),
                added.stream().mapToInt(AddedTokens.Token::id).max().orElse(0));
        if (max >= 2L * count + 1024) {
            throw malformed("token id " + max + " is far beyond the " + count + " tokens it defines");
        }
    }

    private void addMerge(String[] pair, int rank) {
        Integer left = vocab.get(pair[0]);
        Integer right = vocab.get(pair[1]);
        Integer result = vocab.get(pair[0] + pair[1]);
        if (left == null || right == null || result == null) {
            throw malformed("merge " + rank + " (\"" + pair[0] + "\", \"" + pair[1] + "\") uses a piece that is not in "
                    + "the vocabulary");
        }
        merges.put(left, right, rank, result);
    }

    private BpeModel.Options options(JsonNode model, Map<String, Integer> vocab) {
        for (String field : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!model.path(field).asText("").isEmpty()) {
                throw unsupported("a BPE " + field);
            }
        }
        if (model.path("dropout").isNumber() && model.path("dropout").asDouble() > 0) {
            throw unsupported("BPE dropout");
        }
        int unk = -1;
        if (model.path("unk_token").isTextual()) {
            unk = vocab.getOrDefault(model.path("unk_token").asText(), -1);
        }
        return new BpeModel.Options(unk, model.path("byte_fallback").asBoolean(false),
                model.path("fuse_unk").asBoolean(false), model.path("ignore_merges").asBoolean(false));
    }

    private List<AddedTokens.Token> addedTokens(JsonNode node) {
        List<AddedTokens.Token> tokens = new ArrayList<>();
        for (JsonNode t : node) {
            if (!t.path("id").canConvertToInt() || t.path("id").asInt() < 0 || !t.path("content").isTextual()) {
                throw malformed("an entry of \"added_tokens\" lacks its id or content");
            }
            tokens.add(new AddedTokens.Token(t.get("id").asInt(), t.get("content").asText(),
                    t.path("special").asBoolean(false)));
        }
        return tokens;
    }

    // ---- normalizer and pre-tokenizer ----

    private Normalizer normalizer(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "Sequence" -> new Normalizer.Sequence(list(node.path("normalizers")).stream()
                    .map(this::normalizer).filter(Objects::nonNull).toList());
            case "Prepend" -> new Normalizer.Prepend(node.path("prepend").asText());
            case "Replace" -> new Normalizer.Replace(pattern(node.path("pattern"), "Replace normalizer"),
                    node.path("content").asText());
            case "NFC", "NFD", "NFKC", "NFKD" -> new Normalizer.Unicode(Form.valueOf(type));
            case "Lowercase" -> new Normalizer.Lowercase();
            default -> throw unsupported("the normalizer \"" + type + "\"");
        };
    }

    private PreTokenizer preTokenizer(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "Sequence" -> new PreTokenizer.Sequence(list(node.path("pretokenizers")).stream()
                    .map(this::preTokenizer).filter(Objects::nonNull).toList());
            case "Split" -> split(node);
            case "ByteLevel" -> new PreTokenizer.ByteLevelSplit(node.path("add_prefix_space").asBoolean(true),
                    node.path("use_regex").asBoolean(true));
            case "Metaspace" -> metaspace(node);
            default -> throw unsupported("the pre-tokenizer \"" + type + "\"");
        };
    }

    private PreTokenizer split(JsonNode node) {
        if (node.path("invert").asBoolean(false)) {
            throw unsupported("an inverted Split pre-tokenizer");
        }
        String behavior = node.path("behavior").asText();
        PreTokenizer.Behavior b = switch (behavior) {
            case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
            case "Removed" -> PreTokenizer.Behavior.REMOVED;
            case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
            default -> throw unsupported("the Split behavior \"" + behavior + "\"");
        };
        return new PreTokenizer.Split(pattern(node.path("pattern"), "Split pre-tokenizer"), b);
    }

    private PreTokenizer metaspace(JsonNode node) {
        String replacement = node.path("replacement").asText("\u2581");
        if (replacement.isEmpty()) {
            throw malformed("the Metaspace replacement is empty");
        }
        return new PreTokenizer.Metaspace(replacement, prependScheme(node), node.path("split").asBoolean(true));
    }

    /** The "prepend_scheme" of Metaspace, or its older "add_prefix_space" flag. */
    private PreTokenizer.PrependScheme prependScheme(JsonNode node) {
        if (node.has("prepend_scheme")) {
            String scheme = node.path("prepend_scheme").asText();
            return switch (scheme) {
                case "always" -> PreTokenizer.PrependScheme.ALWAYS;
                case "first" -> PreTokenizer.PrependScheme.FIRST;
                case "never" -> PreTokenizer.PrependScheme.NEVER;
                default -> throw unsupported("the Metaspace prepend_scheme \"" + scheme + "\"");
            };
        }
        return node.path("add_prefix_space").asBoolean(true) ? PreTokenizer.PrependScheme.ALWAYS
                : PreTokenizer.PrependScheme.NEVER;
    }

    /** A pattern given as {"String": literal} or {"Regex": tokenizers regex}. */
    private Pattern pattern(JsonNode node, String where) {
        if (node.path("String").isTextual()) {
            return Pattern.compile(Pattern.quote(node.get("String").asText()));
        }
        if (node.path("Regex").isTextual()) {
            try {
                return PreTokenizer.compileRegex(node.get("Regex").asText());
            } catch (PatternSyntaxException e) {
                throw unsupported("a " + where + " regex that Java cannot compile (" + e.getDescription() + ")");
            }
        }
        throw malformed("the " + where + " has no String or Regex pattern");
    }

    private List<JsonNode> list(JsonNode node) {
        List<JsonNode> items = new ArrayList<>();
        node.forEach(items::add);
        return items;
    }

    // ---- decoder ----

    /** Reads the decoder chain; without one, byte-level pre-tokenization implies byte-level decoding. */
    private HfTokenizer.Decoding decoding(JsonNode node, PreTokenizer preTokenizer, BpeModel bpe) {
        List<JsonNode> steps = new ArrayList<>();
        flattenDecoders(node, steps);
        boolean byteLevel = steps.isEmpty() && usesByteLevel(preTokenizer);
        boolean byteFallback = bpe.options().byteFallback();
        String spaceMarker = null;
        HfTokenizer.FirstSpace firstSpace = HfTokenizer.FirstSpace.KEEP;
        for (JsonNode step : steps) {
            String type = step.path("type").asText();
            switch (type) {
                case "ByteLevel" -> byteLevel = true;
                case "ByteFallback" -> byteFallback = true;
                case "Fuse" -> { } // joining pieces is what decoding does anyway
                case "Strip" -> {
                    if (step.path("start").asInt(0) > 0) {
                        firstSpace = HfTokenizer.FirstSpace.STRIP_ONE;
                    }
                }
                case "Replace" -> {
                    if (!step.path("pattern").path("String").isTextual() || !step.path("content").asText().equals(" ")) {
                        throw unsupported("a Replace decoder other than \"marker\" to \" \"");
                    }
                    spaceMarker = step.path("pattern").path("String").asText();
                }
                case "Metaspace" -> {
                    spaceMarker = step.path("replacement").asText("\u2581");
                    if (prependScheme(step) != PreTokenizer.PrependScheme.NEVER) {
                        firstSpace = HfTokenizer.FirstSpace.STRIP_ALL;
                    }
                }
                default -> throw unsupported("the decoder \"" + type + "\"");
            }
        }
        return new HfTokenizer.Decoding(byteLevel, byteFallback, spaceMarker, firstSpace);
    }

    private void flattenDecoders(JsonNode node, List<JsonNode> out) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        if (node.path("type").asText().equals("Sequence")) {
            node.path("decoders").forEach(d -> flattenDecoders(d, out));
        } else {
            out.add(node);
        }
    }

    private static boolean usesByteLevel(PreTokenizer p) {
        return switch (p) {
            case PreTokenizer.ByteLevelSplit b -> true;
            case PreTokenizer.Sequence s -> s.steps().stream().anyMatch(HfTokenizerReader::usesByteLevel);
            case null, default -> false;
        };
    }

    // ---- tokenizer_config.json ----

    /** A token named in the config either as a string or as {"content": ...}. */
    private static String configToken(JsonNode config, String field) {
        if (config == null) {
            return null;
        }
        JsonNode node = config.path(field);
        if (node.isTextual()) {
            return node.asText();
        }
        return node.path("content").isTextual() ? node.path("content").asText() : null;
    }

    /** The template string, or the one named "default" when the config lists several. */
    private static String chatTemplate(JsonNode config) {
        if (config == null) {
            return null;
        }
        JsonNode node = config.path("chat_template");
        if (node.isTextual()) {
            return node.asText();
        }
        for (JsonNode t : node) {
            if (t.path("name").asText().equals("default") && t.path("template").isTextual()) {
                return t.path("template").asText();
            }
        }
        return null;
    }
}
