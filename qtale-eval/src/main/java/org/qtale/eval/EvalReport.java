package org.qtale.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/**
 * One model's evaluation: what was run (model, bytes, threshold) and each task's result, as JSON (the fields scripts
 * read) and as a Markdown table.
 *
 * @param threshold the execution threshold θ the routed layers ran at, or NaN for a model without routers
 */
public record EvalReport(String model, long modelBytes, boolean routers, double threshold, List<EvalResult> results,
        List<ChoiceTask.SkippedRow> skippedRows) {
    /** Skipped rows listed in the JSON at most (their count is always complete). */
    public static final int LISTED_SKIPS = 50;

    public EvalReport {
        results = List.copyOf(results);
        skippedRows = List.copyOf(skippedRows);
    }

    private <T extends EvalResult> List<T> only(Class<T> kind) {
        return results.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    public ObjectNode json(ObjectMapper mapper) {
        ObjectNode o = mapper.createObjectNode();
        o.put("model", model);
        o.put("model_bytes", modelBytes);
        o.put("routers", routers);
        if (Double.isNaN(threshold)) {
            o.putNull("threshold");
        } else {
            o.put("threshold", threshold);
        }
        ArrayNode tasks = o.putArray("tasks");
        long tokens = 0;
        double seconds = 0;
        for (EvalResult result : results) {
            ObjectNode t = tasks.addObject();
            t.put("name", result.task());
            switch (result) {
                case TaskResult r -> {
                    t.put("kind", "multiple_choice");
                    t.put("source", r.source());
                    t.put("skipped", r.skipped());
                    putScores(t, r);
                    putTimes(t, r.tokens(), r.seconds());
                    tokens += r.tokens();
                    seconds += r.seconds();
                }
                case CompletionResult r -> {
                    t.put("kind", "completion");
                    t.put("source", r.source());
                    t.put("examples", r.examples());
                    t.put("skipped", r.skipped());
                    putNumber(t, "accuracy", r.accuracy());
                    putNumber(t, "accuracy_stderr", r.accuracyStandardError());
                    putNumber(t, "perplexity", r.perplexity());
                    putExecution(t, r.executionRatio(), r.routedExecutionRatio(), r.flopsRatio(), r.tokens(), r.seconds());
                    tokens += r.tokens();
                    seconds += r.seconds();
                }
                case TextResult r -> {
                    TextPerplexity.Result p = r.perplexity();
                    t.put("kind", "perplexity");
                    t.put("source", r.source());
                    putNumber(t, "perplexity", p.perplexity());
                    putNumber(t, "negative_log_likelihood", p.negativeLogLikelihood());
                    t.put("predicted_tokens", p.predicted());
                    t.put("windows", p.windows());
                    t.put("context", p.context());
                    t.put("stride", p.stride());
                    putExecution(t, p.executionRatio(), p.routedExecutionRatio(), p.flopsRatio(), p.tokensRead(),
                            p.seconds());
                    tokens += p.tokensRead();
                    seconds += p.seconds();
                }
            }
        }
        o.put("tokens", tokens);
        o.put("seconds", seconds);
        putNumber(o, "tokens_per_second", seconds > 0 ? tokens / seconds : Double.NaN);
        o.put("skipped_rows", skippedRows.size());
        ArrayNode skips = o.putArray("skipped_examples");
        for (ChoiceTask.SkippedRow s : skippedRows.subList(0, Math.min(LISTED_SKIPS, skippedRows.size()))) {
            ObjectNode row = skips.addObject();
            row.put("file", s.file());
            row.put("line", s.line());
            row.put("reason", s.reason());
        }
        return o;
    }

    private static void putExecution(ObjectNode t, double ratio, double routed, double flops, long tokens, double seconds) {
        putNumber(t, "execution_ratio", ratio);
        putNumber(t, "routed_execution_ratio", routed);
        putNumber(t, "flops_ratio", flops);
        t.put("tokens", tokens);
        putTimes(t, tokens, seconds);
    }

    /**
     * A multiple-choice result's scores and execution, the same on every run of the same model: {@code examples},
     * {@code accuracy}, {@code accuracy_stderr}, {@code acc_norm}, {@code acc_norm_stderr}, {@code chance}, {@code
     * execution_ratio}, {@code routed_execution_ratio}, {@code flops_ratio}, {@code tokens}.
     */
    public static void putScores(ObjectNode t, TaskResult r) {
        t.put("examples", r.examples());
        putNumber(t, "accuracy", r.accuracy());
        putNumber(t, "accuracy_stderr", r.accuracyStandardError());
        putNumber(t, "acc_norm", r.normalizedAccuracy());
        putNumber(t, "acc_norm_stderr", r.normalizedAccuracyStandardError());
        putNumber(t, "chance", r.chance());
        putNumber(t, "execution_ratio", r.executionRatio());
        putNumber(t, "routed_execution_ratio", r.routedExecutionRatio());
        putNumber(t, "flops_ratio", r.flopsRatio());
        t.put("tokens", r.tokens());
    }

    /** Wall time and throughput, which vary from run to run: {@code seconds}, {@code tokens_per_second}. */
    public static void putTimes(ObjectNode t, long tokens, double seconds) {
        t.put("seconds", seconds);
        putNumber(t, "tokens_per_second", seconds > 0 ? tokens / seconds : Double.NaN);
    }

    /** A finite number, or null (JSON has no NaN). */
    public static void putNumber(ObjectNode o, String field, double value) {
        if (Double.isFinite(value)) {
            o.put(field, value);
        } else {
            o.putNull(field);
        }
    }

    /** The tables: multiple-choice tasks, completion tasks, then text tasks. */
    public String markdown() {
        List<TaskResult> choices = only(TaskResult.class);
        List<CompletionResult> completions = only(CompletionResult.class);
        List<TextResult> texts = only(TextResult.class);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "model: %s (%,d bytes of weights)%s%n%n", model, modelBytes,
                routers ? String.format(Locale.ROOT, ", routed layers at θ = %.3f", threshold) : ", no routers"));
        if (!choices.isEmpty()) {
            b.append("| task | examples | skipped | acc | acc_norm | chance | execution ratio | FLOPs ratio | tokens/s |\n");
            b.append("|---|---|---|---|---|---|---|---|---|\n");
            for (TaskResult r : choices) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %.1f%% | %.3f | %.3f | %.0f |%n", r.task(),
                        r.examples(), r.skipped(), percent(r.accuracy(), r.accuracyStandardError()),
                        percent(r.normalizedAccuracy(), r.normalizedAccuracyStandardError()), 100 * r.chance(),
                        r.executionRatio(), r.flopsRatio(), r.tokensPerSecond()));
            }
        }
        if (!completions.isEmpty()) {
            if (!choices.isEmpty()) {
                b.append('\n');
            }
            b.append("| completion | examples | skipped | acc (greedy) | perplexity | execution ratio | FLOPs ratio | tokens/s |\n");
            b.append("|---|---|---|---|---|---|---|---|\n");
            for (CompletionResult r : completions) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %.2f | %.3f | %.3f | %.0f |%n", r.task(),
                        r.examples(), r.skipped(), percent(r.accuracy(), r.accuracyStandardError()), r.perplexity(),
                        r.executionRatio(), r.flopsRatio(), r.tokensPerSecond()));
            }
        }
        if (!texts.isEmpty()) {
            if (!choices.isEmpty() || !completions.isEmpty()) {
                b.append('\n');
            }
            b.append("| text | perplexity | predicted tokens | context | stride | execution ratio | FLOPs ratio | tokens/s |\n");
            b.append("|---|---|---|---|---|---|---|---|\n");
            for (TextResult r : texts) {
                TextPerplexity.Result p = r.perplexity();
                b.append(String.format(Locale.ROOT, "| %s | %.3f | %d | %d | %d | %.3f | %.3f | %.0f |%n", r.task(),
                        p.perplexity(), p.predicted(), p.context(), p.stride(), p.executionRatio(), p.flopsRatio(),
                        p.tokensPerSecond()));
            }
        }
        return b.toString();
    }

    /** "44.3% ± 3.0%", or "n/a" without examples. */
    public static String percent(double value, double standardError) {
        if (Double.isNaN(value)) {
            return "n/a";
        }
        return Double.isNaN(standardError) ? String.format(Locale.ROOT, "%.1f%%", 100 * value)
                : String.format(Locale.ROOT, "%.1f%% ± %.1f%%", 100 * value, 100 * standardError);
    }
}
