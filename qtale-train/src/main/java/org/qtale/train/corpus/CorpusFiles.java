package org.qtale.train.corpus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.qtale.QtaleException;

/** Reads the documents of a plain text or JSONL corpus file. */
final class CorpusFiles {
    /** Configured once here and never changed afterwards, so sharing it is safe. */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private CorpusFiles() {
    }

    /**
     * Documents are separated by blank (or whitespace-only) lines and keep their line breaks. A file without any
     * such separator has one document per non-blank line, the layout of WikiText-2 raw as shipped by Hugging Face.
     */
    static List<String> readText(Path path) {
        List<List<String>> paragraphs = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (String line : readLines(path)) {
            if (!line.isBlank()) {
                current.add(line);
            } else if (!current.isEmpty()) {
                paragraphs.add(current);
                current = new ArrayList<>();
            }
        }
        if (!current.isEmpty()) {
            paragraphs.add(current);
        }
        List<String> documents = paragraphs.size() == 1
                ? paragraphs.getFirst()
                : paragraphs.stream().map(lines -> String.join("\n", lines)).toList();
        return nonEmpty(path, documents);
    }

    /** One JSON object per line, its "text" string the document; blank lines are skipped. */
    static List<String> readJsonl(Path path) {
        List<String> lines = readLines(path);
        List<String> documents = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = MAPPER.readTree(lines.get(i));
            } catch (JsonProcessingException e) {
                String reason = e.getOriginalMessage().replaceAll("\\s+", " ");
                throw new QtaleException(path + " line " + (i + 1) + " is not valid JSON: " + reason + ".", e);
            }
            JsonNode text = node.get("text");
            if (text == null || !text.isTextual()) {
                throw new QtaleException(path + " line " + (i + 1) + " has no \"text\" string.");
            }
            if (!text.asText().isBlank()) {
                documents.add(text.asText());
            }
        }
        return nonEmpty(path, documents);
    }

    /** The lines of a UTF-8 file without their line ends (LF or CRLF) and without a leading byte order mark. */
    private static List<String> readLines(Path path) {
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(path)) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lines.add(lines.isEmpty() && line.startsWith("\uFEFF") ? line.substring(1) : line);
            }
        } catch (CharacterCodingException e) {
            int line = lines.size() + 1;
            throw new QtaleException("Corpus file " + path + " is not UTF-8 text (near line " + line + ").", e);
        } catch (NoSuchFileException e) {
            String hint = path.getParent() == null && !path.toString().contains(".")
                    ? "; the built-in corpus is toyworld." : ".";
            throw new QtaleException("Corpus file not found: " + path + hint, e);
        } catch (IOException e) {
            throw QtaleException.cannotRead("corpus file", path, e);
        }
        return lines;
    }

    private static List<String> nonEmpty(Path path, List<String> documents) {
        if (documents.isEmpty()) {
            throw new QtaleException("Corpus file " + path + " holds no documents.");
        }
        return documents;
    }
}
