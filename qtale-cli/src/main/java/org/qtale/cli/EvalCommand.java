package org.qtale.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.qtale.QtaleException;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.eval.ChoiceEvaluator;
import org.qtale.eval.ChoiceTask;
import org.qtale.eval.CompletionResult;
import org.qtale.eval.CompletionTask;
import org.qtale.eval.EvalReport;
import org.qtale.eval.EvalResult;
import org.qtale.eval.EvalTask;
import org.qtale.eval.TaskFiles;
import org.qtale.eval.TaskResult;
import org.qtale.eval.TextPerplexity;
import org.qtale.eval.TextResult;
import org.qtale.eval.TextTask;
import org.qtale.format.AtomicFiles;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Scores a model on benchmark tasks: multiple-choice accuracy by the log-likelihood of each choice "
                + "(acc, and acc_norm per character, as lm-evaluation-harness defines them, with standard errors), and "
                + "perplexity on text by a sliding window. Every task runs through the engine's batched prefill with the "
                + "model's weights as stored and its execution policy, so the execution ratio and FLOPs ratio are those "
                + "of the tokens scored.",
            "Task files: LLM-Adapters .json (ARC, BoolQ, PIQA, SIQA, WinoGrande, OpenBookQA), MosaicML or "
                + "CommonsenseQA .jsonl, LAMBADA .jsonl (greedy completion accuracy and perplexity), HellaSwag .txt or "
                + ".txt.bz2 (six lines per task), plain .txt or .raw text (perplexity), or 'toyworld' for the built-in "
                + "held-out questions. Malformed rows are skipped and counted."})
final class EvalCommand implements Callable<Integer> {
    /** The default perplexity window at most: lm-evaluation-harness's default length, and a KV cache that fits. */
    static final int DEFAULT_WINDOW = 2048;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ThreadOptions threadOptions;

    @Option(names = "--task", required = true, arity = "1..*", paramLabel = "NAME=FILE",
            description = "A task to score, named NAME in the report; FILE is a task file or 'toyworld'. Repeatable.")
    List<String> tasks;

    @Option(names = "--limit", paramLabel = "N", description = "Score the first N examples of each multiple-choice or completion task only.")
    Integer limit;

    @Option(names = "--threshold", paramLabel = "θ",
            description = "Execution threshold of the routed layers, in [0, 1] (default: the model's stored θ).")
    Double threshold;

    @Option(names = "--context", paramLabel = "T",
            description = "Perplexity window in tokens (default: the model's context, at most " + DEFAULT_WINDOW + ").")
    Integer context;

    @Option(names = "--stride", paramLabel = "S",
            description = "Tokens between perplexity windows (default: half the window; equal to it for disjoint windows).")
    Integer stride;

