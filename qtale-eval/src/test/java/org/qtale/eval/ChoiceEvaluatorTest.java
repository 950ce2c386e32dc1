package org.qtale.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.adaptive.RouterConfig;
import org.qtale.format.Llama2cCheckpoint;
import org.qtale.model.GenerationSettings;
import org.qtale.model.Generator;
import org.qtale.model.InferenceState;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.testing.RoutedModels;
import org.qtale.testing.SharedData;
import org.qtale.tokenizer.Llama2cTokenizer;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.nn.CrossEntropyOp;

/**
 * Scoring on the real aidreams260K checkpoint (context 128) against a reference that runs each whole sequence
 * through the engine in one call and reads the log-probabilities off by hand.
 */
class ChoiceEvaluatorTest {
    private static LlamaModel model;
    private static LlamaModel routed;
    private static Tokenizer tokenizer;
    private static Parallel parallel;

    @BeforeAll
    static void load() {
        model = Llama2cCheckpoint.load(SharedData.file("models/aidreams260K/aidreams260K.bin"));
        routed = new LlamaModel(model.config(), model.weights(), null,
                RoutedModels.gaussian(model.config(), RouterConfig.defaults(model.config().dim()), 7, 1f));
        tokenizer = Llama2cTokenizer.load(SharedData.file("models/aidreams260K/tok512.bin"), 512);
        parallel = new Parallel(2);
    }

    @AfterAll
    static void close() {
        parallel.close();
        model.close();
    }

