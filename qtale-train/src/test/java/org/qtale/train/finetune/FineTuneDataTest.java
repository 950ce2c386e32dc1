package org.qtale.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.tokenizer.Llama2cTokenizer;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.testing.SharedData;
import org.qtale.train.corpus.QaExample;
import org.qtale.train.corpus.ToyWorld;
import org.qtale.train.tokenizer.BpeTrainer;

class FineTuneDataTest {
    private static final String NO_INPUT_PREAMBLE = "Below is an instruction that describes a task. Write a response "
            + "that appropriately completes the request.\n\n";
    private static final String WITH_INPUT_PREAMBLE = "Below is an instruction that describes a task, paired with an "
            + "input that provides further context. Write a response that appropriately completes the request.\n\n";

    /** One token per UTF-8 byte (no merges were learned), so token counts are byte counts. */
    private static Tokenizer bytes;
    /** A byte-level BPE learned from toyworld documents. */
    private static Tokenizer toyBpe;

    @TempDir
    Path dir;

    @BeforeAll
    static void tokenizers() {
        bytes = new BpeTrainer(BpeTrainer.MIN_VOCAB_SIZE).train(List.of("x")).tokenizer();
        toyBpe = new BpeTrainer(700).train(ToyWorld.documents(99, 300)).tokenizer();
    }

    @Test
    void toyworldExamplesArePromptsWhoseAnswerIsTheLastAnswer() {
        FineTuneData data = FineTuneData.load("toyworld:seed=3,docs=60,heldout=14,families=recall+count", toyBpe, 512);
        assertEquals("toyworld:seed=3,docs=60,heldout=14,families=recall+count", data.spec());
        assertEquals(0, data.droppedExamples());
        List<String> families = List.of("recall", "count");
        assertMatches(ToyWorld.qaExamples(3, 60, families), data.train(), toyBpe);
        assertMatches(ToyWorld.heldOutQaExamples(3, 14, families), data.heldOut(), toyBpe);

        Set<String> trainTexts = new HashSet<>(data.train().stream().map(e -> toyBpe.decode(e.tokens())).toList());
        assertEquals(60, trainTexts.size());
        data.heldOut().forEach(e -> assertFalse(trainTexts.contains(toyBpe.decode(e.tokens())), "held out"));
    }

    @Test
    void toyworldParametersAreReadAsCorpusSpecReadsThem() {
        FineTuneData data = FineTuneData.load("toyworld:heldout=0,docs=3", toyBpe, 512);
        assertEquals("toyworld:seed=1,docs=3,heldout=0", data.spec());
        assertMatches(ToyWorld.qaExamples(1, 3), data.train(), toyBpe);
        assertTrue(data.heldOut().isEmpty());
        assertEquals("Unknown toyworld parameter 'size'; the parameters are seed, docs, heldout and families.",
                assertThrows(QtaleException.class, () -> FineTuneData.load("toyworld:size=3", toyBpe, 512))
                        .getMessage());
    }

    @Test
    void llama2AnswersGetNoStraySpaceToken() {
        Tokenizer llama2 = Llama2cTokenizer.load(SharedData.file("models/llama2c/tokenizer.bin"), 32000);
        FineTuneData data = FineTuneData.load("toyworld:seed=5,docs=12,heldout=0", llama2, 512);
        List<QaExample> examples = ToyWorld.qaExamples(5, 12);
        for (int i = 0; i < examples.size(); i++) {
            QaExample qa = examples.get(i);
            TokenExample example = data.train().get(i);
            // SentencePiece adds a space in front of any text it encodes: the answer encoded on its own would start
            // with a lone "▁" (29871) before " in"; split from the whole document, it does not
            assertArrayEquals(llama2.encode(qa.text(), true), example.tokens());
            assertEquals(llama2.encode(qa.prompt(), true).length, example.answerStart());
            assertEquals(qa.answer(), llama2.decode(answerTokens(example)));
        }
    }

