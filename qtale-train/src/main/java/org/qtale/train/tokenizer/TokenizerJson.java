package org.qtale.train.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.qtale.tokenizer.HfTokenizerWriter;

/**
 * The Hugging Face files of a trained tokenizer, laid out as Llama 3's: a byte-level "BPE" model, the Split regex
 * followed by ByteLevel as pre-tokenizer, a ByteLevel decoder, a post-processor that puts BOS first, and the special
 * tokens as added tokens after the vocabulary.
 */
final class TokenizerJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerJson() {
    }

    /** The {@code tokenizer.json} document. */
    static byte[] tokenizer(TrainedBpe bpe) {
        ObjectNode root = NODES.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", addedTokens(bpe));
        root.putNull("normalizer");
        root.set("pre_tokenizer", preTokenizer());
        root.set("post_processor", postProcessor(bpe));
        root.set("decoder", byteLevel(true, true, true));
        root.set("model", model(bpe));
        return HfTokenizerWriter.prettyJson(root);
    }

    /** The {@code tokenizer_config.json} document naming BOS and EOS. */
    static byte[] config(TrainedBpe bpe) {
        ObjectNode config = NODES.objectNode();
        ObjectNode decoder = config.putObject("added_tokens_decoder");
        for (int id = bpe.bos(); id < bpe.vocabSize(); id++) {
            decoder.set(Integer.toString(id), addedToken(bpe.piece(id)));
        }
        config.put("bos_token", bpe.piece(bpe.bos()));
        config.put("eos_token", bpe.piece(bpe.eos()));
        config.put("clean_up_tokenization_spaces", false);
        config.putArray("model_input_names").add("input_ids").add("attention_mask");
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        return HfTokenizerWriter.prettyJson(config);
    }

    private static ArrayNode addedTokens(TrainedBpe bpe) {
        ArrayNode added = NODES.arrayNode();
        for (int id = bpe.bos(); id < bpe.vocabSize(); id++) {
            added.addObject().put("id", id).setAll(addedToken(bpe.piece(id)));
        }
        return added;
    }

    private static ObjectNode addedToken(String content) {
        return NODES.objectNode().put("content", content).put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", true);
    }

    /** Sequence[Split(Llama 3 regex, Isolated), ByteLevel without its own regex or prefix space]. */
    private static ObjectNode preTokenizer() {
        ObjectNode split = NODES.objectNode().put("type", "Split");
        split.putObject("pattern").put("Regex", TextSplitter.LLAMA3_PATTERN);
        split.put("behavior", "Isolated").put("invert", false);
        ObjectNode sequence = NODES.objectNode().put("type", "Sequence");
        sequence.putArray("pretokenizers").add(split).add(byteLevel(false, true, false));
        return sequence;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        return NODES.objectNode().put("type", "ByteLevel").put("add_prefix_space", addPrefixSpace)
                .put("trim_offsets", trimOffsets).put("use_regex", useRegex);
    }

    /** Sequence[ByteLevel (offsets only), TemplateProcessing with BOS before each sequence], as in Llama 3. */
    private static ObjectNode postProcessor(TrainedBpe bpe) {
        String bos = bpe.piece(bpe.bos());
        ObjectNode template = NODES.objectNode().put("type", "TemplateProcessing");
        template.putArray("single").add(special(bos, 0)).add(sequence("A", 0));
        template.putArray("pair").add(special(bos, 0)).add(sequence("A", 0)).add(special(bos, 1))
                .add(sequence("B", 1));
        ObjectNode bosEntry = template.putObject("special_tokens").putObject(bos);
        bosEntry.put("id", bos);
        bosEntry.putArray("ids").add(bpe.bos());
        bosEntry.putArray("tokens").add(bos);
        ObjectNode sequence = NODES.objectNode().put("type", "Sequence");
        sequence.putArray("processors").add(byteLevel(true, false, true)).add(template);
        return sequence;
    }

    private static ObjectNode special(String token, int typeId) {
        ObjectNode node = NODES.objectNode();
        node.putObject("SpecialToken").put("id", token).put("type_id", typeId);
        return node;
    }

    private static ObjectNode sequence(String id, int typeId) {
        ObjectNode node = NODES.objectNode();
        node.putObject("Sequence").put("id", id).put("type_id", typeId);
        return node;
    }

    private static ObjectNode model(TrainedBpe bpe) {
        ObjectNode model = NODES.objectNode().put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < bpe.bos(); id++) {
            vocab.put(bpe.piece(id), id);
        }
        ArrayNode merges = model.putArray("merges");
        bpe.merges().forEach(merges::add); // "left right": byte-level pieces never hold a space
        return model;
    }
}
