package org.qtale.quant;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.qtale.QtaleException;

/** Typed access to the fields of a JSON object, treating {@code null} as absent; {@code source} names it in errors. */
record JsonFields(JsonNode node, String source) {
    private JsonNode get(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    int requiredInt(String key) {
        if (get(key) == null) {
            throw new QtaleException(source + " has no '" + key + "'.");
        }
        return integer(key, 0);
    }

    int integer(String key, int fallback) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw wrongType(key, "an integer", v);
        }
        return v.intValue();
    }

    double number(String key, double fallback) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw wrongType(key, "a number", v);
        }
        return v.doubleValue();
    }

    boolean bool(String key, boolean fallback) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw wrongType(key, "true or false", v);
        }
        return v.booleanValue();
    }

    String text(String key, String fallback) {
        JsonNode v = get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw wrongType(key, "a string", v);
        }
        return v.asText();
    }

    List<String> strings(String key) {
        JsonNode v = get(key);
        if (v == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (v.isArray()) {
            v.forEach(item -> out.add(item.isTextual() ? item.asText() : null));
        }
        if (!v.isArray() || out.contains(null)) {
            throw wrongType(key, "a list of strings", v);
        }
        return out;
    }

    private QtaleException wrongType(String key, String expected, JsonNode v) {
        return new QtaleException("'" + key + "' in " + source + " must be " + expected + ", got " + v + ".");
    }
}
