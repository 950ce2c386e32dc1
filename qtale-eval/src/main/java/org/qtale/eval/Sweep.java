package org.qtale.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.qtale.adaptive.ExecutionPolicy;
import org.qtale.format.ModelLoader;
import org.qtale.format.TokenizerFiles;
import org.qtale.model.LlamaModel;
import org.qtale.tensor.Parallel;
import org.qtale.tokenizer.Tokenizer;

/**
 * Accuracy against execution ratio: every model scored on every task, a model with routers once per threshold θ, a
 * model without routers (dense, quantized or not) once, as the reference its routed versions are measured against.
 */
public final class Sweep {
    /** Told before each evaluation and after each example. */
    public interface Listener {
        void evaluating(String model, double threshold, ChoiceTask task);

        void example(int done);
    }

    /**
     * One model at one threshold (NaN without routers).
     *
     * @param model a short name (the directory's), unique within the sweep
     */
    public record Point(String model, String path, boolean routed, double threshold, long modelBytes,
            List<TaskResult> results) {
        public Point {
            results = List.copyOf(results);
        }

        /** The mean over tasks of their accuracy. */
        public double meanAccuracy() {
            return results.stream().mapToDouble(TaskResult::accuracy).average().orElse(Double.NaN);
        }

        /** The execution ratio over every token of every task. */
        public double executionRatio() {
            return weighted(TaskResult::executionRatio);
        }

        public double routedExecutionRatio() {
            return weighted(TaskResult::routedExecutionRatio);
        }

        public double flopsRatio() {
            return weighted(TaskResult::flopsRatio);
        }

        private double weighted(java.util.function.ToDoubleFunction<TaskResult> f) {
            double sum = 0;
            long tokens = 0;
            for (TaskResult r : results) {
                sum += f.applyAsDouble(r) * r.tokens();
                tokens += r.tokens();
            }
            return tokens == 0 ? Double.NaN : sum / tokens;
        }
    }

    private Sweep() {
    }

    public static List<Point> run(List<Path> models, List<String> names, List<ChoiceTask> tasks, double[] thresholds,
            Parallel parallel, Listener listener) {
        List<Point> points = new ArrayList<>();
        for (int m = 0; m < models.size(); m++) {
            Path path = models.get(m);
            try (LlamaModel model = ModelLoader.loadModel(path)) {
                Tokenizer tokenizer = TokenizerFiles.open(path, null, model.config().vocabSize());
                boolean routed = model.routers() != null;
                double[] thetas = routed ? thresholds : new double[] {Double.NaN};
                for (double theta : thetas) {
                    ExecutionPolicy policy = routed ? ExecutionPolicy.threshold((float) theta) : null;
                    ChoiceEvaluator evaluator = new ChoiceEvaluator(model, tokenizer, parallel, policy);
                    List<TaskResult> results = new ArrayList<>();
                    for (ChoiceTask task : tasks) {
                        listener.evaluating(names.get(m), theta, task);
                        results.add(evaluator.evaluate(task, listener::example));
                    }
                    points.add(new Point(names.get(m), path.toString(), routed, theta, model.weights().byteSize(),
                            results));
                }
            }
        }
        return points;
    }

    /** Short names for model paths: the last path element, with more of the path where two would be the same. */
    public static List<String> names(List<Path> models) {
        for (int depth = 1; depth <= 4; depth++) {
            List<String> names = new ArrayList<>();
            for (Path p : models) {
                Path abs = p.toAbsolutePath().normalize();
                int count = abs.getNameCount();
                names.add(count == 0 ? abs.toString() : abs.subpath(Math.max(0, count - depth), count).toString());
            }
            if (names.stream().distinct().count() == names.size()) {
                return names;
            }
        }
        List<String> numbered = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            numbered.add((i + 1) + ":" + models.get(i).getFileName());
        }
        return numbered;
    }
}
