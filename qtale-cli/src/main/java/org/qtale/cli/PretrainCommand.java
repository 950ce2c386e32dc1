package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qtale.cli.report.LineChart;
import org.qtale.train.TrainShapes;
import org.qtale.train.pretrain.ChoiceScorer;
import org.qtale.train.pretrain.PretrainJob;
import org.qtale.train.pretrain.PretrainResult;
import org.qtale.train.pretrain.PretrainSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "Pretrains a LLaMA model from scratch on text files or a built-in corpus and writes a Hugging Face directory.")
final class PretrainCommand implements Callable<Integer> {
    static final String LOSS_CHART = "loss.png";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--corpus", required = true, paramLabel = "SPEC",
            description = "toyworld[:seed=S,docs=N,heldout=N,families=a+b], a plain text file (documents separated by blank lines) or a .jsonl file with a text field.")
    String corpus;

    @Option(names = "--shape", defaultValue = "tiny", paramLabel = "NAME", description = "Model shape: tiny or toy (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--steps", required = true, paramLabel = "N", description = "Optimizer steps.")
    int steps;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "Sequences per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "T", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--lr", defaultValue = "3e-3", paramLabel = "X", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--accumulate", defaultValue = "1", paramLabel = "K", description = "Micro-batches per step (default ${DEFAULT-VALUE}).")
    int accumulate;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of initialization and batch order (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "Use this tokenizer (tokenizer.json, its directory, or tokenizer.bin) instead of training one.")
    Path tokenizer;

    @Option(names = "--vocab-size", paramLabel = "N", description = "Entries of the tokenizer trained on the corpus (default: the shape's).")
    Integer vocabSize;

    @Option(names = "--eval-every", paramLabel = "N", description = "Steps between held-out evaluations (default: a tenth of the run).")
    Integer evalEvery;

    @Option(names = "--checkpoint", paramLabel = "DIR", description = "Keep a resumable checkpoint here; a run finds it and continues.")
    Path checkpoint;

    @Option(names = "--checkpoint-every", defaultValue = "50", paramLabel = "N", description = "Steps between checkpoints (default ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model directory.")
    Path out;

    @Option(names = "--overwrite", description = "Replace a non-empty output directory.")
    boolean overwrite;

    @Option(names = "--json", description = "Print one JSON object with the results on stdout.")
    boolean json;

    @Mixin
    ThreadOptions threads;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        threads.validate(cl);
        TrainShapes.Shape s = TrainShapes.get(shape);
        if (steps < 1 || batch < 1 || seqLen < 2 || accumulate < 1 || checkpointEvery < 1 || (evalEvery != null && evalEvery < 1)) {
            throw new CommandLine.ParameterException(cl, "--steps, --batch, --accumulate, --eval-every and --checkpoint-every must be >= 1, --seq-len >= 2.");
        }
        PretrainSettings settings = PretrainSettings.defaults(steps, batch, seqLen, lr, seed)
                .withAccumulation(accumulate)
                .withEvaluation(evalEvery != null ? evalEvery : Math.max(1, steps / 10), 32)
                .withCheckpointEvery(checkpoint != null ? checkpointEvery : 0);
        PretrainJob.Request request = new PretrainJob.Request(corpus, tokenizer, vocabSize != null ? vocabSize : s.defaultVocab(),
                shape, settings, out, overwrite, checkpoint, threads.count());
        PrintWriter err = cl.getErr();
        PretrainJob.Outcome outcome;
        try (Progress progress = Progress.start("pretrain", steps, err)) {
            outcome = PretrainJob.run(request, reporter(progress));
        }
        PrintWriter stdout = cl.getOut();
        PretrainResult r = outcome.result();
        if (json) {
            stdout.println(Json.write(report(outcome)));
        } else {
            PretrainResult.Evaluation held = r.finalHeldOut();
            stdout.printf(Locale.ROOT, "trained %s (%,d parameters) for %d steps in %.0f s, %.0f tokens/s%n", shape,
                    outcome.parameters(), steps, r.seconds(), r.tokensPerSecond());
            stdout.printf(Locale.ROOT, "loss %.3f -> %.3f%s%n", r.firstLoss(), r.finalLoss(), held == null ? ""
                    : String.format(Locale.ROOT, "; held-out loss %.3f (perplexity %.2f)", held.loss(), held.perplexity()));
            if (outcome.questions() != null) {
                printQuestions(stdout, outcome.questions());
            }
            stdout.println("model: " + outcome.out());
            stdout.println("loss curve: " + outcome.out().resolve(LOSS_CHART));
        }
        stdout.flush();
        return 0;
    }

    /** Progress on stderr, and the loss chart written into the model directory before it is moved into place. */
    static PretrainJob.Reporter reporter(Progress progress) {
        return new PretrainJob.Reporter() {
            @Override
            public void log(String line) {
                progress.note(line);
            }

            @Override
            public void onStep(int step, int total, double loss, float learningRate, double gradNorm, double tokensPerSecond) {
                progress.update(step, String.format(Locale.ROOT, "loss %.3f lr %.2e %.0f tok/s", loss, learningRate, tokensPerSecond));
            }

            @Override
            public void onEvaluation(int step, double heldOutLoss) {
                progress.note(String.format(Locale.ROOT, "step %d: held-out loss %.3f, perplexity %.2f", step, heldOutLoss,
                        Math.exp(heldOutLoss)));
            }

            @Override
            public void onCheckpoint(int step) {
                progress.note("checkpoint written after step " + step);
            }

            @Override
            public void finish(Path staging, PretrainResult result) {
                lossChart(result).writePng(staging.resolve(LOSS_CHART), 900, 500);
            }
        };
    }

    static LineChart lossChart(PretrainResult result) {
        int n = result.trainLosses().size();
        double[] steps = new double[n];
        double[] losses = new double[n];
        for (int i = 0; i < n; i++) {
            steps[i] = i + 1;
            losses[i] = result.trainLosses().get(i);
        }
        int m = result.heldOut().size();
        double[] evalSteps = new double[m];
        double[] evalLosses = new double[m];
        for (int i = 0; i < m; i++) {
            evalSteps[i] = result.heldOut().get(i).step();
            evalLosses[i] = result.heldOut().get(i).loss();
        }
        return new LineChart("Pretraining loss", "step", "cross-entropy (nats/token)")
                .add(new LineChart.Series("train", steps, losses, false))
                .add(new LineChart.Series("held-out", evalSteps, evalLosses, true));
    }

    private ObjectNode report(PretrainJob.Outcome outcome) {
        PretrainResult r = outcome.result();
        ObjectNode o = Json.object();
        o.put("out", outcome.out().toString());
        o.put("shape", shape);
        o.put("parameters", outcome.parameters());
        o.put("vocab_size", outcome.config().vocabSize());
        o.put("steps", steps);
        o.put("train_tokens", outcome.trainTokens());
        o.put("held_out_tokens", outcome.heldOutTokens());
        o.put("first_loss", r.firstLoss());
        o.put("final_loss", r.finalLoss());
        PretrainResult.Evaluation held = r.finalHeldOut();
        if (held != null) {
            o.put("held_out_loss", held.loss());
            o.put("held_out_perplexity", held.perplexity());
        }
        o.put("seconds", r.seconds());
        o.put("tokens_per_s", r.tokensPerSecond());
        ArrayNode curve = o.putArray("held_out");
        for (PretrainResult.Evaluation e : r.heldOut()) {
            curve.addObject().put("step", e.step()).put("loss", e.loss()).put("perplexity", e.perplexity());
        }
        o.put("loss_chart", outcome.out().resolve(LOSS_CHART).toString());
        if (outcome.questions() != null) {
            PretrainJob.putQuestions(o, outcome.questions());
        }
        return o;
    }

    /** The held-out multiple-choice table of the built-in corpus. */
    static void printQuestions(PrintWriter out, PretrainJob.QuestionReport report) {
        out.println("held-out multiple choice (log-likelihood of each answer):");
        out.printf(Locale.ROOT, "  %-10s %9s %8s %8s%n", "family", "questions", "accuracy", "chance");
        report.byFamily().forEach((family, a) -> out.printf(Locale.ROOT, "  %-10s %9d %7.1f%% %7.1f%%%n", family,
                a.total(), 100 * a.value(), 100 * a.chance()));
        ChoiceScorer.Accuracy all = report.overall();
        out.printf(Locale.ROOT, "  %-10s %9d %7.1f%% %7.1f%%   (± %.1f%% standard error)%n", "all", all.total(),
                100 * all.value(), 100 * all.chance(), 100 * all.standardError());
    }
}
