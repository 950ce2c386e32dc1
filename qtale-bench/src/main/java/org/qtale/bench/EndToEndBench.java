package org.qtale.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.qtale.model.GenerationResult;
import org.qtale.model.GenerationSettings;
import org.qtale.model.Generator;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.Router;
import org.qtale.adaptive.RouterConfig;
import org.qtale.adaptive.RouterSet;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaConfig;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.DType;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;

/**
 * Prefill and decode speed of a random-weight model of a real shape, beside the machine's memory bandwidth measured in
 * the same run: decode reads every weight once per token, so bandwidth / bytes per token bounds its rate.
 */
public final class EndToEndBench {
    /** What to measure. */
    public record Plan(String shape, List<DType> dtypes, int promptTokens, int genTokens, List<Integer> threads,
            int prefillBatch, int repeats, long bandwidthBytes, List<Double> executionRatios) {
        public Plan(String shape, List<DType> dtypes, int promptTokens, int genTokens, List<Integer> threads,
                int prefillBatch, int repeats, long bandwidthBytes) {
            this(shape, dtypes, promptTokens, genTokens, threads, prefillBatch, repeats, bandwidthBytes, List.of());
        }
    }

    /** One measured configuration. */
    /**
     * @param executionRatio the forced share of routed layers that run, or NaN for the dense model (no routers)
     * @param bytesPerToken  bytes of weights one decoded token reads (with routers: the expected bytes at that ratio)
     */
    public record Result(String shape, DType dtype, int threads, int promptTokens, int genTokens, double prefillTokensPerS,
            double decodeTokensPerS, long bytesPerToken, double bandwidthBytesPerS, double executionRatio) {

        Result withBandwidth(double bytesPerS) {
            return new Result(shape, dtype, threads, promptTokens, genTokens, prefillTokensPerS, decodeTokensPerS,
                    bytesPerToken, bytesPerS, executionRatio);
        }

        public boolean dense() {
            return Double.isNaN(executionRatio);
        }

        public double effectiveBytesPerS() {
            return decodeTokensPerS * bytesPerToken;
        }

        public double boundTokensPerS() {
            return bandwidthBytesPerS / bytesPerToken;
        }

        public double fractionOfBound() {
            return decodeTokensPerS / boundTokensPerS();
        }
    }

    private EndToEndBench() {
    }

    public static List<Result> run(Plan plan, Consumer<String> log) {
        LlamaConfig config = ModelShapes.get(plan.shape()).withContextLength(
                Math.max(ModelShapes.get(plan.shape()).contextLength(), plan.promptTokens() + plan.genTokens() + 1));
        List<Result> results = new ArrayList<>();
        for (int threads : plan.threads()) {
            try (Parallel parallel = new Parallel(threads)) {
                // the machine is shared: measure the bandwidth before and after the runs and keep the best
                log.accept("measuring memory read bandwidth with " + threads + " thread(s)");
                double before = MemoryBandwidth.measure(parallel, plan.bandwidthBytes(), 8);
                List<Result> measured = new ArrayList<>();
                for (DType dtype : plan.dtypes()) {
                    log.accept("building " + plan.shape() + " with random " + dtype + " weights");
                    try (LlamaModel model = RandomModels.build(config, dtype, 1234, parallel)) {
                        measured.add(measure(plan, model, parallel, dtype, Double.NaN, log));
                        for (double ratio : plan.executionRatios()) {
                            // the same weights behind D-LLM routers, forced to run a share `ratio` of routed layers
                            RouterSet routers = RouterSet.initial(config, RouterConfig.defaults(config.dim()));
                            LlamaModel routed = new LlamaModel(config, model.weights(), null, routers);
                            measured.add(measure(plan, routed, parallel, dtype, ratio, log));
                        }
                    }
                }
                log.accept("measuring memory read bandwidth again");
                double bandwidth = Math.max(before, MemoryBandwidth.measure(parallel, plan.bandwidthBytes(), 8));
                for (Result r : measured) {
                    results.add(r.withBandwidth(bandwidth));
                }
            }
        }
        return results;
    }

