package org.qtale.quant;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.qtale.QtaleException;
import org.qtale.format.ModelLoader;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.model.LlamaWeights;
import org.qtale.quant.calib.CalibrationSet;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.OutputDirectory;

/**
 * A whole post-training quantization as {@code qtale quantize} asks for it: load the model and the calibration
 * windows, quantize layer by layer with the chosen method, measure held-out perplexity before and after, and write
 * the quantized model directory.
 */
public final class QuantizeJob {
    /** The methods, by their command-line names. */
    public enum Method {
        RTN("rtn"), AWQ("awq"), GPTQ("gptq"), MAGR_GPTQ("magr-gptq");

        private final String cliName;

        Method(String cliName) {
            this.cliName = cliName;
        }

        public String cliName() {
            return cliName;
        }

        public static Method parse(String name) {
            for (Method m : values()) {
                if (m.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                    return m;
                }
            }
            throw new QtaleException("Unknown quantization method '" + name + "'; use rtn, awq, gptq or magr-gptq.");
        }
    }

    /**
     * What to run. {@code evalWindows} held-out windows of {@code calibLength} tokens of the calibration corpus are
     * scored before and after (0 skips it). A null {@code out} writes nothing: the quantized model is only measured,
     * which also serves shapes the packed checkpoint layouts cannot hold.
     */
    public record Request(Path model, Method method, int bits, int groupSize, String calibration, int calibSamples,
            int calibLength, long seed, Path out, boolean overwrite, int threads, int evalWindows) {
    }

    /** One layer's report. */
    public record LayerReport(int layer, double[] relativeErrors, String detail, double seconds) {
    }

    public record Outcome(LlamaConfig config, Request request, int calibLength, double seconds, long bytesBefore,
            long bytesAfter, Perplexity.Result before, Perplexity.Result after, List<LayerReport> layers, Path out) {
    }

    public interface Reporter {
        default void log(String line) {
        }

        default void onLayer(LayerReport report, int layers) {
        }
    }

    private QuantizeJob() {
    }

    public static Outcome run(Request request, Reporter reporter) {
        Path out = request.out() == null ? null : request.out().toAbsolutePath().normalize();
        if (out != null) {
            OutputDirectory.check(out, request.overwrite());
        }
        if (!GptqLayout.supportsBits(request.bits())) {
            throw new QtaleException("--bits must be 2, 3, 4 or 8, got " + request.bits() + ".");
        }
        long begin = System.nanoTime();
        try (LlamaModel model = ModelLoader.loadModel(request.model()); Parallel parallel = new Parallel(request.threads())) {
            LlamaConfig config = model.config();
            checkGroups(config, request.groupSize());
            if (out != null) {
                checkLayout(config, request);
            }
            Tokenizer tokenizer = TokenizerFiles.open(request.model(), null, config.vocabSize());
            int length = Math.min(request.calibLength(), config.contextLength());
            CalibrationSet calibration = CalibrationSet.load(request.calibration(), tokenizer, request.calibSamples(),
                    length, request.seed());
            reporter.log(String.format(Locale.ROOT, "calibration: %d windows of %d tokens from %s", request.calibSamples(),
                    length, calibration.spec()));
            if (request.evalWindows() > 0 && calibration.stream().heldOutWindows(length, 1) == 0) {
                throw new QtaleException("The held-out part of " + calibration.spec() + " is shorter than one window of "
                        + length + " tokens; pass --eval-windows 0 or a longer calibration text.");
            }
            Perplexity.Result before = request.evalWindows() > 0
                    ? Perplexity.heldOut(model, calibration.stream(), length, request.evalWindows(), parallel) : null;
            LayerwiseQuantization.LayerMethod method = QuantizationMethods.of(request.method(), request.bits(),
                    request.groupSize());
            List<QuantizedLayer> layers = new java.util.ArrayList<>();
            List<LayerReport> reports = new java.util.ArrayList<>();
            layers.addAll(LayerwiseQuantization.run(model, calibration, method, parallel, (l, n, result, seconds) -> {
                LayerReport report = new LayerReport(l, result.relativeErrors(), result.detail(), seconds);
                reports.add(report);
                reporter.onLayer(report, n);
            }));
            LlamaWeights quantized = QuantizedCheckpoint.weights(model.weights(), layers);
            Perplexity.Result after = null;
            if (request.evalWindows() > 0) {
                try (LlamaModel q = new LlamaModel(config, quantized, null, model.routers())) {
                    after = Perplexity.heldOut(q, calibration.stream(), length, request.evalWindows(), parallel);
                }
            }
            if (out != null) {
                QuantizedCheckpoint.write(request, model, layers, out, reporter::log);
            }
            return new Outcome(config, request, length, (System.nanoTime() - begin) / 1e9, model.weights().byteSize(),
                    quantized.byteSize(), before, after, reports, out);
        }
    }

    /**
     * The packed checkpoint layouts need whole 32-bit words: GPTQ packs inputs and outputs in multiples of
     * {@code 32 / gcd(32, bits)}, AWQ's GEMM layout outputs in multiples of 8. Checked before any work.
     */
    private static void checkLayout(LlamaConfig config, Request request) {
        int multiple = 32 / gcd(32, request.bits());
        boolean awq = request.method() == Method.AWQ && request.bits() == 4;
        int[][] shapes = {{config.qDim(), config.dim()}, {config.kvDim(), config.dim()}, {config.dim(), config.qDim()},
            {config.hiddenDim(), config.dim()}, {config.dim(), config.hiddenDim()}};
        for (int[] shape : shapes) {
            boolean fits = awq ? shape[0] % 8 == 0 : shape[0] % multiple == 0 && shape[1] % multiple == 0;
            if (!fits) {
                throw new QtaleException("A " + shape[0] + "x" + shape[1] + " projection cannot be stored in the "
                        + (awq ? "AWQ" : "GPTQ") + " layout at " + request.bits() + " bits, which packs "
                        + (awq ? "outputs in multiples of 8" : "rows and columns in multiples of " + multiple) + ".");
            }
        }
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Refuses a group size that is not positive (or -1) or does not divide every input width of the model. */
    public static void checkGroups(LlamaConfig config, int groupSize) {
        if (groupSize == 0 || groupSize < -1) {
            throw new QtaleException("--group-size must be positive, or -1 for one group per row; got " + groupSize + ".");
        }
        for (int cols : new int[] {config.dim(), config.qDim(), config.hiddenDim()}) {
            if (groupSize > 0 && cols % groupSize != 0) {
                throw new QtaleException("--group-size " + groupSize + " does not divide the model's input width " + cols
                        + "; use a divisor (such as 32 or 64) or -1 for one group per row.");
            }
        }
    }
}
