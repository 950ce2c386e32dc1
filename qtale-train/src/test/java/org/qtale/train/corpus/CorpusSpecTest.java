package org.qtale.train.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.QtaleException;
import org.qtale.testing.SharedData;

class CorpusSpecTest {
    @TempDir
    Path dir;

    @Test
    void toyworldAloneMeansTheDefaults() {
        CorpusSpec spec = CorpusSpec.parse("toyworld");
        assertEquals(CorpusSpec.ToyWorldSpec.defaults(), spec);
        assertEquals("toyworld:seed=1,docs=20000,heldout=1000", spec.spec());
        assertEquals(spec, CorpusSpec.parse("toyworld:"));
    }

    @Test
    void toyworldParametersChooseSeedSizesAndFamilies() {
        CorpusSpec spec = CorpusSpec.parse("toyworld:seed=7,docs=50,heldout=14,families=recall+arith");
        assertEquals(new CorpusSpec.ToyWorldSpec(7, 50, 14, List.of("recall", "arith")), spec);
        assertEquals("toyworld:seed=7,docs=50,heldout=14,families=recall+arith", spec.spec());
        assertEquals(spec, CorpusSpec.parse(spec.spec()));
        assertEquals(new CorpusSpec.ToyWorldSpec(-3, 20000, 0, ToyWorld.families()),
                CorpusSpec.parse("toyworld:heldout=0, seed=-3"));

        Corpus corpus = spec.load();
        assertEquals(spec.spec(), corpus.name());
        assertEquals(ToyWorld.documents(7, 50, List.of("recall", "arith")), corpus.train());
        assertEquals(14, corpus.heldOut().size());
        Set<String> shared = new HashSet<>(corpus.train());
        shared.retainAll(corpus.heldOut());
        assertTrue(shared.isEmpty());
    }

    @Test
    void badToyworldParametersAreExplained() {
        assertMessage("Unknown toyworld parameter 'size'; the parameters are seed, docs, heldout and families.",
                "toyworld:size=3");
        assertMessage("The toyworld parameter 'seed' is not of the form name=value.", "toyworld:seed");
        assertMessage("The toyworld parameter '' is not of the form name=value.", "toyworld:seed=1,");
        assertMessage("The toyworld parameter seed is given twice.", "toyworld:seed=1,seed=2");
        assertMessage("The toyworld parameter seed must be a whole number, not 'abc'.", "toyworld:seed=abc");
        assertMessage("The toyworld parameter docs must be a whole number from 1 to 2147483647, not '0'.",
                "toyworld:docs=0");
        assertMessage("The toyworld parameter heldout must be a whole number from 0 to 2147483647, not '9999999999'.",
                "toyworld:heldout=9999999999");
        assertMessage("Unknown toyworld family 'poems'; the families are recall, track, compare, order, count, "
                + "arith, knowledge.", "toyworld:families=recall+poems");
        assertMessage("The corpus spec is empty; give toyworld or the path of a text or .jsonl file.", " ");
    }

    @Test
    void otherSpecsArePathsWhoseExtensionPicksTheFormat() {
        assertEquals(new CorpusSpec.JsonlFile(Path.of("data/c4.jsonl")), CorpusSpec.parse("data/c4.jsonl"));
        assertInstanceOf(CorpusSpec.JsonlFile.class, CorpusSpec.parse("C4.JSONL"));
        assertEquals(new CorpusSpec.TextFile(Path.of("wiki.test.raw")), CorpusSpec.parse("wiki.test.raw"));
        assertEquals(new CorpusSpec.TextFile(Path.of("./toyworld")), CorpusSpec.parse("./toyworld"));
        assertEquals("data/c4.jsonl", CorpusSpec.parse("data/c4.jsonl").spec());
    }

    @Test
    void plainTextDocumentsAreSeparatedByBlankLines() throws IOException {
        Path file = write("notes.txt", "\uFEFFfirst document\r\nits second line\r\n\r\n\r\n second\n   \nthird\n\n");
        Corpus corpus = CorpusSpec.parse(file.toString()).load();
        assertEquals(file.toString(), corpus.name());
        assertEquals(List.of("first document\nits second line", " second"), corpus.train());
        assertEquals(List.of("third"), corpus.heldOut());
    }

    @Test
    void plainTextWithoutBlankLinesHasOneDocumentPerLine() throws IOException {
        Path file = write("lines.txt", "one\r\ntwo\r\nthree\r\n");
        assertEquals(List.of("one", "two"), CorpusSpec.parse(file.toString()).load().train());
    }

