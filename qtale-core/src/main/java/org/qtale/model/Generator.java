package org.qtale.model;

import java.util.Arrays;
import org.qtale.QtaleException;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.tokenizer.Utf8StreamDecoder;

/** The one generation loop: prefill the prompt, then sample, stream and feed back one token at a time. */
public final class Generator {
    /**
     * Receives each generated token with the text it completes (empty while a character is split across tokens).
     * At the end, bytes still held back (an unfinished UTF-8 sequence) arrive once more with token -1.
     */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int token, String text);
    }

    private Generator() {
    }

    public static GenerationResult generate(LlamaModel model, InferenceState state, Tokenizer tokenizer, int[] prompt,
            GenerationSettings settings, TokenListener listener) {
        if (prompt.length == 0) {
            throw new QtaleException("The prompt has no tokens; generation needs at least one (e.g. BOS).");
        }
        if (state.position() + prompt.length > state.capacity()) {
            throw new QtaleException("The prompt has " + prompt.length + " tokens but the context holds only "
                    + (state.capacity() - state.position()) + " more.");
        }
        Sampler sampler = settings.sampler();
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        StringBuilder text = new StringBuilder();
        int[] generated = new int[Math.min(settings.maxTokens(), 1024)];
        int count = 0;
        int vocab = model.config().vocabSize();

        long start = System.nanoTime();
        float[] logits = model.forward(state, prompt, 0, prompt.length, true);
        int next = settings.maxTokens() > 0 ? sampler.sample(logits, vocab) : -1;
        long prefillNanos = System.nanoTime() - start;
        long decodeStart = System.nanoTime();
        int previous = prompt[prompt.length - 1];
        GenerationResult.StopReason reason = GenerationResult.StopReason.MAX_TOKENS;
        while (count < settings.maxTokens()) {
            if (settings.stopTokens().contains(next)) {
                reason = GenerationResult.StopReason.STOP_TOKEN;
                break;
            }
            if (count == generated.length) {
                generated = Arrays.copyOf(generated, (int) Math.min(settings.maxTokens(), 2L * count));
            }
            generated[count++] = next;
            String piece = decoder.feed(tokenizer.tokenBytes(next, previous));
            text.append(piece);
            listener.onToken(next, piece);
            previous = next;
            if (count == settings.maxTokens()) {
                break;
            }
            if (state.position() >= state.capacity()) {
                reason = GenerationResult.StopReason.CONTEXT_FULL;
                break;
            }
            logits = model.forward(state, new int[] {next}, 0, 1, true);
            next = sampler.sample(logits, vocab);
        }
        long decodeNanos = count <= 1 ? 0 : System.nanoTime() - decodeStart;
        String rest = decoder.flush();
        if (!rest.isEmpty()) {
            text.append(rest);
            listener.onToken(-1, rest);
        }
        return new GenerationResult(prompt.clone(), Arrays.copyOf(generated, count), text.toString(), prefillNanos,
                decodeNanos, reason);
    }
}