    private static Result measure(Plan plan, LlamaModel model, Parallel parallel, DType dtype, double ratio,
            Consumer<String> log) {
        String what = dtype + (Double.isNaN(ratio) ? "" : ", execution ratio " + ratio);
        int[] prompt = randomPrompt(model.config().vocabSize(), plan.promptTokens());
        // the JIT keeps improving the kernels for a while: two full warm-up passes before anything is measured
        for (int pass = 1; pass <= 2; pass++) {
            log.accept("warming up (" + what + ", " + parallel.threads() + " threads), pass " + pass + "/2");
            generate(model, parallel, plan, prompt, Math.min(16, plan.genTokens()), ratio);
        }
        double prefill = 0;
        double decode = 0;
        for (int r = 0; r < plan.repeats(); r++) {
            log.accept("run " + (r + 1) + "/" + plan.repeats() + ": prefill " + prompt.length + " tokens, decode "
                    + plan.genTokens());
            GenerationResult g = generate(model, parallel, plan, prompt, plan.genTokens(), ratio);
            prefill = Math.max(prefill, g.prefillTokensPerSecond());
            decode = Math.max(decode, g.decodeTokensPerSecond());
        }
        return new Result(plan.shape(), dtype, parallel.threads(), prompt.length, plan.genTokens(), prefill, decode,
                bytesPerToken(model, ratio), Double.NaN, ratio);
    }

    /**
     * Weight bytes one decoded token reads: everything but the embedding table (one row of it); with routers, the
     * always-run layers, every router, and the given share of the routed layers.
     */
    static long bytesPerToken(LlamaModel model, double ratio) {
        long dense = model.weights().bytesReadPerToken();
        if (Double.isNaN(ratio)) {
            return dense;
        }
        RouterSet routers = model.routers();
        long routedLayers = 0;
        long routerBytes = 0;
        for (int l = 0; l < model.config().nLayers(); l++) {
            if (routers.router(l) != null) {
                routedLayers += model.weights().layers().get(l).byteSize();
                Router r = routers.router(l);
                routerBytes += 4L * (r.w1().length + r.b1().length + r.norm().length + r.w2().length + r.b2().length);
            }
        }
        return Math.round(dense - routedLayers + ratio * routedLayers + routerBytes);
    }

    private static GenerationResult generate(LlamaModel model, Parallel parallel, Plan plan, int[] prompt, int gen,
            double ratio) {
        InferenceState state = model.newState(parallel, prompt.length + gen, plan.prefillBatch());
        if (!Double.isNaN(ratio)) {
            state.setPolicy(new ExecutionPolicy.Forced(ratio));
        }
        return Generator.generate(model, state, SilentTokenizer.of(model.config().vocabSize()), prompt,
                GenerationSettings.greedy(gen, Set.of()), (id, text) -> { });
    }

    private static int[] randomPrompt(int vocab, int n) {
        Random random = new Random(7);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return ids;
    }

    /** Random-weight models have no vocabulary; generated ids map to no text. */
    private record SilentTokenizer(int vocabSize) implements Tokenizer {
        static SilentTokenizer of(int vocab) {
            return new SilentTokenizer(vocab);
        }

        @Override
        public int[] encode(String text, boolean addBos) {
            throw new UnsupportedOperationException("random-weight models have no vocabulary");
        }

        @Override
        public byte[] tokenBytes(int token, int previous) {
            return new byte[0];
        }

        @Override
        public int bos() {
            return -1;
        }

        @Override
        public int eos() {
            return -1;
        }

        @Override
        public Set<Integer> stopTokens() {
            return Set.of();
        }

        @Override
        public String piece(int token) {
            return "#" + token;
        }
    }
}