    @Test
    void theLastTwentiethOfAFileIsHeldOut() throws IOException {
        List<String> docs = IntStream.range(0, 45).mapToObj(i -> "document " + i).toList();
        Corpus corpus = CorpusSpec.parse(write("many.txt", String.join("\n\n", docs)).toString()).load();
        assertEquals(docs.subList(0, 43), corpus.train());
        assertEquals(docs.subList(43, 45), corpus.heldOut());

        Corpus single = CorpusSpec.parse(write("one.txt", "just this\n").toString()).load();
        assertEquals(List.of("just this"), single.train());
        assertTrue(single.heldOut().isEmpty());
    }

    @Test
    void jsonlDocumentsAreTheTextFields() throws IOException {
        Path file = write("docs.jsonl", """
                {"text": "first\\nwith a line break"}

                {"id": 2, "text": "second"}
                {"text": "   "}
                {"text": "third", "meta": {"source": "x"}}
                """);
        Corpus corpus = CorpusSpec.parse(file.toString()).load();
        assertEquals(List.of("first\nwith a line break", "second"), corpus.train());
        assertEquals(List.of("third"), corpus.heldOut());
    }

    @Test
    void aMalformedJsonlLineIsNamedWithFileAndLine() throws IOException {
        Path file = write("bad.jsonl", "{\"text\": \"fine\"}\n{\"text\": \"no end}\n{\"text\": \"fine\"}\n");
        QtaleException e = assertThrows(QtaleException.class, () -> CorpusSpec.parse(file.toString()).load());
        assertTrue(e.getMessage().startsWith(file + " line 2 is not valid JSON: "), e.getMessage());
        assertTrue(e.getMessage().endsWith(".") && !e.getMessage().contains("\n"), e.getMessage());

        Path trailing = write("trailing.jsonl", "{\"text\": \"a\"} {\"text\": \"b\"}\n");
        assertTrue(assertThrows(QtaleException.class, () -> CorpusSpec.parse(trailing.toString()).load())
                .getMessage().startsWith(trailing + " line 1 is not valid JSON: "));
    }

    @Test
    void aJsonlLineWithoutTextIsNamedWithFileAndLine() throws IOException {
        for (String line : List.of("{\"body\": \"x\"}", "{\"text\": 3}", "[\"text\"]", "null")) {
            Path file = write("missing.jsonl", "{\"text\": \"fine\"}\n\n" + line + "\n");
            assertMessage(file + " line 3 has no \"text\" string.", file.toString());
        }
    }

    @Test
    void unreadableFilesAreExplained() throws IOException {
        Path missing = dir.resolve("absent.txt");
        assertMessage("Corpus file not found: " + missing + ".", missing.toString());
        assertMessage("Corpus file not found: tinystories; the built-in corpus is toyworld.", "tinystories");
        Path empty = write("empty.jsonl", "\n\n");
        assertMessage("Corpus file " + empty + " holds no documents.", empty.toString());
        Path binary = dir.resolve("binary.txt");
        Files.write(binary, new byte[] {'o', 'k', '\n', (byte) 0xff, (byte) 0xfe, '\n'});
        assertTrue(assertThrows(QtaleException.class, () -> CorpusSpec.parse(binary.toString()).load())
                .getMessage().startsWith("Corpus file " + binary + " is not UTF-8 text"));
    }

    @Test
    void wikiText2LoadsOneDocumentPerLine() {
        Path file = SharedData.file("corpora/wikitext-2-raw/wiki.test.raw");
        Corpus corpus = CorpusSpec.parse(file.toString()).load();
        assertEquals(2891, corpus.train().size() + corpus.heldOut().size());
        assertEquals(2891 / 20, corpus.heldOut().size());
        assertTrue(corpus.train().getFirst().startsWith(" = Robert Boulter = "), corpus.train().getFirst());
        assertTrue(corpus.train().get(1).startsWith(" Robert Boulter is an English film , television"));
        assertFalse(corpus.train().stream().anyMatch(doc -> doc.contains("\r") || doc.contains("\n")));
    }

    @Test
    void c4DemoLoadsAsJsonl() {
        Path file = SharedData.file("corpora/c4_demo/c4_demo.jsonl");
        Corpus corpus = CorpusSpec.parse(file.toString()).load();
        assertEquals(285, corpus.train().size());
        assertEquals(15, corpus.heldOut().size());
        assertTrue(corpus.train().getFirst().startsWith("Don’t think you need all the bells and whistles?"));
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static void assertMessage(String expected, String spec) {
        QtaleException e = assertThrows(QtaleException.class, () -> CorpusSpec.parse(spec).load());
        assertEquals(expected, e.getMessage());
    }
}
