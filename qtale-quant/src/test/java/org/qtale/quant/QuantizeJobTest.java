package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qtale.QtaleException;
import org.qtale.format.HfCheckpoint;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaModel;
import org.qtale.quant.calib.CalibrationSet;
import org.qtale.tensor.Parallel;
import org.qtale.testing.SharedData;

/**
 * Whole quantization runs on a small model pretrained here on WikiText-style text (the tiny shape: 4 layers, widths
 * 64 and 192, which the GPTQ layout's 32-bit words can pack; the shared 260K checkpoints' 172-wide MLP cannot be):
 * what they write loads back and computes what the job measured.
 */
class QuantizeJobTest {
    @TempDir
    static Path dir;
    static Path base;
    static final String CALIB = SharedData.file("corpora/wiki_demo/wiki_demo.txt").toString();

    @BeforeAll
    static void writeBase() throws Exception {
        base = dir.resolve("base");
        java.util.List<String> documents = org.qtale.train.corpus.CorpusSpec.parse(CALIB).load().train();
        var trained = new org.qtale.train.tokenizer.BpeTrainer(512).train(documents);
        var stream = org.qtale.train.pretrain.TokenDataset.encode(trained.tokenizer(), documents, documents.subList(0, 1));
        var config = org.qtale.train.TrainShapes.get("tiny").config(trained.tokenizer().vocabSize());
        var params = org.qtale.train.nn.LlamaParameters.initialize(config, 1);
        try (Parallel parallel = new Parallel(2)) {
            new org.qtale.train.pretrain.Pretrainer(params, stream,
                    org.qtale.train.pretrain.PretrainSettings.defaults(150, 8, 64, 1e-2f, 1), parallel)
                    .run(null, new org.qtale.train.pretrain.PretrainListener() {
                    });
        }
        org.qtale.format.HfCheckpointWriter.write(config, params.toWeights(), base,
                org.qtale.format.HfCheckpointWriter.Options.of(org.qtale.tensor.DType.F32));
        trained.write(base);
    }

    @ParameterizedTest
    @CsvSource({"RTN, 4", "AWQ, 4", "AWQ, 3", "GPTQ, 3", "MAGR_GPTQ, 2"})
    void theWrittenModelComputesWhatTheJobMeasured(QuantizeJob.Method method, int bits) {
        Path out = dir.resolve(method + "-" + bits);
        QuantizeJob.Request request = new QuantizeJob.Request(base, method, bits, 32, CALIB, 8, 64, 0, out, false, 2, 8);
        QuantizeJob.Outcome outcome = QuantizeJob.run(request, new QuantizeJob.Reporter() {
        });
        assertTrue(Files.isRegularFile(out.resolve("config.json")));
        assertTrue(outcome.after().perplexity() >= outcome.before().perplexity() * 0.98,
                "quantization does not help: " + outcome.before() + " -> " + outcome.after());
        assertTrue(outcome.after().perplexity() < outcome.before().perplexity() * (bits == 2 ? 3 : 1.5),
                outcome.before() + " -> " + outcome.after());
        assertEquals(loadedLayers(out), outcome.layers().size());
        try (LlamaModel loaded = HfCheckpoint.load(out); Parallel parallel = new Parallel(2)) {
            CalibrationSet calibration = CalibrationSet.load(CALIB, TokenizerFiles.open(out, null,
                    loaded.config().vocabSize()), 8, 64, 0);
            Perplexity.Result reloaded = Perplexity.heldOut(loaded, calibration.stream(), 64, 8, parallel);
            assertEquals(outcome.after().loss(), reloaded.loss(), 1e-4, "the checkpoint runs as the job measured");
            assertTrue(loaded.weights().byteSize() < outcome.bytesBefore());
        }
    }

