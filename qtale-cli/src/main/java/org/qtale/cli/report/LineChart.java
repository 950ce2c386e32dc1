package org.qtale.cli.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.qtale.QtaleException;

/** A PNG line chart of one or more named series, written atomically. */
public final class LineChart {
    /** One line: points (x, y) and whether to mark them. */
    public record Series(String name, double[] x, double[] y, boolean markers) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();

    public LineChart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LineChart add(Series s) {
        series.add(s);
        return this;
    }

    public void writePng(Path file, int width, int height) {
        System.setProperty("java.awt.headless", "true");
        XYPlot plot = plot();
        NumberAxis domain = new NumberAxis(xLabel);
        domain.setAutoRangeIncludesZero(false);
        plot.setDomainAxis(domain);
        write(new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true), file, width, height);
    }

    /**
     * Several charts stacked over one shared x axis (their own titles dropped; each y label names its panel). The
     * i-th series has the same colour in every panel, and the legend is the first panel's.
     */
    public static void writeStackedPng(String title, String xLabel, List<LineChart> panels, Path file, int width,
            int height) {
        System.setProperty("java.awt.headless", "true");
        NumberAxis domain = new NumberAxis(xLabel);
        domain.setAutoRangeIncludesZero(false);
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(domain);
        combined.setGap(12);
        List<XYPlot> plots = new ArrayList<>();
        for (LineChart panel : panels) {
            XYPlot plot = panel.plot();
            plots.add(plot);
            combined.add(plot, 1);
        }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, false);
        LegendTitle legend = new LegendTitle(plots.get(0));
        legend.setPosition(RectangleEdge.BOTTOM);
        chart.addLegend(legend);
        write(chart, file, width, height);
    }

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf)};

    private XYPlot plot() {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Series s : series) {
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                xy.add(s.x()[i], s.y()[i]);
            }
            data.addSeries(xy);
        }
        NumberAxis range = new NumberAxis(yLabel);
        range.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        for (int i = 0; i < series.size(); i++) {
            renderer.setSeriesShapesVisible(i, series.get(i).markers());
            renderer.setSeriesStroke(i, new BasicStroke(2f));
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
        XYPlot plot = new XYPlot(data, null, range, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return plot;
    }

    private static void write(JFreeChart chart, Path file, int width, int height) {
        chart.setBackgroundPaint(Color.WHITE);
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path temp = Files.createTempFile(dir, ".chart-", ".png");
            try {
                ChartUtils.saveChartAsPNG(temp.toFile(), chart, width, height);
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new QtaleException("Cannot write the chart " + file + ": " + e.getMessage() + ".", e);
        }
    }
}
