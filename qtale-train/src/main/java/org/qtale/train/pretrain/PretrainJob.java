package org.qtale.train.pretrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qtale.QtaleException;
import org.qtale.format.HfCheckpointWriter;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaConfig;
import org.qtale.tensor.DType;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;
import org.qtale.train.OutputDirectory;
import org.qtale.train.TrainShapes;
import org.qtale.train.corpus.Corpus;
import org.qtale.train.corpus.CorpusSpec;
import org.qtale.train.corpus.MultipleChoice;
import org.qtale.train.corpus.ToyWorld;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.TrainingModel;
import org.qtale.train.tokenizer.BpeTrainer;
import org.qtale.train.tokenizer.TrainedBpe;

/**
 * A whole pretraining run as the command line asks for it: load or generate the corpus, take the given tokenizer or
 * train a byte-level BPE on the training documents, build the shape, train, and write a Hugging Face directory
 * (config, weights, tokenizer, {@code training.json}, and whatever the caller adds, such as a loss chart) that
 * appears at once, complete, or not at all.
 */
public final class PretrainJob {
    public static final String SUMMARY_FILE = "training.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What to run. {@code tokenizer} may be null (train one with {@code vocabSize} entries). */
    public record Request(String corpus, Path tokenizer, int vocabSize, String shape, PretrainSettings settings,
            Path out, boolean overwrite, Path checkpoint, int threads) {
    }

    /** What came out; {@code questions} is null unless the corpus is the built-in one. */
    public record Outcome(PretrainResult result, LlamaConfig config, long parameters, int trainTokens,
            int heldOutTokens, Path out, QuestionReport questions) {
    }

    /** Held-out multiple-choice accuracy on the built-in corpus, overall and per document family. */
    public record QuestionReport(ChoiceScorer.Accuracy overall, Map<String, ChoiceScorer.Accuracy> byFamily) {
        /** Scores {@code count} held-out questions of the built-in corpus (seeded apart from its documents). */
        public static QuestionReport score(TrainingModel model, Tokenizer tokenizer, int contextLength, long seed, int count,
                List<String> families) {
            ChoiceScorer scorer = new ChoiceScorer(model, tokenizer, contextLength);
            List<MultipleChoice> questions = ToyWorld.questions(seed, count, families);
            Map<String, ChoiceScorer.Accuracy> byFamily = new LinkedHashMap<>();
            for (String family : families) {
                List<MultipleChoice> subset = questions.stream().filter(q -> q.family().equals(family)).toList();
                if (!subset.isEmpty()) {
                    byFamily.put(family, scorer.accuracy(subset));
                }
            }
            return new QuestionReport(scorer.accuracy(questions), byFamily);
        }
    }

    /** The seed of the question set scored after pretraining on {@code toyworld} with corpus seed {@code seed}. */
    public static long questionSeed(long corpusSeed) {
        return corpusSeed + 1_000_003L;
    }

    public static final int QUESTIONS = 280;

    /** Callbacks for the parts of a run that take a while. */
    public interface Reporter extends PretrainListener {
        default void log(String line) {
        }

        /** Called with the staging directory just before it becomes the output: add files here. */
        default void finish(Path staging, PretrainResult result) {
        }
    }

    private PretrainJob() {
    }

