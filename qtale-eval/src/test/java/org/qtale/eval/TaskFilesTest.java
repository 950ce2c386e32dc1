package org.qtale.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qtale.QtaleException;
import org.qtale.testing.SharedData;

/** The loaders on real rows of every benchmark file in shared data, and on malformed ones. */
class TaskFilesTest {
    private static ChoiceTask load(String relative) {
        return (ChoiceTask) TaskFiles.load("t", SharedData.file(relative).toString());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "eval/commonsense_llm_adapters/ARC-Challenge/test.json, 1172, 4",
        "eval/commonsense_llm_adapters/ARC-Easy/test.json, 2376, 0",
        "eval/commonsense_llm_adapters/boolq/test.json, 3270, 2",
        "eval/commonsense_llm_adapters/openbookqa/test.json, 500, 4",
        "eval/commonsense_llm_adapters/piqa/test.json, 1838, 2",
        "eval/commonsense_llm_adapters/social_i_qa/test.json, 1954, 3",
        "eval/commonsense_llm_adapters/winogrande/test.json, 1267, 2",
        "eval/mosaic_gauntlet/arc_easy.jsonl, 2376, 4",
        "eval/mosaic_gauntlet/arc_challenge.jsonl, 1172, 4",
        "eval/mosaic_gauntlet/boolq.jsonl, 3270, 2",
        "eval/mosaic_gauntlet/piqa.jsonl, 1838, 2",
        "eval/mosaic_gauntlet/openbook_qa.jsonl, 500, 4",
        "eval/mosaic_gauntlet/winogrande.jsonl, 1267, 2",
        "eval/mosaic_gauntlet/siqa.jsonl, 1954, 2",
        "eval/mosaic_gauntlet/commonsense_qa.jsonl, 1221, 4",
        "eval/mosaic_gauntlet/copa.jsonl, 100, 2",
        "eval/commonsense_qa/dev_rand_split.jsonl, 1221, 5",
        "eval/hellaswag/hellaswag_small.jsonl, 4, 4",
        "eval/hellaswag/hellaswag_val_full.txt.bz2, 10042, 4",
    })
    void everyRowOfEveryFileParses(String file, int rows, int firstChoices) {
        ChoiceTask task = load(file);
        assertEquals(rows, task.examples().size(), "rows, as SOURCES.md counts them");
        assertEquals(List.of(), task.skipped());
        if (firstChoices > 0) {
            assertEquals(firstChoices, task.examples().getFirst().choices().size());
        }
    }

    @Test
    void llmAdaptersQuestionsBecomeHarnessContexts() {
        ChoiceExample arc = load("eval/commonsense_llm_adapters/ARC-Easy/test.json").examples().getFirst();
        assertEquals(List.of(
                new Choice(Q_ARC, " Sunlight is the source of energy for nearly all ecosystems."),
                new Choice(Q_ARC, " Most ecosystems are found on land instead of in water."),
                new Choice(Q_ARC, " Carbon dioxide is more available than other gases."),
                new Choice(Q_ARC, " The producers in all ecosystems are plants.")), arc.choices());
        assertEquals(0, arc.gold());

        ChoiceExample boolq = load("eval/commonsense_llm_adapters/boolq/test.json").examples().getFirst();
        String q = "Question: does ethanol take more energy make that produces?\nAnswer:";
        assertEquals(List.of(new Choice(q, " true"), new Choice(q, " false")), boolq.choices());
        assertEquals(1, boolq.gold(), "the answer is false");

        ChoiceExample siqa = load("eval/commonsense_llm_adapters/social_i_qa/test.json").examples().getFirst();
        assertEquals(" Find somewhere to go", siqa.choices().get(2).continuation());
        assertEquals(2, siqa.gold());
    }

    private static final String Q_ARC = "Question: Which statement best explains why photosynthesis is the foundation of "
            + "most food webs?\nAnswer:";

    @Test
    void winoGrandeIsScoredByPartialEvaluationInBothFormats() {
        List<Choice> expected = List.of(
                new Choice("Sarah was a much better surgeon than Maria so Sarah", " always got the easier cases."),
                new Choice("Sarah was a much better surgeon than Maria so Maria", " always got the easier cases."));
        ChoiceExample adapters = load("eval/commonsense_llm_adapters/winogrande/test.json").examples().getFirst();
        ChoiceExample mosaic = load("eval/mosaic_gauntlet/winogrande.jsonl").examples().getFirst();
        assertEquals(expected, adapters.choices());
        assertEquals(expected, mosaic.choices());
        assertEquals(1, adapters.gold());
        assertEquals(1, mosaic.gold());
    }

    @Test
    void commonsenseQaAndHellaSwagRows() {
        ChoiceExample csqa = load("eval/commonsense_qa/dev_rand_split.jsonl").examples().getFirst();
        String q = "Question: A revolving door is convenient for two direction travel, but it also serves as a security "
                + "measure at a what?\nAnswer:";
        assertEquals(new Choice(q, " bank"), csqa.choices().getFirst());
        assertEquals(new Choice(q, " new york"), csqa.choices().get(4));
        assertEquals(0, csqa.gold());

        ChoiceExample hella = load("eval/hellaswag/hellaswag_val_full.txt.bz2").examples().getFirst();
        String context = "Roof shingle removal: A man is sitting on a roof. he";
        assertEquals(new Choice(context, " is using wrap to wrap a pair of skis."), hella.choices().getFirst());
        assertEquals(new Choice(context, " starts pulling up roofing on a roof."), hella.choices().get(3));
        assertEquals(3, hella.gold());

        ChoiceExample copa = load("eval/mosaic_gauntlet/copa.jsonl").examples().getFirst();
        assertEquals(new Choice("The man turned on the faucet, therefore", " water flowed from the spout."),
                copa.choices().get(1));
        assertEquals(1, copa.gold());
    }

    @Test
    void malformedRowsAreSkippedWithTheirFileAndLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mixed.jsonl");
        Files.writeString(file, """
                {"query": "Q: 1+1?", "choices": ["2", "3"], "gold": 0}
                {"query": "Q: no choices", "gold": 0}
                not json at all

                {"query": "Q: gold out of range", "choices": ["a", "b"], "gold": 2}
                {"query": "Q: 2+2?", "choices": ["4", "5"], "gold": 0}
                """);
        ChoiceTask task = (ChoiceTask) TaskFiles.load("mixed", file.toString());
        assertEquals(2, task.examples().size());
        assertEquals(List.of(2, 3, 5), task.skipped().stream().map(ChoiceTask.SkippedRow::line).toList());
        assertTrue(task.skipped().get(0).reason().contains("choices"), task.skipped().get(0).reason());
        assertEquals("not JSON", task.skipped().get(1).reason());
        assertTrue(task.skipped().get(0).toString().startsWith(file + ":2: "));

        Path adapters = dir.resolve("adapters.json");
        Files.writeString(adapters, """
                [
                  {"instruction": "Please choose: Why?\\n\\nAnswer1: a Answer2: b\\n\\nAnswer format: answer1/answer2",
                   "input": "", "output": "", "answer": "answer2"},
                  {"instruction": "Please choose: Why?\\n\\nAnswer1: a Answer2: b", "input": "", "output": "",
                   "answer": "answer7"},
                  {"instruction": "no colon here", "input": "", "output": "", "answer": "true"}
                ]
                """);
        ChoiceTask parsed = (ChoiceTask) TaskFiles.load("a", adapters.toString());
        assertEquals(1, parsed.examples().size());
        assertEquals(List.of(4, 6), parsed.skipped().stream().map(ChoiceTask.SkippedRow::line).toList());

        Path hella = dir.resolve("short.txt");
        Files.writeString(hella, "ctx one\n1\na\nb\nc\nd\nctx two\nx\na\nb\nc\nd\nctx three\n0\na\n");
        ChoiceTask h = (ChoiceTask) TaskFiles.load("h", hella.toString());
        assertEquals(1, h.examples().size());
        assertEquals(List.of(7, 13), h.skipped().stream().map(ChoiceTask.SkippedRow::line).toList());
    }

    @Test
    void textFilesAreForPerplexityAndOtherFilesAreRefused(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "Once upon a time\nthere was a model.\n");
        assertInstanceOf(TextTask.class, TaskFiles.load("notes", text.toString()));
        assertInstanceOf(TextTask.class, TaskFiles.load("wiki",
                SharedData.file("corpora/wikitext-2-raw/wiki.test.raw").toString()));
        assertThrows(QtaleException.class, () -> TaskFiles.load("x", dir.resolve("missing.json").toString()));
        Path csv = dir.resolve("table.csv");
        Files.writeString(csv, "a,b\n");
        assertTrue(assertThrows(QtaleException.class, () -> TaskFiles.load("x", csv.toString())).getMessage()
                .contains("is not .json"));
    }

    @Test
    void gauntletQuestionsGetTheAnswerCueTheirTasksUse() {
        ChoiceExample arc = load("eval/mosaic_gauntlet/arc_easy.jsonl").examples().getFirst();
        assertEquals(new Choice(Q_ARC, " Sunlight is the source of energy for nearly all ecosystems."),
                arc.choices().getFirst(), "the same context as the LLM-Adapters row");
        ChoiceExample piqa = load("eval/mosaic_gauntlet/piqa.jsonl").examples().getFirst();
        assertEquals("Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:",
                piqa.choices().getFirst().context());
        ChoiceExample csqa = load("eval/mosaic_gauntlet/commonsense_qa.jsonl").examples().getFirst();
        assertTrue(csqa.choices().getFirst().context().endsWith("D. new york\nAnswer:"), "already cued");
        assertEquals("The woman retired, therefore", TaskFiles.gauntletContext("The woman retired, therefore"));
    }

    @Test
    void llmAdaptersHellaSwagEndingsContinueTheText() {
        ChoiceExample e = TaskFiles.llmAdaptersRow("Please choose the correct ending to complete the given sentence: "
                + "A man is sitting on a roof. he\n\nEnding1: is using wrap. Ending2: starts pulling up roofing.\n\n"
                + "Answer format: ending1/ending2", "ending2");
        assertEquals(List.of(new Choice("A man is sitting on a roof. he", " is using wrap."),
                new Choice("A man is sitting on a roof. he", " starts pulling up roofing.")), e.choices());
        assertEquals(1, e.gold());
    }

    @Test
    void aFileWithNoExampleIsRefused(@TempDir Path dir) throws IOException {
        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "[]");
        assertTrue(assertThrows(QtaleException.class, () -> TaskFiles.load("e", empty.toString())).getMessage()
                .contains("No row of"));
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"query\": \"q\"}\n");
        assertTrue(assertThrows(QtaleException.class, () -> TaskFiles.load("b", bad.toString())).getMessage()
                .contains(bad + ":1: "));
        assertTrue(assertThrows(QtaleException.class, () -> TaskFiles.load("d", dir.toString())).getMessage()
                .contains("is a directory"));
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "[{\"instruction\": ");
        String message = assertThrows(QtaleException.class, () -> TaskFiles.load("j", broken.toString())).getMessage();
        assertTrue(message.contains("not valid JSON") && !message.contains("\n"), message);
    }

    @Test
    void lambadaIsACompletionTask() {
        CompletionTask small = (CompletionTask) TaskFiles.load("l",
                SharedData.file("eval/mosaic_gauntlet/lambada_openai_small.jsonl").toString());
        assertEquals(8, small.examples().size());
        Choice first = small.examples().getFirst();
        assertTrue(first.context().endsWith("I don't care about"), first.context());
        assertEquals(" signs", first.continuation());
        CompletionTask full = (CompletionTask) TaskFiles.load("l",
                SharedData.file("eval/mosaic_gauntlet/lambada_openai.jsonl").toString());
        assertEquals(5153, full.examples().size());
        assertEquals(List.of(), full.skipped());
        assertEquals(3, full.limit(3).examples().size());
    }

    @Test
    void theBuiltInQuestionsAreTheDemos() {
        ChoiceTask toy = (ChoiceTask) TaskFiles.load("toy", TaskFiles.TOYWORLD);
        assertEquals(280, toy.examples().size());
        ChoiceExample first = toy.examples().getFirst();
        assertTrue(first.choices().stream().allMatch(c -> c.continuation().startsWith(" ")));
        assertTrue(toy.chance() > 0.25 && toy.chance() < 0.5, "2 to 4 choices each");
    }
}
