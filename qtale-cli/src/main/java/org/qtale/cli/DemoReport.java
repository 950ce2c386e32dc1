package org.qtale.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.qtale.cli.DemoPipeline.ChartLine;
import org.qtale.cli.DemoPipeline.Outcome;
import org.qtale.cli.DemoPipeline.Row;
import org.qtale.cli.report.LineChart;
import org.qtale.eval.EvalReport;
import org.qtale.eval.TaskResult;
import org.qtale.format.AtomicFiles;

/**
 * The demo's comparison: every variant's accuracy on the held-out questions with its execution and FLOPs ratios, and
 * the paper's gaps (a routed quantized model's accuracy minus the quantization-only model's at the same bits, with the
 * standard error of the paired difference), as a table, JSON, a Markdown report and a chart.
 */
final class DemoReport {
    static final String MARKDOWN = "demo-report.md";
    static final String CHART = "demo-accuracy.png";

    private DemoReport() {
    }

    /** The comparison table (no timings, so that two runs print the same). */
    static String table(Outcome outcome) {
        StringBuilder b = new StringBuilder();
        int n = outcome.rows().getFirst().result().examples();
        b.append(String.format(Locale.ROOT, "| model | θ | execution ratio | FLOPs ratio | accuracy (%d questions) | "
                + "vs quantization-only |%n", n));
        b.append("|---|---|---|---|---|---|\n");
        for (Row row : outcome.rows()) {
            TaskResult r = row.result();
            Optional<double[]> gap = gap(outcome, row);
            b.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %s | %s |%n", row.variant().label(),
                    theta(row), r.executionRatio(), r.flopsRatio(), EvalReport.percent(r.accuracy(),
                            r.accuracyStandardError()),
                    gap.map(g -> String.format(Locale.ROOT, "%+.1f ± %.1f points", 100 * g[0], 100 * g[1])).orElse("")));
        }
        return b.toString();
    }

    private static String theta(Row row) {
        if (Double.isNaN(row.threshold())) {
            return "dense";
        }
        return String.format(Locale.ROOT, row.setting().equals("calibrated") ? "%.3f (calibrated)" : "%.3f",
                row.threshold());
    }

    /** A routed quantized row's accuracy minus the quantization-only model's at its bits, paired over the questions. */
    static Optional<double[]> gap(Outcome outcome, Row row) {
        if (!row.variant().routed() || row.variant().weights().equals("fp")) {
            return Optional.empty();
        }
        return outcome.rows().stream()
                .filter(r -> !r.variant().routed() && r.variant().weights().equals(row.variant().weights()))
                .findFirst().map(reference -> row.result().accuracyGap(reference.result()));
    }

    static ArrayNode json(Outcome outcome) {
        ArrayNode rows = Json.MAPPER.createArrayNode();
        for (Row row : outcome.rows()) {
            TaskResult r = row.result();
            ObjectNode o = rows.addObject();
            o.put("model", row.variant().label());
            o.put("method", row.variant().method());
            o.put("weights", row.variant().weights());
            o.put("setting", row.setting());
            if (Double.isNaN(row.threshold())) {
                o.putNull("threshold");
            } else {
                o.put("threshold", row.threshold());
            }
            EvalReport.putScores(o, r); // no timings: two runs print the same comparison
            gap(outcome, row).ifPresent(g -> {
                EvalReport.putNumber(o, "gap_to_quantization_only", g[0]);
                EvalReport.putNumber(o, "gap_stderr", g[1]);
            });
            o.put("path", row.variant().dir().toString());
        }
        return rows;
    }

    /** The chart's points: per routed quantized model, the execution ratio and accuracy at each θ. */
    static String chartTable(Outcome outcome) {
        StringBuilder b = new StringBuilder("| model |");
        for (double theta : DemoPipeline.THRESHOLDS) {
            b.append(String.format(Locale.ROOT, " θ = %.1f |", theta));
        }
        b.append("\n|---|").append("---|".repeat(DemoPipeline.THRESHOLDS.length)).append('\n');
        for (ChartLine line : outcome.lines()) {
            b.append("| ").append(line.variant().label()).append(" |");
            for (int i = 0; i < line.ratios().length; i++) {
                b.append(String.format(Locale.ROOT, " %.1f%% at %.3f |", 100 * line.accuracies()[i], line.ratios()[i]));
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** The chart's lines as JSON: {@code model}, {@code thresholds}, {@code execution_ratios}, {@code accuracies}. */
    static ArrayNode chartJson(Outcome outcome) {
        ArrayNode lines = Json.MAPPER.createArrayNode();
        for (ChartLine line : outcome.lines()) {
            ObjectNode o = lines.addObject();
            o.put("model", line.variant().label());
            ArrayNode thresholds = o.putArray("thresholds");
            ArrayNode ratios = o.putArray("execution_ratios");
            ArrayNode accuracies = o.putArray("accuracies");
            for (int i = 0; i < line.ratios().length; i++) {
                thresholds.add(DemoPipeline.THRESHOLDS[i]);
                ratios.add(line.ratios()[i]);
                accuracies.add(line.accuracies()[i]);
            }
        }
        return lines;
    }

    /** Writes the Markdown report and the chart into {@code dir}; returns the report's path. */
    static Path write(Path dir, Outcome outcome, String sampleLines) {
        AtomicFiles.createDirectories(dir);
        chart(outcome).writePng(dir.resolve(CHART), 900, 600);
        StringBuilder md = new StringBuilder("# qtale demo: token-adaptive layers and quantization\n\n");
        md.append("The default model, D-LLM and QTALE routers fine-tuned from it (target execution ratio ")
                .append(DemoPipeline.TARGET_RATIO).append("), each quantized with AWQ at 4 and 3 bits (groups of ")
                .append(DemoPipeline.GROUP_SIZE).append("), scored on the held-out toyworld questions by log-likelihood. ")
                .append("Routed models run at D-LLM's θ = 0.5 and at the θ that makes them run the target share of ")
                .append("layers after quantization (calibrated on ").append(outcome.calibrationExamples())
                .append(" held-out fine-tuning examples). The gap is the accuracy minus the ")
                .append("quantization-only model's at the same bits, ± the standard error of the paired difference.\n\n");
        md.append(table(outcome)).append('\n');
        md.append("![accuracy against execution ratio](").append(CHART).append(")\n\n");
        md.append(chartTable(outcome)).append('\n');
        md.append("Sample:\n\n```\n").append(sampleLines).append("\n```\n");
        Path report = dir.resolve(MARKDOWN);
        AtomicFiles.write(report, md.toString().getBytes(StandardCharsets.UTF_8));
        return report;
    }

    /** Accuracy against execution ratio over θ for the routed quantized models; flat lines for the dense ones. */
    static LineChart chart(Outcome outcome) {
        LineChart chart = new LineChart("Held-out questions: accuracy against execution ratio",
                "execution ratio (all layers)", "accuracy");
        double low = 1;
        for (ChartLine line : outcome.lines()) {
            for (double x : line.ratios()) {
                low = Math.min(low, x);
            }
        }
        for (ChartLine line : outcome.lines()) {
            chart.add(new LineChart.Series(line.variant().label() + " (θ 0.5 → 0.1)", line.ratios(), line.accuracies(),
                    true));
        }
        List<Row> dense = outcome.rows().stream().filter(r -> !r.variant().routed()).toList();
        for (Row row : dense) {
            double a = row.result().accuracy();
            chart.add(new LineChart.Series(row.variant().label(), new double[] {low, 1}, new double[] {a, a}, false));
        }
        return chart;
    }
}