    @Test
    void aTokenSpanningTheBoundaryCountsAsAnswer() {
        Tokenizer abc = new BpeTrainer(BpeTrainer.MIN_VOCAB_SIZE + 2).train(List.of("abc")).tokenizer();
        assertEquals(1, abc.encode("abc", false).length, "the two merges make abc one token");
        TokenExample example = FineTuneData.promptAndAnswer(abc, "ab", "c", 10).orElseThrow();
        assertArrayEquals(abc.encode("abc", true), example.tokens());
        assertEquals(1, example.answerStart(), "the token abc holds the answer c");
    }

    @Test
    void aLongPromptLosesItsStartButKeepsBosAndTheWholeAnswer() {
        int bos = bytes.bos();
        TokenExample whole = FineTuneData.promptAndAnswer(bytes, "0123456789", "abc", 14).orElseThrow();
        assertEquals("0123456789abc", bytes.decode(whole.tokens()));
        assertEquals(11, whole.answerStart());

        TokenExample cut = FineTuneData.promptAndAnswer(bytes, "0123456789", "abc", 8).orElseThrow();
        assertEquals(8, cut.length());
        assertEquals(bos, cut.tokens()[0]);
        assertEquals("6789abc", bytes.decode(cut.tokens()));
        assertEquals("abc", bytes.decode(answerTokens(cut)));

        TokenExample onePromptToken = FineTuneData.promptAndAnswer(bytes, "0123456789", "abcdef", 8).orElseThrow();
        assertEquals("9abcdef", bytes.decode(onePromptToken.tokens()));
        assertEquals(2, onePromptToken.answerStart());

        assertEquals(Optional.empty(), FineTuneData.promptAndAnswer(bytes, "0123456789", "abcdefg", 8),
                "the answer and one prompt token do not fit beside BOS");
    }

    @Test
    void examplesWhoseAnswerDoesNotFitAreDroppedAndCounted() throws IOException {
        Path file = write("few.json", """
                [
                  {"instruction": "Say yes.", "output": "yes"},
                  {"instruction": "Count.", "input": "", "output": "%s"},
                  {"instruction": "Say no.", "input": "politely", "output": "no, thank you"}
                ]
                """.formatted("one two three ".repeat(20)));
        FineTuneData data = FineTuneData.load(file.toString(), bytes, 100);
        assertEquals(1, data.droppedExamples());
        assertEquals(1, data.train().size());
        assertEquals(1, data.heldOut().size());
        TokenExample yes = data.train().getFirst();
        assertEquals(100, yes.length());
        assertEquals(bytes.bos(), yes.tokens()[0]);
        String expectedEnd = NO_INPUT_PREAMBLE + "### Instruction:\nSay yes.\n\n### Response:\nyes";
        assertEquals(expectedEnd.substring(expectedEnd.length() - 99), bytes.decode(yes.tokens()));
        assertEquals("yes", bytes.decode(answerTokens(yes)));
        assertTrue(bytes.decode(data.heldOut().getFirst().tokens())
                .endsWith("politely\n\n### Response:\nno, thank you"));

        FineTuneData roomy = FineTuneData.load(file.toString(), bytes, 1000);
        assertEquals(0, roomy.droppedExamples());
        assertEquals(2, roomy.train().size());
    }

    @Test
    void theAlpacaDemoLoadsWithTheStanfordTemplate() {
        Path file = SharedData.file("instruct/alpaca_en_demo/alpaca_en_demo.json");
        FineTuneData data = FineTuneData.load(file.toString(), bytes, 4096);
        assertEquals(file.toString(), data.spec());
        assertEquals(0, data.droppedExamples());
        assertEquals(950, data.train().size());
        assertEquals(999 / 20, data.heldOut().size());

        assertEquals(NO_INPUT_PREAMBLE + "### Instruction:\nDescribe a process of making crepes.\n\n### Response:\n",
                promptText(data.train().getFirst()));
        assertTrue(answerText(data.train().getFirst()).startsWith("Making crepes is an easy and delicious process!"));
        TokenExample withInput = data.train().get(5);
        assertEquals(WITH_INPUT_PREAMBLE + "### Instruction:\nGiven the parameters of a triangle, find out its "
                + "perimeter.\n\n### Input:\nSide 1 = 4\nSide 2 = 6\nSide 3 = 8\n\n### Response:\n",
                promptText(withInput));
        assertTrue(answerText(withInput).startsWith("The perimeter of a triangle is the sum of the lengths"));
        assertTrue(answerText(withInput).endsWith("Therefore, the perimeter of the triangle is 18 units."));
        assertTrue(promptText(data.heldOut().getFirst()).contains(
                "### Instruction:\nAnalyze the quality of this santa-theme song.\n\n### Input:\nDeck the halls"));
    }

