package org.qtale.train.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qtale.format.ModelLoader;
import org.qtale.model.LlamaModel;
import org.qtale.testing.SharedData;

/** Pretraining on real text from shared data, end to end: a tokenizer trained on it, falling loss, a loadable model. */
class WikiTextPretrainTest {
    @Test
    void lossFallsAndTheModelLoads(@TempDir Path dir) {
        Path wiki = SharedData.file("corpora/wikitext-2-raw/wiki.test.raw");
        Path out = dir.resolve("wiki-model");
        PretrainSettings settings = PretrainSettings.defaults(40, 4, 64, 1e-2f, 3).withEvaluation(40, 8);
        PretrainJob.Outcome outcome = PretrainJob.run(new PretrainJob.Request(wiki.toString(), null, 1024, "tiny",
                settings, out, false, null, 2), new PretrainJob.Reporter() { });
        PretrainResult r = outcome.result();
        assertTrue(r.finalLoss() < r.firstLoss() - 0.5, r.firstLoss() + " -> " + r.finalLoss());
        assertTrue(Double.isFinite(r.finalHeldOut().perplexity()));
        assertTrue(r.finalHeldOut().perplexity() < Math.exp(r.firstLoss()), "held-out perplexity below the start");
        assertNull(outcome.questions(), "no multiple-choice questions on a text file");
        assertEquals(1024, outcome.config().vocabSize());
        assertTrue(Files.isRegularFile(out.resolve(PretrainJob.SUMMARY_FILE)));
        try (LlamaModel model = ModelLoader.loadModel(out)) {
            assertEquals(4, model.config().nLayers());
        }
    }
}
