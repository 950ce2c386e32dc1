package org.qtale.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.qtale.QtaleException;

/** Reading and writing the JSON files of a checkpoint directory. */
final class Json {
    /** Configured once here and never changed afterwards, so sharing it is safe. */
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    /** Parses {@code bytes}; {@code what} names the text in the error message. */
    static JsonNode parse(byte[] bytes, String what) {
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw new QtaleException(capitalize(what) + " is empty, not JSON.");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new QtaleException(capitalize(what) + " is not valid JSON: " + e.getOriginalMessage() + ".");
        } catch (IOException e) {
            throw new QtaleException("Cannot read " + what + ": " + e.getMessage() + ".");
        }
    }

    /** Reads a JSON file that must hold an object. */
    static JsonNode readObject(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw QtaleException.cannotRead("file", path, e);
        }
        JsonNode node = parse(bytes, path.toString());
        if (!node.isObject()) {
            throw new QtaleException(path + " must hold a JSON object.");
        }
        return node;
    }

    private static String capitalize(String s) {
        return s.isEmpty() || s.startsWith("/") ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