    @Test
    void alpacaAnswersSurviveARealBpe() {
        Path file = SharedData.file("instruct/alpaca_en_demo/alpaca_en_demo.json");
        FineTuneData asBytes = FineTuneData.load(file.toString(), bytes, 4096);
        List<String> prompts = asBytes.heldOut().stream().map(FineTuneDataTest::promptText).toList();
        List<String> answers = asBytes.heldOut().stream().map(FineTuneDataTest::answerText).toList();
        List<String> texts = asBytes.train().stream().map(e -> bytes.decode(e.tokens())).toList();
        Tokenizer bpe = new BpeTrainer(1500).train(texts.subList(0, 300)).tokenizer();

        List<TokenExample> heldOut = FineTuneData.load(file.toString(), bpe, 4096).heldOut();
        assertEquals(answers.size(), heldOut.size());
        for (int i = 0; i < heldOut.size(); i++) {
            TokenExample example = heldOut.get(i);
            assertEquals(answers.get(i), bpe.decode(answerTokens(example)));
            assertEquals(prompts.get(i), bpe.decode(Arrays.copyOf(example.tokens(), example.answerStart())));
            assertEquals(bpe.encode(prompts.get(i), true).length, example.answerStart(),
                    "no token spans the end of the prompt");
        }
    }

