package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.model.GenerationResult;
import org.qtale.model.GenerationSettings;
import org.qtale.model.Generator;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.HfTokenizer;
import org.qtale.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generates text from a prompt, streaming it to stdout.")
final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ThreadOptions threadOptions;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "", description = "The prompt (encoded with BOS).")
    String prompt;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0", description = "Sampling temperature; 0 is greedy (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.9", description = "Nucleus sampling mass in (0, 1]; 1 turns it off (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample among the K most likely tokens; 0 turns it off (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: from the clock; printed in the summary).")
    Long seed;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Prompt tokens per prefill batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--chat", description = "Wrap the prompt as a user message in the tokenizer's chat format (Llama 3).")
    boolean chat;

    @Option(names = "--json", description = "Print one JSON object instead of streaming text.")
    boolean json;

    @Option(names = "--show-layers", description = "With routers: after the text, show how many layers ran for each generated token (in colour on a terminal).")
    boolean showLayers;

    @Option(names = "--threshold", paramLabel = "θ",
            description = "With routers: a routed layer runs iff p_exec >= θ (default: the checkpoint's, 0.5 is D-LLM's argmax).")
    Float threshold;

    @Override
    public Integer call() {
        validate();
        long actualSeed = seed != null ? seed : System.nanoTime();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LlamaModel model = modelOptions.openModel(); Parallel parallel = threadOptions.parallel()) {
            Tokenizer tokenizer = modelOptions.openTokenizer(model);
            int[] promptTokens = tokenizer.encode(chat ? chatPrompt(tokenizer) : prompt, true);
            int context = model.config().contextLength();
            if (promptTokens.length >= context) {
                throw new QtaleException("The prompt has " + promptTokens.length + " tokens but the model's context is "
                        + context + " tokens, which leaves no room to generate.");
            }
            int capacity = (int) Math.min(context, (long) promptTokens.length + maxTokens);
            InferenceState state = model.newState(parallel, Math.max(capacity, 1), batch);
            if (threshold != null) {
                state.setPolicy(ExecutionPolicy.threshold(threshold));
            }
            GenerationSettings settings = new GenerationSettings(maxTokens, temperature, topP, topK, actualSeed,
                    tokenizer.stopTokens());
            GenerationResult result = Generator.generate(model, state, tokenizer, promptTokens, settings, (id, text) -> {
                if (!json) {
                    out.print(text);
                    out.flush();
                }
            });
            if (json) {
                ObjectNode report = toJson(result, actualSeed);
                // a model without routers runs dense: every layer for every token
                boolean routed = state.trace() != null;
                report.put("execution_ratio", routed ? state.trace().executionRatio(false) : 1.0);
                report.put("routed_execution_ratio", routed ? state.trace().executionRatio(true) : 1.0);
                report.put("flops_ratio", routed ? state.trace().flopsRatio() : 1.0);
                report.put("kv_saved_ratio", routed ? state.trace().kvSavedRatio() : 0.0);
                if (routed) {
                    com.fasterxml.jackson.databind.node.ArrayNode perToken = report.putArray("layers_per_token");
                    for (int t = 0; t < state.trace().tokens(); t++) {
                        perToken.add(state.trace().layersRun(t));
                    }
                }
                out.println(Json.write(report));
            } else {
                out.println();
                if (showLayers) {
                    showLayers(out, state, tokenizer, result);
                }
                err.printf(Locale.ROOT, "prompt tokens: %d, generated tokens: %d, prefill: %.1f tok/s, decode: %.1f tok/s, seed: %d%n",
                        result.promptTokens().length, result.tokens().length, result.prefillTokensPerSecond(),
                        result.decodeTokensPerSecond(), actualSeed);
                if (state.trace() != null) {
                    err.printf(Locale.ROOT, "execution ratio: %.3f (routed layers %.3f), FLOPs ratio %.3f, KV entries saved %.3f%n",
                            state.trace().executionRatio(false), state.trace().executionRatio(true),
                            state.trace().flopsRatio(), state.trace().kvSavedRatio());
                }
            }
            out.flush();
            err.flush();
        }
        return 0;
    }

    /**
     * Each generated token that went back through the model, with the number of layers it ran; on a terminal the
     * token is coloured from green (few layers) to red (all).
     */
    private static void showLayers(PrintWriter out, InferenceState state, Tokenizer tokenizer, GenerationResult result) {
        if (state.trace() == null) {
            out.println("(the model has no routers: every token runs every layer)");
            return;
        }
        boolean terminal = System.console() != null && System.console().isTerminal();
        out.println(layersLine(state, tokenizer, result, terminal));
    }

    /** "layers run per generated token (of L): piece:n piece:n ...", coloured when {@code colour}. */
    static String layersLine(InferenceState state, Tokenizer tokenizer, GenerationResult result, boolean colour) {
        int layers = state.trace().layers();
        int first = result.promptTokens().length;
        StringBuilder line = new StringBuilder("layers run per generated token (of " + layers + "):");
        for (int i = 0; i < result.tokens().length && first + i < state.trace().tokens(); i++) {
            int ran = state.trace().layersRun(first + i);
            String piece = tokenizer.decode(new int[] {result.tokens()[i]}).replace("\n", "\\n");
            if (colour) {
                int code = ran == layers ? 31 : ran * 4 >= layers * 3 ? 33 : 32; // red: all, yellow: 3/4 or more, green
                line.append(" \u001b[").append(code).append('m').append(piece).append("\u001b[0m:").append(ran);
            } else {
                line.append(' ').append(piece.strip()).append(':').append(ran);
            }
        }
        return line.toString();
    }

    private String chatPrompt(Tokenizer tokenizer) {
        if (tokenizer instanceof HfTokenizer hf) {
            Optional<String> wrapped = hf.chatPrompt(prompt);
            if (wrapped.isPresent()) {
                return wrapped.get();
            }
        }
        throw new QtaleException("--chat needs a tokenizer with the Llama 3 chat tokens; this model's tokenizer has none.");
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        if (maxTokens < 0) {
            throw new CommandLine.ParameterException(cl, "--max-tokens must be >= 0, got " + maxTokens + ".");
        }
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new CommandLine.ParameterException(cl, "--temperature must be a finite number >= 0, got " + temperature + ".");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new CommandLine.ParameterException(cl, "--top-p must be in (0, 1], got " + topP + ".");
        }
        if (topK < 0) {
            throw new CommandLine.ParameterException(cl, "--top-k must be >= 0, got " + topK + ".");
        }
        if (threshold != null && !(threshold >= 0 && threshold <= 1)) {
            throw new CommandLine.ParameterException(cl, "--threshold must be in [0, 1], got " + threshold + ".");
        }
        if (batch < 1) {
            throw new CommandLine.ParameterException(cl, "--batch must be >= 1, got " + batch + ".");
        }
        threadOptions.validate(cl);
    }

    private static ObjectNode toJson(GenerationResult result, long seed) {
        ObjectNode o = Json.object();
        o.put("text", result.text());
        o.set("tokens", Json.MAPPER.valueToTree(result.tokens()));
        o.put("prompt_tokens", result.promptTokens().length);
        o.put("generated_tokens", result.tokens().length);
        o.put("prefill_tokens_per_s", result.prefillTokensPerSecond());
        o.put("decode_tokens_per_s", result.decodeTokensPerSecond());
        o.put("stop_reason", result.stopReason().name().toLowerCase(Locale.ROOT));
        o.put("seed", seed);
        return o;
    }
}
