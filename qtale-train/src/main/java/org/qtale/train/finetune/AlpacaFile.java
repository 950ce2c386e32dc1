package org.qtale.train.finetune;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.qtale.QtaleException;

/**
 * Reads an Alpaca-style instruction file: one JSON array of objects with an {@code instruction} string, an optional
 * {@code input} string and an {@code output} string; other fields are ignored. Rows are counted from 1 in errors.
 */
final class AlpacaFile {
    /** Configured once here and never changed afterwards, so sharing it is safe. */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final String PREAMBLE_NO_INPUT = "Below is an instruction that describes a task. "
            + "Write a response that appropriately completes the request.\n\n";
    private static final String PREAMBLE_WITH_INPUT = "Below is an instruction that describes a task, paired with "
            + "an input that provides further context. Write a response that appropriately completes the request.\n\n";

    private AlpacaFile() {
    }

    /**
     * One instruction and the response to learn.
     *
     * @param instruction the task
     * @param input       further context for the task, empty when there is none
     * @param output      the response
     */
    record Row(String instruction, String input, String output) {
        /**
         * The Stanford Alpaca prompt: the preamble, the instruction, the input when it is not empty, and the
         * "### Response:" header with its line break, so that the output follows on its own line.
         */
        String prompt() {
            if (input.isEmpty()) {
                return PREAMBLE_NO_INPUT + "### Instruction:\n" + instruction + "\n\n### Response:\n";
            }
            return PREAMBLE_WITH_INPUT + "### Instruction:\n" + instruction + "\n\n### Input:\n" + input
                    + "\n\n### Response:\n";
        }
    }

    /** The rows of {@code path} in file order. */
    static List<Row> read(Path path) {
        JsonNode root;
        try (InputStream in = Files.newInputStream(path)) {
            root = MAPPER.readTree(in);
        } catch (JsonProcessingException e) {
            String reason = e.getOriginalMessage().replaceAll("\\s+", " ");
            throw new QtaleException("Alpaca file " + path + " is not valid JSON: " + reason + ".", e);
        } catch (IOException e) {
            throw QtaleException.cannotRead("Alpaca file", path, e);
        }
        if (root == null || !root.isArray()) {
            throw new QtaleException("Alpaca file " + path + " is not a JSON array of instruction rows.");
        }
        if (root.isEmpty()) {
            throw new QtaleException("Alpaca file " + path + " holds no rows.");
        }
        List<Row> rows = new ArrayList<>(root.size());
        for (int i = 0; i < root.size(); i++) {
            rows.add(row(path, i + 1, root.get(i)));
        }
        return rows;
    }

    private static Row row(Path path, int number, JsonNode node) {
        String where = "Alpaca file " + path + " row " + number;
        if (!node.isObject()) {
            throw new QtaleException(where + " is not a JSON object.");
        }
        String instruction = string(node, "instruction", where);
        String output = string(node, "output", where);
        if (output.isEmpty()) {
            throw new QtaleException(where + " has an empty \"output\", which leaves nothing to learn.");
        }
        JsonNode input = node.get("input");
        if (input != null && !input.isNull() && !input.isTextual()) {
            throw new QtaleException(where + " has an \"input\" that is not a string.");
        }
        return new Row(instruction, input == null || input.isNull() ? "" : input.asText(), output);
    }

    private static String string(JsonNode row, String field, String where) {
        JsonNode value = row.get(field);
        if (value == null || !value.isTextual()) {
            throw new QtaleException(where + " has no \"" + field + "\" string.");
        }
        return value.asText();
    }
}