    @Test
    void badAlpacaFilesNameTheRow() throws IOException {
        assertMessage("row 2 has no \"output\" string.",
                "[{\"instruction\": \"a\", \"output\": \"b\"}, {\"instruction\": \"a\", \"response\": \"b\"}]");
        assertMessage("row 1 has no \"instruction\" string.", "[{\"instruction\": 3, \"output\": \"b\"}]");
        assertMessage("row 3 is not a JSON object.",
                "[{\"instruction\": \"a\", \"output\": \"b\"}, {\"instruction\": \"a\", \"output\": \"b\"}, 7]");
        assertMessage("row 1 has an \"input\" that is not a string.",
                "[{\"instruction\": \"a\", \"input\": [\"x\"], \"output\": \"b\"}]");
        assertMessage("row 1 has an empty \"output\", which leaves nothing to learn.",
                "[{\"instruction\": \"a\", \"output\": \"\"}]");
        assertMessage("is not a JSON array of instruction rows.", "{\"instruction\": \"a\", \"output\": \"b\"}");
        assertMessage("holds no rows.", "[]");

        Path broken = write("broken.json", "[{\"instruction\": \"a\", \"output\": \"b\"},\n{\"instruction\": ]");
        QtaleException e = assertThrows(QtaleException.class, () -> FineTuneData.load(broken.toString(), bytes, 64));
        assertTrue(e.getMessage().startsWith("Alpaca file " + broken + " is not valid JSON: "), e.getMessage());
        assertTrue(e.getMessage().endsWith(".") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void anAlpacaRowWithANullInputHasNoInput() throws IOException {
        Path file = write("null.json", "[{\"instruction\": \"Say hi.\", \"input\": null, \"output\": \"hi\"}]");
        TokenExample example = FineTuneData.load(file.toString(), bytes, 1000).train().getFirst();
        assertEquals(NO_INPUT_PREAMBLE + "### Instruction:\nSay hi.\n\n### Response:\n", promptText(example));
    }

    @Test
    void missingFilesAndBadArgumentsAreExplained() {
        Path json = dir.resolve("absent.json");
        assertEquals("Alpaca file not found: " + json + ".", assertThrows(QtaleException.class,
                () -> FineTuneData.load(json.toString(), bytes, 64)).getMessage());
        Path text = dir.resolve("absent.txt");
        assertEquals("Corpus file not found: " + text + ".", assertThrows(QtaleException.class,
                () -> FineTuneData.load(text.toString(), bytes, 64)).getMessage());
        assertEquals("The fine-tuning data spec is empty; give toyworld, an Alpaca .json file, or a text or .jsonl "
                + "file.", assertThrows(QtaleException.class, () -> FineTuneData.load(" ", bytes, 64)).getMessage());
        assertEquals("Fine-tuning examples need room for at least 2 tokens, got 1.", assertThrows(
                QtaleException.class, () -> FineTuneData.load("toyworld", bytes, 1)).getMessage());
    }

    @Test
    void windowsCoverEveryTokenOfALongDocumentOnce() {
        String document = IntStream.range(0, 40).mapToObj(i -> "the fox lives in the cave number " + i)
                .reduce((a, b) -> a + ". " + b).orElseThrow();
        int[] tokens = toyBpe.encode(document, true);
        int maxTokens = 16;
        assertTrue(tokens.length > 5 * maxTokens);
        List<TokenExample> windows = FineTuneData.windows(toyBpe, document, maxTokens);

        int[] covered = new int[0];
        for (int i = 0; i < windows.size(); i++) {
            TokenExample window = windows.get(i);
            assertEquals(toyBpe.bos(), window.tokens()[0]);
            assertEquals(1, window.answerStart());
            assertTrue(i == windows.size() - 1 ? window.length() <= maxTokens : window.length() == maxTokens);
            int[] body = answerTokens(window);
            covered = IntStream.concat(Arrays.stream(covered), Arrays.stream(body)).toArray();
        }
        assertArrayEquals(Arrays.copyOfRange(tokens, 1, tokens.length), covered);
        assertEquals((tokens.length - 1 + maxTokens - 2) / (maxTokens - 1), windows.size());

        assertEquals(1, FineTuneData.windows(toyBpe, "the fox", maxTokens).size(), "a short document is one window");
    }

    @Test
    void textAndJsonlFilesAreDocumentsTrainedOnWhole() throws IOException {
        List<String> documents = IntStream.range(0, 21).mapToObj(i -> "document " + i + " is here").toList();
        Path text = write("docs.txt", String.join("\n\n", documents));
        FineTuneData data = FineTuneData.load(text.toString(), bytes, 8);
        assertEquals(text.toString(), data.spec());
        assertEquals(0, data.droppedExamples());
        // each document is 18 or 19 bytes: with BOS and 7 bytes per window, 3 windows each
        assertEquals(20 * 3, data.train().size());
        assertEquals(3, data.heldOut().size());
        assertEquals("document 20 is here", String.join("", data.heldOut().stream()
                .map(e -> bytes.decode(e.tokens())).toList()));
        data.train().forEach(e -> assertEquals(1, e.answerStart()));

        Path jsonl = write("docs.jsonl", "{\"text\": \"first\"}\n{\"text\": \"second\"}\n");
        FineTuneData fromJsonl = FineTuneData.load(jsonl.toString(), bytes, 64);
        assertEquals(List.of("first"), fromJsonl.train().stream().map(e -> bytes.decode(e.tokens())).toList());
        assertEquals(List.of("second"), fromJsonl.heldOut().stream().map(e -> bytes.decode(e.tokens())).toList());
    }

    private static void assertMatches(List<QaExample> expected, List<TokenExample> actual, Tokenizer tokenizer) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            TokenExample example = actual.get(i);
            assertEquals(tokenizer.bos(), example.tokens()[0]);
            assertEquals(expected.get(i).text(), tokenizer.decode(example.tokens()));
            assertEquals(expected.get(i).answer(), tokenizer.decode(answerTokens(example)));
        }
    }

    private void assertMessage(String expectedEnd, String json) throws IOException {
        Path file = write("rows.json", json);
        QtaleException e = assertThrows(QtaleException.class, () -> FineTuneData.load(file.toString(), bytes, 64));
        assertEquals("Alpaca file " + file + " " + expectedEnd, e.getMessage());
    }

    private static int[] answerTokens(TokenExample example) {
        return Arrays.copyOfRange(example.tokens(), example.answerStart(), example.length());
    }

    private static String promptText(TokenExample example) {
        return bytes.decode(Arrays.copyOf(example.tokens(), example.answerStart()));
    }

    private static String answerText(TokenExample example) {
        return bytes.decode(answerTokens(example));
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
