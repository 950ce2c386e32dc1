package org.qtale.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.qtale.QtaleException;

/** Training text from files: a plain UTF-8 file is one document, a {@code .jsonl} file has one {"text": ...} a line. */
final class TextInputs {
    private TextInputs() {
    }

    /** Fails with one sentence on the first input that is missing, so nothing is read in vain. */
    static void requireFiles(Iterable<Path> inputs) {
        for (Path input : inputs) {
            if (!Files.isRegularFile(input)) {
                throw new QtaleException((Files.isDirectory(input) ? "Input " + input + " is a directory, not a file."
                        : "Input file not found: " + input + "."));
            }
        }
    }

    /** Hands each document of {@code input} to {@code sink}. */
    static void read(Path input, Consumer<String> sink) {
        try {
            if (input.getFileName().toString().endsWith(".jsonl")) {
                readJsonLines(input, sink);
            } else {
                sink.accept(Files.readString(input, StandardCharsets.UTF_8));
            }
        } catch (CharacterCodingException e) {
            throw new QtaleException(input + " is not UTF-8 text.");
        } catch (IOException e) {
            throw QtaleException.cannotRead("input file", input, e);
        }
    }

    private static void readJsonLines(Path input, Consumer<String> sink) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(input, StandardCharsets.UTF_8)) {
            int number = 0;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                number++;
                if (!line.isBlank()) {
                    sink.accept(text(line, input, number));
                }
            }
        }
    }

    private static String text(String line, Path input, int number) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new QtaleException(input + " line " + number + " is not valid JSON: " + e.getOriginalMessage() + ".");
        }
        if (!node.path("text").isTextual()) {
            throw new QtaleException(input + " line " + number + " has no \"text\" string.");
        }
        return node.get("text").asText();
    }
}
