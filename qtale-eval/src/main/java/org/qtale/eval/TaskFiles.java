package org.qtale.eval;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.qtale.QtaleException;
import org.qtale.train.corpus.MultipleChoice;
import org.qtale.train.corpus.ToyWorld;
import org.qtale.train.pretrain.PretrainJob;

/**
 * Reads multiple-choice tasks from the benchmark file formats in circulation, telling them apart by extension and
 * fields:
 * <ul>
 *   <li>{@code .json}: the LLM-Adapters commonsense format, an array of {@code {instruction, input, output, answer}}
 *       with the choices written into the instruction (ARC, BoolQ, PIQA, SIQA, WinoGrande, OpenBookQA);</li>
 *   <li>{@code .jsonl}: MosaicML's Eval Gauntlet rows {@code {query, choices, gold}} and the partial-evaluation rows
 *       {@code {context_options, continuation, gold}}, or CommonsenseQA's {@code {question, choices: {label, text},
 *       answerKey}}; or LAMBADA's completion rows {@code {context, continuation}};</li>
 *   <li>{@code .txt} or {@code .txt.bz2}: HellaSwag in llama.cpp's six-line format (context, gold index, four
 *       endings);</li>
 *   <li>{@code toyworld}: the built-in corpus's held-out questions (the ones the demo scores).</li>
 * </ul>
 * Questions become lm-evaluation-harness contexts ({@code "Question: …\nAnswer:"} and each answer after a space;
 * Gauntlet queries keep their own wording, with the {@code "\nAnswer:"} of its question-answering tasks);
 * WinoGrande is scored by partial evaluation (the option ends the context, the rest of the sentence is scored). A row
 * that does not parse is skipped and recorded with its file and line.
 */
public final class TaskFiles {
    /** The built-in question set's name. */
    public static final String TOYWORLD = "toyworld";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ADAPTERS_LABEL = Pattern.compile("(answer|solution|option|ending)(\\d+)");

    private TaskFiles() {
    }

    /** Reads {@code spec}: a file path, or {@value #TOYWORLD} for the built-in questions. */
    public static EvalTask load(String name, String spec) {
        if (spec.equals(TOYWORLD)) {
            return toyWorld(name);
        }
        Path file = Path.of(spec);
        if (Files.isDirectory(file)) {
            throw new QtaleException("The task file " + spec + " is a directory.");
        }
        if (!Files.isRegularFile(file)) {
            throw new QtaleException("The task file " + spec + " does not exist.");
        }
        EvalTask task = read(name, file);
        if (task instanceof ChoiceTask c && c.examples().isEmpty()) {
            throw noExample(spec, c.skipped());
        }
        if (task instanceof CompletionTask c && c.examples().isEmpty()) {
            throw noExample(spec, c.skipped());
        }
        return task;
    }

    private static QtaleException noExample(String spec, List<ChoiceTask.SkippedRow> skipped) {
        return new QtaleException("No row of " + spec + " is an example"
                + (skipped.isEmpty() ? "." : " (" + skipped.getFirst() + ")."));
    }

    private static EvalTask read(String name, Path file) {
        String spec = file.toString();
        String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (lower.endsWith(".json")) {
                return llmAdapters(name, file);
            }
            if (lower.endsWith(".jsonl")) {
                return jsonLines(name, file);
            }
            if (lower.endsWith(".txt.bz2") || lower.endsWith(".txt") && looksLikeHellaSwag(file)) {
                return hellaSwag(name, file);
            }
            if (lower.endsWith(".txt") || lower.endsWith(".raw")) {
                return new TextTask(name, file.toString(), Files.readString(file, StandardCharsets.UTF_8));
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new QtaleException("The task file " + spec + " is not UTF-8 text.");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new QtaleException("The task file " + spec + " is not valid JSON (line "
                    + e.getLocation().getLineNr() + ").");
        } catch (IOException e) {
            throw new QtaleException("Cannot read the task file " + spec + ": " + e.getMessage());
        }
        throw new QtaleException("The task file " + spec + " is not .json (LLM-Adapters), .jsonl (MosaicML or "
                + "CommonsenseQA), .txt/.txt.bz2 (HellaSwag) or .txt/.raw text (perplexity).");
    }