    /**
     * A model whose q and k rows are in the interleaved order (as llama2.c checkpoints hold them) is written in Hugging
     * Face's order: the written checkpoint computes what the quantized model computed in memory.
     */
    @org.junit.jupiter.api.Test
    void interleavedRowsAreWrittenInHuggingFaceOrder() {
        Path out = dir.resolve("interleaved");
        try (LlamaModel hf = HfCheckpoint.load(base); Parallel parallel = new Parallel(2)) {
            var params = org.qtale.train.nn.LlamaParameters.copyOf(hf.config(), hf.weights());
            try (LlamaModel interleaved = new LlamaModel(hf.config(), params.toWeights(), null)) {
                org.junit.jupiter.api.Assertions.assertFalse(interleaved.weights().qkHalfSplit());
                CalibrationSet calibration = CalibrationSet.load(CALIB, TokenizerFiles.open(base, null,
                        hf.config().vocabSize()), 4, 64, 0);
                var layers = LayerwiseQuantization.run(interleaved, calibration,
                        QuantizationMethods.of(QuantizeJob.Method.RTN, 4, 32), parallel, (l, n, r, s) -> { });
                QuantizeJob.Request request = new QuantizeJob.Request(base, QuantizeJob.Method.RTN, 4, 32, CALIB, 4, 64, 0,
                        out, false, 2, 0);
                QuantizedCheckpoint.write(request, interleaved, layers, out, line -> { });
                try (LlamaModel inMemory = new LlamaModel(hf.config(), QuantizedCheckpoint.weights(interleaved.weights(),
                        layers), null); LlamaModel loaded = HfCheckpoint.load(out)) {
                    double expected = Perplexity.heldOut(inMemory, calibration.stream(), 64, 4, parallel).loss();
                    double actual = Perplexity.heldOut(loaded, calibration.stream(), 64, 4, parallel).loss();
                    assertEquals(expected, actual, 1e-4);
                }
            }
        }
    }

    private static int loadedLayers(Path model) {
        try (LlamaModel loaded = HfCheckpoint.load(model)) {
            return loaded.config().nLayers();
        }
    }

    @ParameterizedTest
    @CsvSource({"7", "-3"})
    void badSettingsAreOneSentence(int groupSize) {
        QuantizeJob.Request request = new QuantizeJob.Request(base, QuantizeJob.Method.RTN, 4, groupSize, CALIB, 2, 16, 0,
                dir.resolve("never"), false, 1, 0);
        QtaleException e = assertThrows(QtaleException.class, () -> QuantizeJob.run(request, new QuantizeJob.Reporter() {
        }));
        assertTrue(e.getMessage().contains("group"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("never")));
    }

    /**
     * Without an output directory the job only measures, so a shared checkpoint whose 172-wide MLP no packed layout
     * holds still gets its perplexities (one group per row, since no group size divides both of its widths).
     */
    @org.junit.jupiter.api.Test
    void aSharedCheckpointIsMeasuredWithoutWriting() {
        Path model = SharedData.file("models/aidreams260K/aidreams260K.bin");
        // short documents: the llama2.c tokenizer's merges are quadratic in a document's length
        QuantizeJob.Request request = new QuantizeJob.Request(model, QuantizeJob.Method.GPTQ, 4, -1,
                "toyworld:docs=300,heldout=60", 8, 64, 0, null, false, 2, 8);
        QuantizeJob.Outcome outcome = QuantizeJob.run(request, new QuantizeJob.Reporter() {
        });
        assertNull(outcome.out());
        assertEquals(4, outcome.layers().size());
        // on text it was not trained on, quantization noise may lower the model's perplexity as well as raise it
        double ratio = outcome.after().perplexity() / outcome.before().perplexity();
        assertTrue(ratio > 0.8 && ratio < 1.25, outcome.before() + " -> " + outcome.after());
        for (QuantizeJob.LayerReport layer : outcome.layers()) {
            for (double error : layer.relativeErrors()) {
                assertTrue(error > 0 && error < 0.05, "4-bit GPTQ relative error " + error);
            }
        }
        assertTrue(outcome.bytesAfter() < outcome.bytesBefore());
    }

    @org.junit.jupiter.api.Test
    void unsupportedBitsAreRefusedBeforeAnyWork() {
        QuantizeJob.Request request = new QuantizeJob.Request(base, QuantizeJob.Method.GPTQ, 5, 32, CALIB, 2, 16, 0,
                dir.resolve("never5"), false, 1, 0);
        QtaleException e = assertThrows(QtaleException.class, () -> QuantizeJob.run(request, new QuantizeJob.Reporter() {
        }));
        assertEquals("--bits must be 2, 3, 4 or 8, got 5.", e.getMessage());
    }
}