    /** Σ log p(whole[k] | whole[..k]) for k ≥ first, all positions from one forwardAll over whole minus its last. */
    private static double reference(LlamaModel m, int[] whole, int first, ExecutionPolicy policy) {
        int vocab = m.config().vocabSize();
        int n = whole.length - 1;
        InferenceState state = m.newState(parallel, n, n);
        if (policy != null) {
            state.setPolicy(policy);
        }
        float[] logits = new float[n * vocab];
        m.forwardAll(state, whole, 0, n, logits);
        double sum = 0;
        for (int k = first; k < whole.length; k++) {
            sum -= CrossEntropyOp.exactLoss(logits, (k - 1) * vocab, vocab, whole[k]);
        }
        return sum;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aContinuationsLogLikelihoodIsItsTokensLogProbabilities() {
        ChoiceEvaluator evaluator = new ChoiceEvaluator(model, tokenizer, parallel, null);
        String context = "The robot dreamed of";
        String continuation = " electric sheep in a quiet field.";
        int[] contextTokens = tokenizer.encode(context, true);
        int[] whole = tokenizer.encode(context + continuation, true);
        double expected = reference(model, whole, contextTokens.length, null);
        assertEquals(expected, evaluator.logLikelihood(new Choice(context, continuation)), 1e-4);
        assertTrue(expected < 0);
    }

    @Test
    void aCompletionIsGreedyWhenEveryTokenIsTheMostLikely() {
        ChoiceEvaluator evaluator = new ChoiceEvaluator(model, tokenizer, parallel, null);
        int vocab = model.config().vocabSize();
        int greedyCount = 0;
        // the model's own greedy continuation of a prompt, and three it would not write
        String prompt = "The robot dreamed of";
        InferenceState generating = model.newState(parallel, 64, 64);
        String own = Generator.generate(model, generating, tokenizer, tokenizer.encode(prompt, true),
                GenerationSettings.greedy(4, tokenizer.stopTokens()), (id, text) -> { }).text();
        List<Choice> completions = List.of(new Choice(prompt, own), new Choice(prompt, " electric sheep."),
                new Choice("the machine dreams of numbers and", " light"), new Choice("once upon a", " time"));
        double logLikelihoods = 0;
        for (Choice c : completions) {
            int[] contextTokens = tokenizer.encode(c.context(), true);
            int[] whole = tokenizer.encode(c.context() + c.continuation(), true);
            int n = whole.length - 1;
            InferenceState state = model.newState(parallel, n, n);
            float[] logits = new float[n * vocab];
            model.forwardAll(state, whole, 0, n, logits);
            boolean greedy = true;
            for (int k = contextTokens.length; k < whole.length; k++) {
                int best = 0;
                for (int v = 1; v < vocab; v++) {
                    if (logits[(k - 1) * vocab + v] > logits[(k - 1) * vocab + best]) {
                        best = v;
                    }
                }
                greedy &= best == whole[k];
            }
            ChoiceEvaluator.Scored scored = evaluator.score(c, new ExecutionTotals());
            assertEquals(greedy, scored.greedy(), c.toString());
            assertEquals(reference(model, whole, contextTokens.length, null), scored.logLikelihood(), 1e-4);
            greedyCount += greedy ? 1 : 0;
            logLikelihoods += scored.logLikelihood();
        }
        assertTrue(greedyCount >= 1 && greedyCount < completions.size(), "some but not all are greedy: " + greedyCount);
        CompletionResult result = evaluator.evaluate(new CompletionTask("c", "test", completions, List.of()), done -> { });
        assertEquals(greedyCount / (double) completions.size(), result.accuracy(), 1e-12);
        assertEquals(Math.exp(-logLikelihoods / completions.size()), result.perplexity(), 1e-6 * result.perplexity());
    }

    @Test
    void trailingSpacesMoveToTheContinuation() {
        ChoiceEvaluator evaluator = new ChoiceEvaluator(model, tokenizer, parallel, null);
        int[][] moved = evaluator.encodePair("Question: what do robots dream of? ", "sheep");
        int[][] plain = evaluator.encodePair("Question: what do robots dream of?", " sheep");
        assertArrayEquals(plain[0], moved[0]);
        assertArrayEquals(plain[1], moved[1]);
        assertEquals(0, evaluator.logLikelihood(new Choice("Question: anything", "")), "nothing to score is certain");
    }

    @Test
    void aSequenceLongerThanTheWindowLosesTokensOnTheLeft() {
        ChoiceEvaluator evaluator = new ChoiceEvaluator(model, tokenizer, parallel, null);
        String context = "the machine dreams of numbers and light. ".repeat(30).strip();
        String continuation = " and then it wakes up.";
        int[][] pair = evaluator.encodePair(context, continuation);
        int[] whole = concat(pair[0], pair[1]);
        int window = model.config().contextLength();
        assertTrue(whole.length > window + 1, "longer than the window");
        int[] kept = Arrays.copyOfRange(whole, whole.length - window - 1, whole.length);
        double expected = reference(model, kept, kept.length - pair[1].length, null);
        assertEquals(expected, evaluator.logLikelihood(new Choice(context, continuation)), 1e-4);
    }

    /** The answers' own lengths, counted by hand: the harness's acc_norm divides by these, not by the joining space. */
    private static final int[][] ANSWER_LENGTHS = {{15, 6, 9}, {6, 23}, {11, 11}};

    @Test
    void aTaskIsScoredByBothRulesWithTheExecutionOfEveryTokenRead() {
        List<ChoiceExample> examples = List.of(
                ChoiceExample.sharedContext("The robot dreamed of", List.of("electric sheep.", "a cat.", "zzzz qqq."), 0),
                ChoiceExample.sharedContext("In the dream there was", List.of("light.", "a very long dark night."), 1),
                new ChoiceExample(List.of(new Choice("It saw the sea", " and smiled."), new Choice("It saw the", " and smiled.")), 0));
        ChoiceTask task = new ChoiceTask("hand", "test", examples, List.of());
        ExecutionPolicy policy = ExecutionPolicy.threshold(0.5f);
        TaskResult result = new ChoiceEvaluator(routed, tokenizer, parallel, policy).evaluate(task, done -> { });
        int correct = 0;
        int correctNormalized = 0;
        long tokens = 0;
        ChoiceEvaluator evaluator = new ChoiceEvaluator(routed, tokenizer, parallel, policy);
        for (ChoiceExample e : examples) {
            double[] ll = new double[e.choices().size()];
            int[] chars = new int[ll.length];
            boolean shared = e.choices().stream().allMatch(c -> c.context().equals(e.choices().getFirst().context()));
            for (int c = 0; c < ll.length; c++) {
                Choice choice = e.choices().get(c);
                int[] contextTokens = tokenizer.encode(choice.context(), true);
                int[] whole = tokenizer.encode(choice.context() + choice.continuation(), true);
                ll[c] = reference(routed, whole, contextTokens.length, policy);
                chars[c] = ANSWER_LENGTHS[examples.indexOf(e)][c];
                // a shared context is read once: its tokens but the last, then each continuation after that last one
                tokens += shared ? whole.length - contextTokens.length + (c == 0 ? contextTokens.length - 1 : 0)
                        : whole.length - 1;
            }
            assertArrayEquals(ll, evaluator.logLikelihoods(e, new ExecutionTotals()), 1e-4,
                    "each choice scores as it would alone");
            correct += ChoiceRules.pick(ll) == e.gold() ? 1 : 0;
            correctNormalized += ChoiceRules.pickNormalized(ll, chars) == e.gold() ? 1 : 0;
        }
        assertEquals(3, result.examples());
        assertEquals(correct / 3.0, result.accuracy(), 1e-12);
        assertEquals(correctNormalized / 3.0, result.normalizedAccuracy(), 1e-12);
        assertEquals(tokens, result.tokens());
        assertTrue(result.routedExecutionRatio() > 0.05 && result.routedExecutionRatio() < 0.95,
                "seeded routers skip some layers: " + result.routedExecutionRatio());
        assertTrue(result.executionRatio() > result.routedExecutionRatio(), "the first layers always run");
        assertTrue(result.flopsRatio() < 1.0);

        TaskResult dense = new ChoiceEvaluator(model, tokenizer, parallel, policy).evaluate(task, done -> { });
        assertEquals(1.0, dense.executionRatio());
        assertEquals(1.0, dense.flopsRatio());
    }

    @Test
    void perplexityByDisjointAndSlidingWindows() {
        int[] tokens = tokenizer.encode("the machine dreams of numbers and light, and of the sea. ".repeat(8), true);
        int n = tokens.length;
        assertTrue(n > 100 && n < 400, "a few windows of 64: " + n);
        // one window over everything is the whole sequence's loss
        TextPerplexity.Result whole = TextPerplexity.of(model, Arrays.copyOf(tokens, 100), 100, 100, parallel, null);
        assertEquals(-reference(model, Arrays.copyOf(tokens, 100), 1, null), whole.negativeLogLikelihood(), 1e-3);
        assertEquals(99, whole.predicted());

        // disjoint windows: each scores all of its tokens but its first
        TextPerplexity.Result disjoint = TextPerplexity.of(model, tokens, 64, 64, parallel, null);
        double expected = 0;
        long predicted = 0;
        for (int begin = 0; begin + 1 < n; begin += 64) {
            int[] window = Arrays.copyOfRange(tokens, begin, Math.min(n, begin + 64));
            expected -= reference(model, window, 1, null);
            predicted += window.length - 1;
        }
        assertEquals(expected, disjoint.negativeLogLikelihood(), 1e-3);
        assertEquals(predicted, disjoint.predicted());

        // sliding: every token after the first once, the later ones with at least 32 tokens before them
        TextPerplexity.Result sliding = TextPerplexity.of(model, tokens, 64, 32, parallel, null);
        assertEquals(n - 1, sliding.predicted());
        assertEquals(TextPerplexity.windows(n, 64, 32), sliding.windows());
        assertEquals(TextPerplexity.windows(n, 64, 64), disjoint.windows());
        double slidingExpected = 0;
        int scoredUpTo = 1;
        for (int begin = 0; scoredUpTo < n; begin += 32) {
            int[] window = Arrays.copyOfRange(tokens, begin, Math.min(n, begin + 64));
            slidingExpected -= reference(model, window, scoredUpTo - begin, null);
            scoredUpTo = begin + window.length;
        }
        assertEquals(slidingExpected, sliding.negativeLogLikelihood(), 1e-3);
        assertTrue(sliding.perplexity() < disjoint.perplexity(), "more context: " + sliding.perplexity() + " vs "
                + disjoint.perplexity());
    }
}