    /** A .txt file is HellaSwag's six-line format when its second line is a whole number (the gold ending). */
    private static boolean looksLikeHellaSwag(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            reader.readLine();
            String second = reader.readLine();
            return second != null && second.strip().matches("\\d+");
        }
    }

    /** The demo's held-out toyworld questions: each choice continues the document up to its question. */
    public static ChoiceTask toyWorld(String name) {
        List<MultipleChoice> questions = ToyWorld.questions(PretrainJob.questionSeed(1), PretrainJob.QUESTIONS);
        List<ChoiceExample> examples = new ArrayList<>();
        for (MultipleChoice q : questions) {
            examples.add(new ChoiceExample(q.choices().stream().map(c -> new Choice(q.prompt(), c)).toList(), q.answer()));
        }
        return new ChoiceTask(name, TOYWORLD, examples, List.of());
    }

    // ---- LLM-Adapters ---------------------------------------------------------------------------------------------

    private static ChoiceTask llmAdapters(String name, Path file) throws IOException {
        List<ChoiceExample> examples = new ArrayList<>();
        List<ChoiceTask.SkippedRow> skipped = new ArrayList<>();
        try (JsonParser parser = JSON.createParser(file.toFile())) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                throw new QtaleException("The task file " + file + " is not a JSON array of LLM-Adapters rows.");
            }
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
                if (token == null) {
                    throw new QtaleException("The task file " + file + " ends inside its JSON array.");
                }
                int line = parser.currentTokenLocation().getLineNr();
                JsonNode row = parser.readValueAsTree();
                if (!row.isObject()) {
                    skipped.add(new ChoiceTask.SkippedRow(file.toString(), line, "not a JSON object"));
                    continue;
                }
                try {
                    examples.add(llmAdaptersRow(text(row, "instruction"), text(row, "answer")));
                } catch (IllegalArgumentException e) {
                    skipped.add(new ChoiceTask.SkippedRow(file.toString(), line, e.getMessage()));
                }
            }
        }
        return new ChoiceTask(name, file.toString(), examples, skipped);
    }

    /**
     * One LLM-Adapters row: the question and choices are cut out of the instruction ({@code "…: QUESTION\n\nAnswer1:
     * A Answer2: B …\n\nAnswer format: …"}, with Solution or Option for PIQA and WinoGrande), and BoolQ's answer
     * is {@code true} or {@code false}.
     */
    static ChoiceExample llmAdaptersRow(String instruction, String answer) {
        String label = answer.trim().toLowerCase(Locale.ROOT);
        int colon = instruction.indexOf(": ");
        if (colon < 0) {
            throw new IllegalArgumentException("the instruction has no question after a colon");
        }
        if (label.equals("true") || label.equals("false")) {
            int end = instruction.indexOf("\n\nAnswer format");
            String question = instruction.substring(colon + 2, end < 0 ? instruction.length() : end).strip();
            return ChoiceExample.sharedContext(questionContext(question), List.of("true", "false"),
                    label.equals("true") ? 0 : 1);
        }
        Matcher m = ADAPTERS_LABEL.matcher(label);
        if (!m.matches()) {
            throw new IllegalArgumentException("the answer \"" + answer + "\" is not true/false, answerN, solutionN, optionN or endingN");
        }
        String marker = Character.toUpperCase(m.group(1).charAt(0)) + m.group(1).substring(1);
        int gold = Integer.parseInt(m.group(2)) - 1;
        int first = instruction.indexOf(marker + "1:");
        if (first < 0 || first < colon) {
            throw new IllegalArgumentException("the instruction lists no " + marker + "1");
        }
        String question = instruction.substring(colon + 2, first).strip();
        int format = instruction.lastIndexOf("Answer format:");
        String body = instruction.substring(first, format > first ? format : instruction.length());
        List<String> choices = new ArrayList<>();
        for (String part : body.split(marker + "\\d+:")) {
            if (!part.isBlank()) {
                choices.add(part.strip());
            }
        }
        if (choices.size() < 2 || gold < 0 || gold >= choices.size()) {
            throw new IllegalArgumentException("the answer " + label + " is not one of " + choices.size() + " choices");
        }
        if (marker.equals("Option")) {
            return partial(question, choices, gold);
        }
        if (marker.equals("Ending")) {
            return ChoiceExample.sharedContext(question, choices, gold); // HellaSwag: the endings continue the text
        }
        return ChoiceExample.sharedContext(questionContext(question), choices, gold);
    }

    /** WinoGrande by partial evaluation: each option fills the blank, and the rest of the sentence is scored. */
    static ChoiceExample partial(String sentence, List<String> options, int gold) {
        int blank = sentence.indexOf('_');
        if (blank < 0) {
            throw new IllegalArgumentException("the sentence has no blank (_)");
        }
        String rest = " " + sentence.substring(blank + 1).strip();
        String before = sentence.substring(0, blank);
        return new ChoiceExample(options.stream().map(o -> new Choice(before + o, rest)).toList(), gold);
    }

    private static String questionContext(String question) {
        return "Question: " + question + "\nAnswer:";
    }

    // ---- JSON lines ------------------------------------------------------------------------------------------------

    /** A multiple-choice task, or a completion task when the first row is {@code {context, continuation}}. */
    private static EvalTask jsonLines(String name, Path file) throws IOException {
        List<ChoiceExample> examples = new ArrayList<>();
        List<Choice> completions = new ArrayList<>();
        List<ChoiceTask.SkippedRow> skipped = new ArrayList<>();
        Boolean completion = null;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNumber = 0;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode row = JSON.readTree(line);
                    if (completion == null) {
                        completion = isCompletion(row);
                    }
                    if (completion) {
                        completions.add(completionRow(row));
                    } else {
                        examples.add(jsonLine(row));
                    }
                } catch (IOException | IllegalArgumentException e) {
                    String reason = e instanceof IOException ? "not JSON" : e.getMessage();
                    skipped.add(new ChoiceTask.SkippedRow(file.toString(), lineNumber, reason));
                }
            }
        }
        if (Boolean.TRUE.equals(completion)) {
            return new CompletionTask(name, file.toString(), completions, skipped);
        }
        return new ChoiceTask(name, file.toString(), examples, skipped);
    }

    /**
     * A Gauntlet query as its question-answering tasks present it: a query that asks a "Question:" and does not end
     * in "Answer:" gets the {@code "\nAnswer:"} their task configurations join answers with (the rows do not carry
     * it); other queries (COPA, HellaSwag, SIQA's lettered choices) are continued after a space.
     */
    static String gauntletContext(String query) {
        String trimmed = query.stripTrailing();
        if (!query.contains("Question:") || trimmed.endsWith("Answer:")) {
            return query;
        }
        return trimmed + "\nAnswer:";
    }

    private static boolean isCompletion(JsonNode row) {
        return row.has("context") && row.has("continuation") && !row.has("context_options") && !row.has("choices");
    }

    /**
     * One LAMBADA row: the continuation (the passage's last word) follows the context after a space, as
     * lm-evaluation-harness splits the passage.
     */
    static Choice completionRow(JsonNode row) {
        if (!isCompletion(row)) {
            throw new IllegalArgumentException("not a {context, continuation} row like the first one");
        }
        String context = text(row, "context");
        String continuation = text(row, "continuation");
        if (continuation.isBlank()) {
            throw new IllegalArgumentException("the continuation is empty");
        }
        boolean spaced = context.isEmpty() || Character.isWhitespace(context.charAt(context.length() - 1))
                || Character.isWhitespace(continuation.charAt(0));
        return new Choice(context, spaced ? continuation : " " + continuation);
    }

    /** One MosaicML or CommonsenseQA row. */
    static ChoiceExample jsonLine(JsonNode row) {
        if (row.has("context_options")) {
            List<String> contexts = strings(row, "context_options");
            String continuation = " " + text(row, "continuation").strip();
            return new ChoiceExample(contexts.stream().map(c -> new Choice(c, continuation)).toList(), gold(row, "gold"));
        }
        if (row.has("query")) {
            return ChoiceExample.sharedContext(gauntletContext(text(row, "query")), strings(row, "choices"), gold(row, "gold"));
        }
        if (row.has("answerKey") && row.path("choices").has("text")) {
            List<String> labels = strings(row.get("choices"), "label");
            List<String> answers = strings(row.get("choices"), "text");
            int gold = labels.indexOf(text(row, "answerKey"));
            if (gold < 0 || labels.size() != answers.size()) {
                throw new IllegalArgumentException("the answer key is not one of the labels " + labels);
            }
            return ChoiceExample.sharedContext(questionContext(text(row, "question")), answers, gold);
        }
        if (isCompletion(row)) {
            throw new IllegalArgumentException("a completion row (context and continuation) among multiple-choice rows");
        }
        throw new IllegalArgumentException("neither {query, choices, gold}, {context_options, continuation, gold} nor "
                + "{question, choices, answerKey}");
    }

    // ---- HellaSwag -------------------------------------------------------------------------------------------------

    private static ChoiceTask hellaSwag(String name, Path file) throws IOException {
        List<ChoiceExample> examples = new ArrayList<>();
        List<ChoiceTask.SkippedRow> skipped = new ArrayList<>();
        InputStream raw = Files.newInputStream(file);
        InputStream in;
        try {
            in = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".bz2")
                    ? new BZip2CompressorInputStream(raw, true) : raw;
        } catch (IOException e) {
            raw.close();
            throw new QtaleException("The task file " + file + " is not bzip2-compressed.");
        }
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            int lineNumber = 0;
            while (true) {
                String context = reader.readLine();
                while (context != null && context.isBlank()) { // blank lines between or after tasks
                    lineNumber++;
                    context = reader.readLine();
                }
                if (context == null) {
                    break;
                }
                int first = ++lineNumber;
                String label = reader.readLine();
                List<String> endings = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    String ending = reader.readLine();
                    if (ending != null) {
                        endings.add(ending);
                    }
                }
                lineNumber += 1 + endings.size();
                try {
                    examples.add(hellaSwagTask(context, label, endings));
                } catch (IllegalArgumentException e) {
                    skipped.add(new ChoiceTask.SkippedRow(file.toString(), first, e.getMessage()));
                }
            }
        }
        return new ChoiceTask(name, file.toString(), examples, skipped);
    }

    static ChoiceExample hellaSwagTask(String context, String label, List<String> endings) {
        if (label == null || endings.size() != 4) {
            throw new IllegalArgumentException("a HellaSwag task is 6 lines (context, gold, 4 endings); the file ends early");
        }
        int gold;
        try {
            gold = Integer.parseInt(label.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the gold line \"" + label + "\" is not a number");
        }
        return ChoiceExample.sharedContext(context.strip(), endings.stream().map(String::strip).toList(), gold);
    }

    // ---- fields ----------------------------------------------------------------------------------------------------

    private static String text(JsonNode row, String field) {
        JsonNode v = row.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("the field \"" + field + "\" is missing or not text");
        }
        return v.asText();
    }

    private static List<String> strings(JsonNode row, String field) {
        JsonNode v = row.get(field);
        if (v == null || !v.isArray()) {
            throw new IllegalArgumentException("the field \"" + field + "\" is missing or not a list");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isTextual()) {
                throw new IllegalArgumentException("the field \"" + field + "\" holds something other than text");
            }
            out.add(item.asText());
        }
        return out;
    }

    private static int gold(JsonNode row, String field) {
        JsonNode v = row.get(field);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("the field \"" + field + "\" is missing or not a whole number");
        }
        return v.asInt();
    }
}