    @Option(names = "--json", description = "Print one JSON object with the results on stdout.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write eval.json and eval.md into DIR.")
    Path out;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        List<String[]> named = parseTasks(cl, tasks);
        validate(cl);
        PrintWriter stdout = cl.getOut();
        PrintWriter err = cl.getErr();
        List<EvalTask> loaded = new ArrayList<>();
        for (String[] task : named) {
            loaded.add(TaskFiles.load(task[0], task[1]));
        }
        try (LlamaModel model = modelOptions.openModel(); Parallel parallel = threadOptions.parallel()) {
            boolean routed = model.routers() != null;
            if (threshold != null && !routed) {
                throw new QtaleException("--threshold sets the routed layers' θ, and " + modelOptions.model
                        + " has no routers.");
            }
            int window = model.config().contextLength();
            int perplexityContext = context != null ? context : Math.min(window, DEFAULT_WINDOW);
            if (perplexityContext > window) {
                throw new QtaleException("--context " + perplexityContext + " exceeds the model's context of " + window
                        + " tokens.");
            }
            int perplexityStride = stride != null ? stride : Math.max(1, perplexityContext / 2);
            if (perplexityStride > perplexityContext) {
                throw new QtaleException("--stride " + perplexityStride + " exceeds the window of " + perplexityContext
                        + " tokens.");
            }
            ExecutionPolicy policy = threshold != null ? ExecutionPolicy.threshold(threshold.floatValue()) : null;
            double theta = !routed ? Double.NaN
                    : threshold != null ? threshold : model.routers().config().defaultThreshold();
            Tokenizer tokenizer = modelOptions.openTokenizer(model);
            java.util.Map<TextTask, int[]> texts = new java.util.HashMap<>();
            for (EvalTask task : loaded) {
                if (task instanceof TextTask t) {
                    int[] tokens = tokenizer.encode(t.text(), true);
                    if (tokens.length < 2) {
                        throw new QtaleException("The text " + t.source() + " has fewer than two tokens.");
                    }
                    texts.put(t, tokens);
                }
            }
            ChoiceEvaluator evaluator = new ChoiceEvaluator(model, tokenizer, parallel, policy);
            List<EvalResult> results = new ArrayList<>();
            List<ChoiceTask.SkippedRow> skipped = new ArrayList<>();
            for (EvalTask task : loaded) {
                switch (task) {
                    case ChoiceTask c -> {
                        ChoiceTask limited = limit != null ? c.limit(limit) : c;
                        skipped.addAll(c.skipped());
                        reportSkipped(err, c.skipped(), c.source());
                        try (Progress progress = Progress.start("eval " + c.name(), limited.examples().size(), err)) {
                            TaskResult r = evaluator.evaluate(limited, done -> progress.update(done, ""));
                            results.add(r);
                            progress.note(String.format(Locale.ROOT, "acc %s, acc_norm %s over %d examples",
                                    EvalReport.percent(r.accuracy(), r.accuracyStandardError()),
                                    EvalReport.percent(r.normalizedAccuracy(), r.normalizedAccuracyStandardError()), r.examples()));
                        }
                    }
                    case CompletionTask c -> {
                        CompletionTask limited = limit != null ? c.limit(limit) : c;
                        skipped.addAll(c.skipped());
                        reportSkipped(err, c.skipped(), c.source());
                        try (Progress progress = Progress.start("eval " + c.name(), limited.examples().size(), err)) {
                            CompletionResult r = evaluator.evaluate(limited, done -> progress.update(done, ""));
                            results.add(r);
                            progress.note(String.format(Locale.ROOT, "greedy acc %s, perplexity %.2f over %d examples",
                                    EvalReport.percent(r.accuracy(), r.accuracyStandardError()), r.perplexity(),
                                    r.examples()));
                        }
                    }
                    case TextTask t -> {
                        int[] tokens = texts.get(t);
                        int windows = TextPerplexity.windows(tokens.length, perplexityContext, perplexityStride);
                        try (Progress progress = Progress.start("eval " + t.name(), windows, err)) {
                            TextPerplexity.Result p = TextPerplexity.of(model, tokens, perplexityContext, perplexityStride,
                                    parallel, policy, done -> progress.update(done, ""));
                            results.add(new TextResult(t.name(), t.source(), p));
                            progress.note(String.format(Locale.ROOT, "perplexity %.3f over %d tokens", p.perplexity(),
                                    p.predicted()));
                        }
                    }
                }
            }
            EvalReport report = new EvalReport(modelOptions.model.toString(), model.weights().byteSize(), routed, theta,
                    results, skipped);
            String jsonText = Json.write(report.json(Json.MAPPER));
            if (out != null) {
                AtomicFiles.createDirectories(out);
                AtomicFiles.write(out.resolve("eval.json"), (jsonText + "\n").getBytes(StandardCharsets.UTF_8));
                AtomicFiles.write(out.resolve("eval.md"), report.markdown().getBytes(StandardCharsets.UTF_8));
            }
            if (json) {
                stdout.println(jsonText);
            } else {
                stdout.print(report.markdown());
                if (out != null) {
                    stdout.println();
                    stdout.println("report: " + out.resolve("eval.md"));
                }
            }
            stdout.flush();
        }
        return 0;
    }

    /** The first three skipped rows of a file, and how many more there are. */
    private static void reportSkipped(PrintWriter err, List<ChoiceTask.SkippedRow> rows, String source) {
        for (ChoiceTask.SkippedRow row : rows.subList(0, Math.min(3, rows.size()))) {
            err.println("[eval] skipped " + row);
        }
        if (rows.size() > 3) {
            err.println("[eval] skipped " + (rows.size() - 3) + " more rows of " + source);
        }
    }

    /** NAME=FILE pairs, names unique; a bare FILE is named after itself. */
    static List<String[]> parseTasks(CommandLine cl, List<String> tasks) {
        List<String[]> named = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String task : tasks) {
            int eq = task.indexOf('=');
            String name = eq > 0 ? task.substring(0, eq) : task;
            String file = eq > 0 ? task.substring(eq + 1) : task;
            if (file.isEmpty()) {
                throw new CommandLine.ParameterException(cl, "--task " + task + " names no file (NAME=FILE).");
            }
            if (!names.add(name)) {
                throw new CommandLine.ParameterException(cl, "Two tasks are named " + name + "; give each its own NAME.");
            }
            named.add(new String[] {name, file});
        }
        return named;
    }

    private void validate(CommandLine cl) {
        if (limit != null && limit < 1) {
            throw new CommandLine.ParameterException(cl, "--limit must be >= 1, got " + limit + ".");
        }
        if (threshold != null && !(threshold >= 0 && threshold <= 1)) {
            throw new CommandLine.ParameterException(cl, "--threshold must be in [0, 1], got " + threshold + ".");
        }
        if (context != null && context < 2) {
            throw new CommandLine.ParameterException(cl, "--context must be >= 2, got " + context + ".");
        }
        if (stride != null && stride < 1) {
            throw new CommandLine.ParameterException(cl, "--stride must be >= 1, got " + stride + ".");
        }
        if (out != null && Files.exists(out) && !Files.isDirectory(out)) {
            throw new CommandLine.ParameterException(cl, "--out " + out + " is a file, not a directory.");
        }
        threadOptions.validate(cl);
    }
}