    public static Outcome run(Request request, Reporter reporter) {
        Path out = request.out().toAbsolutePath().normalize();
        OutputDirectory.check(out, request.overwrite());
        TrainShapes.Shape shape = TrainShapes.get(request.shape());
        if (request.settings().seqLen() > shape.contextLength()) {
            throw new QtaleException("--seq-len " + request.settings().seqLen() + " exceeds the context of shape "
                    + shape.name() + " (" + shape.contextLength() + ").");
        }
        if (request.checkpoint() != null) {
            TrainingCheckpoint.checkUsable(request.checkpoint().toAbsolutePath());
            Path checkpoint = request.checkpoint().toAbsolutePath().normalize();
            if (checkpoint.startsWith(out) || out.startsWith(checkpoint)) {
                throw new QtaleException("The checkpoint directory and the output directory must not contain each other.");
            }
        }
        CorpusSpec spec = CorpusSpec.parse(request.corpus());
        Corpus corpus = spec.load();
        reporter.log("corpus " + corpus.name() + ": " + corpus.train().size() + " training and "
                + corpus.heldOut().size() + " held-out documents");
        TrainedBpe trained = null;
        Tokenizer tokenizer;
        if (request.tokenizer() != null) {
            tokenizer = TokenizerFiles.openFile(request.tokenizer(), -1);
        } else {
            reporter.log("training a byte-level BPE tokenizer with " + request.vocabSize() + " entries");
            trained = new BpeTrainer(request.vocabSize()).train(corpus.train());
            tokenizer = trained.tokenizer();
        }
        TokenDataset data = TokenDataset.encode(tokenizer, corpus.train(), corpus.heldOut());
        LlamaConfig config = shape.config(tokenizer.vocabSize());
        LlamaParameters params = LlamaParameters.initialize(config, request.settings().seed());
        reporter.log(String.format("model %s: %,d parameters; %,d training and %,d held-out tokens", shape.name(),
                params.count(), data.trainTokens(), data.heldOutTokens()));
        PretrainResult result;
        QuestionReport questions = null;
        try (Parallel parallel = new Parallel(request.threads())) {
            Pretrainer pretrainer = new Pretrainer(params, data, request.settings(), parallel);
            Map<String, String> identity = Map.of("corpus", spec.spec(), "shape", shape.toString(),
                    "tokenizer", request.tokenizer() == null ? "trained, " + tokenizer.vocabSize() + " entries"
                            : request.tokenizer().toAbsolutePath().normalize().toString());
            result = pretrainer.run(request.checkpoint(), identity, reporter);
            if (spec instanceof CorpusSpec.ToyWorldSpec toy) {
                reporter.log("scoring " + QUESTIONS + " held-out multiple-choice questions");
                questions = QuestionReport.score(pretrainer.model(), tokenizer, config.contextLength(),
                        questionSeed(toy.seed()), QUESTIONS, toy.families());
            }
        }
        write(out, request, config, params, trained, tokenizer, result, questions, reporter);
        return new Outcome(result, config, params.count(), data.trainTokens(), data.heldOutTokens(), out, questions);
    }

    private static void write(Path out, Request request, LlamaConfig config, LlamaParameters params, TrainedBpe trained,
            Tokenizer tokenizer, PretrainResult result, QuestionReport questions, Reporter reporter) {
        OutputDirectory.write(out, request.overwrite(), model -> {
            HfCheckpointWriter.write(config, params.toWeights(), model, HfCheckpointWriter.Options.of(DType.F32));
            if (trained != null) {
                trained.write(model);
            } else {
                OutputDirectory.copyTokenizer(request.tokenizer(), tokenizer, model);
            }
            Files.write(model.resolve(SUMMARY_FILE), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(summary(request, config, params, result, questions)));
        }, model -> reporter.finish(model, result), reporter::log);
    }

    private static ObjectNode summary(Request request, LlamaConfig config, LlamaParameters params, PretrainResult result,
            QuestionReport questions) {
        ObjectNode o = JSON.createObjectNode();
        o.put("corpus", CorpusSpec.parse(request.corpus()).spec());
        o.put("shape", request.shape());
        o.put("parameters", params.count());
        o.put("vocab_size", config.vocabSize());
        o.set("settings", JSON.valueToTree(request.settings()));
        o.put("first_loss", result.firstLoss());
        o.put("final_loss", result.finalLoss());
        o.put("seconds", result.seconds());
        o.put("tokens_per_s", result.tokensPerSecond());
        ArrayNode losses = o.putArray("train_losses");
        result.trainLosses().forEach(losses::add);
        ArrayNode heldOut = o.putArray("held_out");
        for (PretrainResult.Evaluation e : result.heldOut()) {
            heldOut.addObject().put("step", e.step()).put("loss", e.loss()).put("perplexity", e.perplexity());
        }
        if (questions != null) {
            putQuestions(o, questions);
        }
        return o;
    }

    /** Adds {@code mc_accuracy}, its standard error, chance and the per-family figures to a JSON object. */
    public static void putQuestions(ObjectNode o, QuestionReport questions) {
        ChoiceScorer.Accuracy all = questions.overall();
        o.put("mc_accuracy", all.value());
        o.put("mc_accuracy_stderr", all.standardError());
        o.put("mc_chance", all.chance());
        o.put("mc_questions", all.total());
        ObjectNode families = o.putObject("mc_families");
        questions.byFamily().forEach((name, a) -> families.putObject(name).put("accuracy", a.value())
                .put("chance", a.chance()).put("questions", a.total()));
    }

}
