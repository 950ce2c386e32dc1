package org.qtale.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/** A sweep's points as JSON and as a Markdown table (one row per model and θ, one column per task). */
public final class SweepReport {
    private SweepReport() {
    }

    public static ObjectNode json(ObjectMapper mapper, List<Sweep.Point> points) {
        ObjectNode o = mapper.createObjectNode();
        ArrayNode array = o.putArray("points");
        for (Sweep.Point p : points) {
            ObjectNode point = array.addObject();
            point.put("model", p.model());
            point.put("path", p.path());
            point.put("routers", p.routed());
            if (p.routed()) {
                point.put("threshold", p.threshold());
            } else {
                point.putNull("threshold");
            }
            point.put("model_bytes", p.modelBytes());
            EvalReport.putNumber(point, "mean_accuracy", p.meanAccuracy());
            EvalReport.putNumber(point, "execution_ratio", p.executionRatio());
            EvalReport.putNumber(point, "routed_execution_ratio", p.routedExecutionRatio());
            EvalReport.putNumber(point, "flops_ratio", p.flopsRatio());
            ArrayNode tasks = point.putArray("tasks");
            for (TaskResult r : p.results()) {
                ObjectNode t = tasks.addObject();
                t.put("name", r.task());
                EvalReport.putScores(t, r);
                EvalReport.putTimes(t, r.tokens(), r.seconds());
            }
        }
        return o;
    }

    public static String markdown(List<Sweep.Point> points) {
        StringBuilder b = new StringBuilder("| model | θ | execution ratio | FLOPs ratio |");
        List<TaskResult> first = points.isEmpty() ? List.of() : points.getFirst().results();
        for (TaskResult r : first) {
            b.append(' ').append(r.task()).append(" acc |");
        }
        b.append(first.size() > 1 ? " mean |\n" : "\n");
        b.append("|---|---|---|---|").append("---|".repeat(first.size() + (first.size() > 1 ? 1 : 0))).append('\n');
        for (Sweep.Point p : points) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f |", p.model(),
                    p.routed() ? String.format(Locale.ROOT, "%.3f", p.threshold()) : "dense", p.executionRatio(),
                    p.flopsRatio()));
            for (TaskResult r : p.results()) {
                b.append(' ').append(EvalReport.percent(r.accuracy(), r.accuracyStandardError())).append(" |");
            }
            if (first.size() > 1) {
                b.append(String.format(Locale.ROOT, " %.1f%% |", 100 * p.meanAccuracy()));
            }
            b.append('\n');
        }
        return b.toString();
    }
}
