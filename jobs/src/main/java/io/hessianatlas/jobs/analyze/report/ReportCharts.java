package io.hessianatlas.jobs.analyze.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import io.hessianatlas.jobs.analyze.report.ReportTables.ClassRow;
import io.hessianatlas.jobs.analyze.report.ReportTables.DensityPoint;
import io.hessianatlas.jobs.analyze.report.ReportTables.Eigenvalue;
import io.hessianatlas.jobs.analyze.report.ReportTables.LayerRow;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.ClusteredXYBarRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.chart.util.ShapeUtils;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * The report's charts, built with JFreeChart from the collected tables: one method per kind of
 * chart, each returning the chart with the words the page prints beside it. Nothing here draws
 * pixels ({@link ChartImages} does) or touches Spark.
 */
final class ReportCharts {
    /**
     * Eigenvalues with |λ| below this fraction of the largest |λ| of a chart are not drawn on its
     * log axis (they are counted in the caption): at double precision an aggregated matrix's
     * eigenvalues that small are rounding noise of the large ones, and one 1e-300 would squash
     * every other decade into a corner.
     */
    static final double SPECTRUM_RELATIVE_FLOOR = 1e-12;
    /** Density below this fraction of its peak is left out of the log axis (the Gaussian tails of §4.5). */
    static final double DENSITY_RELATIVE_FLOOR = 1e-10;
    /** A series with more points than this is drawn as one line, not as a marker per eigenvalue. */
    static final int MARKER_LIMIT = 200;
    /** Points per series at most: a dense spectrum of 10^4 eigenvalues is thinned to every k-th rank. */
    static final int MAX_POINTS = 2000;
    /** Classes drawn at most in a per-class bar chart (the table lists all). */
    static final int MAX_CLASS_BARS = 40;

    private static final Color BLUE = new Color(0x1f, 0x77, 0xb4);
    private static final Color GREEN = new Color(0x2c, 0xa0, 0x2c);
    private static final Color PURPLE = new Color(0x94, 0x67, 0xbd);
    private static final Color RED = new Color(0xd6, 0x27, 0x28);
    private static final Color ORANGE = new Color(0xff, 0x7f, 0x0e);
    private static final Color BROWN = new Color(0x8c, 0x56, 0x4b);
    private static final Color GRID = new Color(0xdd, 0xdd, 0xdd);
    /** Series colours in order, for charts with a series per layer. */
    private static final Color[] PALETTE = {BLUE, ORANGE, GREEN, RED, PURPLE, BROWN, new Color(0xe3, 0x77, 0xc2),
        new Color(0x7f, 0x7f, 0x7f), new Color(0xbc, 0xbd, 0x22), new Color(0x17, 0xbe, 0xcf)};
    /** The widest a category bar gets, as a fraction of the axis: one layer's bar does not fill the chart. */
    private static final double MAX_BAR_WIDTH = 0.12;
    /** Marker labels sit on the plot: a white backing keeps them legible over grid lines and curves. */
    private static final Color LABEL_BACKING = new Color(255, 255, 255, 210);
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    private static final Shape DOT = new Ellipse2D.Double(-2.5, -2.5, 5, 5);
    private static final Shape TRIANGLE = ShapeUtils.createDownTriangle(3.5f);
    /** Tick labels of log axes as 1E-3 … 1E3: plain text, which SVG and PNG render alike. */
    private static final String LOG_TICK_FORMAT = "0.##E0";

    private ReportCharts() {
    }

    /**
     * A chart and what the page says about it.
     *
     * @param name  file name without extension under report/ (and the inline SVG's id)
     * @param howTo the "how to read this" paragraph
     * @param note  facts about this chart's data (what was left out, counts), or null
     */
    record ReportChart(String name, String title, JFreeChart chart, String howTo, String note) {
    }

    /** What each spectrum matrix is called in a legend, and its colours for λ > 0 and for λ < 0. */
    private record MatrixStyle(String matrix, String label, Color positive, Color negative) {
    }

    private static final List<MatrixStyle> SPECTRUM_MATRICES = List.of(
            new MatrixStyle(ReportTables.H, "H", BLUE, RED),
            new MatrixStyle(ReportTables.AXG, "A⊗G", GREEN, ORANGE),
            new MatrixStyle(ReportTables.FISHER, "F (empirical Fisher)", PURPLE, BROWN));

    /**
     * Rank against eigenvalue of H beside A⊗G (and F when the run computed it) for one layer, on a
     * log y-axis of |λ|: negative eigenvalues (hessian mode) are drawn at |λ| with their own
     * colour and a triangle; Lanczos eigenvalues carry their residual norm as an error bar.
     */
    static ReportChart spectrum(LayerRow layer, Function<String, List<Eigenvalue>> eigenvalues) {
        double largest = 0;
        for (MatrixStyle m : SPECTRUM_MATRICES) {
            for (Eigenvalue e : eigenvalues.apply(m.matrix())) {
                largest = Math.max(largest, Math.abs(e.value()));
            }
        }
        double floor = largest * SPECTRUM_RELATIVE_FLOOR;
        YIntervalSeriesCollection withResiduals = new YIntervalSeriesCollection();
        XYSeriesCollection plain = new XYSeriesCollection();
        List<Color> residualColours = new ArrayList<>();
        List<Shape> residualShapes = new ArrayList<>();
        List<Color> plainColours = new ArrayList<>();
        List<Shape> plainShapes = new ArrayList<>();
        List<Boolean> plainLines = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (MatrixStyle m : SPECTRUM_MATRICES) {
            List<Eigenvalue> values = eigenvalues.apply(m.matrix());
            if (values.isEmpty()) {
                continue;
            }
            String method = values.get(0).method();
            boolean residuals = values.stream().anyMatch(e -> e.residual() != null);
            int stride = Math.max(1, (values.size() + MAX_POINTS - 1) / MAX_POINTS);
            String label = m.label() + " (" + method + ")";
            int negatives = 0;
            int tiny = 0;
            if (residuals) {
                YIntervalSeries pos = new YIntervalSeries(label + ", λ > 0");
                YIntervalSeries neg = new YIntervalSeries(label + ", λ < 0 drawn as |λ|");
                for (Eigenvalue e : values) {
                    double a = Math.abs(e.value());
                    double r = e.residual() == null ? 0 : e.residual();
                    if (a <= floor) {
                        tiny++;
                    } else {
                        negatives += e.value() < 0 ? 1 : 0;
                        (e.value() > 0 ? pos : neg).add(e.rank(), a, Math.max(a - r, floor), a + r);
                    }
                }
                addIntervalSeries(withResiduals, pos, m.positive(), DOT, residualColours, residualShapes);
                addIntervalSeries(withResiduals, neg, m.negative(), TRIANGLE, residualColours, residualShapes);
            } else {
                XYSeries pos = new XYSeries(label + ", λ > 0", false, true);
                XYSeries neg = new XYSeries(label + ", λ < 0 drawn as |λ|", false, true);
                for (int i = 0; i < values.size(); i++) {
                    Eigenvalue e = values.get(i);
                    double a = Math.abs(e.value());
                    if (a <= floor) {
                        tiny++;
                        continue;
                    }
                    negatives += e.value() < 0 ? 1 : 0;
                    if (i % stride == 0 || i == values.size() - 1) {
                        (e.value() > 0 ? pos : neg).add(e.rank(), a);
                    }
                }
                for (XYSeries s : List.of(pos, neg)) {
                    if (s.getItemCount() > 0) {
                        plain.addSeries(s);
                        plainColours.add(s == pos ? m.positive() : m.negative());
                        plainShapes.add(s == pos ? DOT : TRIANGLE);
                        plainLines.add(s.getItemCount() > MARKER_LIMIT);
                    }
                }
            }
            StringBuilder note = new StringBuilder(m.label()).append(": ").append(values.size())
                    .append(" eigenvalues (").append(method).append(")");
            if (negatives > 0) {
                note.append(", ").append(negatives).append(" negative (drawn at |λ|)");
            }
            if (tiny > 0) {
                note.append(", ").append(tiny).append(" with |λ| ≤ ")
                        .append(ReportFormat.number(floor)).append(" not drawn");
            }
            if (stride > 1 && !residuals) {
                note.append(", every ").append(stride).append("th rank drawn");
            }
            notes.add(note.toString());
        }
        NumberAxis rank = new NumberAxis("rank (1 = largest eigenvalue)");
        rank.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        rank.setAutoRangeIncludesZero(false);
        LogAxis value = logAxis("|eigenvalue|", floor > 0 ? floor : Double.MIN_NORMAL);
        XYPlot plot = new XYPlot();
        plot.setDomainAxis(rank);
        plot.setRangeAxis(value);
        int index = 0;
        if (withResiduals.getSeriesCount() > 0) {
            XYErrorRenderer r = new XYErrorRenderer();
            r.setDrawXError(false);
            r.setDrawYError(true);
            r.setDefaultLinesVisible(false);
            r.setDefaultShapesVisible(true);
            r.setCapLength(5);
            for (int i = 0; i < residualColours.size(); i++) {
                r.setSeriesPaint(i, residualColours.get(i));
                r.setSeriesShape(i, residualShapes.get(i));
            }
            plot.setDataset(index, withResiduals);
            plot.setRenderer(index++, r);
        }
        if (plain.getSeriesCount() > 0) {
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
            for (int i = 0; i < plainColours.size(); i++) {
                r.setSeriesPaint(i, plainColours.get(i));
                r.setSeriesShape(i, plainShapes.get(i));
                r.setSeriesLinesVisible(i, plainLines.get(i));
                r.setSeriesShapesVisible(i, !plainLines.get(i));
                r.setSeriesStroke(i, new BasicStroke(1.5f));
            }
            r.setDrawSeriesLineAsPath(true);
            plot.setDataset(index, plain);
            plot.setRenderer(index, r);
        }
        String title = "Eigenvalues — " + layer.label();
        String howTo = "Each point is one eigenvalue: its rank on the x-axis (1 = largest; the bottom of the "
                + "spectrum has ranks near the number of parameters, " + ReportFormat.integer(layer.params())
                + " here) and |λ| on a logarithmic y-axis. H is the layer's matrix of the run's mode (GGN or "
                + "Hessian); A⊗G is its Kronecker-factored (KFAC) approximation, whose eigenvalues are the products "
                + "of those of A and G. Where the two clouds lie on top of each other KFAC gets the spectrum right; "
                + "a gap at the top means it misjudges the sharpest directions. Negative eigenvalues (Hessian mode, "
                + "non-convex directions) are drawn at |λ| in red or orange with a triangle, never dropped. Lanczos "
                + "eigenvalues carry their residual norm ‖H v − λ v‖ as a vertical error bar: an eigenvalue is "
                + "accurate to about that much, and a bar that reaches far below the point means it has not "
                + "converged.";
        return new ReportChart("spectrum-layer-" + layer.layer(), title, chart(title, plot, true), howTo,
                String.join("; ", notes) + ".");
    }

    private static void addIntervalSeries(YIntervalSeriesCollection c, YIntervalSeries s, Color colour, Shape shape,
                                          List<Color> colours, List<Shape> shapes) {
        if (s.getItemCount() > 0) {
            c.addSeries(s);
            colours.add(colour);
            shapes.add(shape);
        }
    }

    /**
     * The spectral density of one layer's H (SLQ, design.md §4.5) on a log y-axis, with the largest
     * and the smallest eigenvalue the spectrum table has for that H (dense, or Ritz values) as
     * vertical markers.
     */
    static ReportChart density(LayerRow layer, List<DensityPoint> points, List<Eigenvalue> eigenvalues) {
        double peak = points.stream().mapToDouble(DensityPoint::density).max().orElse(0);
        double floor = peak * DENSITY_RELATIVE_FLOOR;
        XYSeries s = new XYSeries("density ρ(λ) of H (SLQ)", false, true);
        double xmin = Double.POSITIVE_INFINITY;
        double xmax = Double.NEGATIVE_INFINITY;
        for (DensityPoint p : points) {
            s.add(p.x(), p.density() > floor ? p.density() : null);
            xmin = Math.min(xmin, p.x());
            xmax = Math.max(xmax, p.x());
        }
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        r.setSeriesPaint(0, BLUE);
        r.setSeriesStroke(0, new BasicStroke(1.5f));
        NumberAxis x = new NumberAxis("eigenvalue λ");
        x.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(new XYSeriesCollection(s), x, logAxis("density", floor > 0 ? floor : Double.MIN_NORMAL), r);
        Eigenvalue top = null;
        Eigenvalue bottom = null;
        for (Eigenvalue e : eigenvalues) {
            top = top == null || e.value() > top.value() ? e : top;
            bottom = bottom == null || e.value() < bottom.value() ? e : bottom;
        }
        String note = null;
        if (top != null) {
            plot.addDomainMarker(marker(top.value(), "largest λ = " + ReportFormat.number(top.value()), RED, true));
            xmin = Math.min(xmin, top.value());
            xmax = Math.max(xmax, top.value());
            note = "Markers: largest eigenvalue " + ReportFormat.number(top.value()) + " (rank " + top.rank() + ", "
                    + top.method() + ")";
            if (bottom != top) {
                plot.addDomainMarker(marker(bottom.value(), "smallest computed λ = " + ReportFormat.number(bottom.value()),
                        ORANGE, false));
                xmin = Math.min(xmin, bottom.value());
                xmax = Math.max(xmax, bottom.value());
                note += ", smallest computed eigenvalue " + ReportFormat.number(bottom.value()) + " (rank "
                        + bottom.rank() + ", " + bottom.method() + ")";
            }
            note += ".";
        }
        if (xmax > xmin) {
            double pad = (xmax - xmin) * 0.03;
            x.setRange(xmin - pad, xmax + pad);
        }
        String title = "Spectral density — " + layer.label();
        String howTo = "A smoothed histogram of all " + ReportFormat.integer(layer.params()) + " eigenvalues of H, "
                + "estimated by stochastic Lanczos quadrature without forming H: the area under the curve is 1, and "
                + "the height at λ says which fraction of eigenvalues lies near λ (log scale, so the rare large "
                + "outliers stay visible beside the bulk near 0). The vertical lines are the extreme eigenvalues "
                + "computed exactly (dense) or by Lanczos (Ritz values): the density's outer edges should reach "
                + "them; mass to the left of 0 means negative curvature. Each bump is a Gaussian of the width "
                + "set by --density-width, so features narrower than that are blurred.";
        return new ReportChart("density-layer-" + layer.layer(), title, chart(title, plot, false), howTo, note);
    }

    /**
     * A dashed vertical line with its label: the largest eigenvalue's at the top, left of the line
     * (it is the right edge); the smallest's at the bottom, right of the line, so the two never collide.
     */
    private static ValueMarker marker(double at, String label, Color colour, boolean largest) {
        ValueMarker m = new ValueMarker(at, colour, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                10f, new float[] {6f, 4f}, 0f));
        m.setLabel(label);
        m.setLabelPaint(colour);
        m.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        m.setLabelBackgroundColor(LABEL_BACKING);
        m.setLabelAnchor(largest ? RectangleAnchor.TOP_LEFT : RectangleAnchor.BOTTOM_RIGHT);
        m.setLabelTextAnchor(largest ? TextAnchor.TOP_RIGHT : TextAnchor.BOTTOM_LEFT);
        return m;
    }

    /**
     * The distribution of one per-sample score of one layer over the dataset, on log-binned x:
     * positive values in blue, |value| of negative values in red beside them in the same bins.
     */
    static ReportChart histogram(LayerRow layer, LogHistogram h) {
        boolean trace = h.metric().equals(SampleStatistics.TRACE);
        String what = trace ? "per-sample trace" : "per-sample λ_max";
        XYIntervalSeries pos = new XYIntervalSeries(what + " > 0");
        XYIntervalSeries neg = new XYIntervalSeries(what + " < 0, drawn at |value|");
        for (LogHistogram.Bar b : h.positive()) {
            pos.add(Math.sqrt(b.low() * b.high()), b.low(), b.high(), b.count(), b.count(), b.count());
        }
        for (LogHistogram.Bar b : h.negative()) {
            neg.add(Math.sqrt(b.low() * b.high()), b.low(), b.high(), b.count(), b.count(), b.count());
        }
        XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
        List<Color> colours = new ArrayList<>();
        if (pos.getItemCount() > 0) {
            data.addSeries(pos);
            colours.add(BLUE);
        }
        if (neg.getItemCount() > 0) {
            data.addSeries(neg);
            colours.add(RED);
        }
        // side by side within a bin, so that neither sign hides the other
        XYBarRenderer r = new ClusteredXYBarRenderer();
        r.setBarPainter(new StandardXYBarPainter());
        r.setShadowVisible(false);
        r.setDrawBarOutline(true);
        for (int i = 0; i < colours.size(); i++) {
            r.setSeriesPaint(i, colours.get(i));
            r.setSeriesOutlinePaint(i, colours.get(i).darker());
        }
        double smallest = h.positive().isEmpty() && h.negative().isEmpty() ? 1e-300
                : java.util.stream.Stream.concat(h.positive().stream(), h.negative().stream())
                        .mapToDouble(LogHistogram.Bar::low).min().orElse(1e-300);
        NumberAxis count = new NumberAxis("samples");
        count.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        XYPlot plot = new XYPlot(data, logAxis(what + " (log scale)", smallest / 2), count, r);
        String title = (trace ? "Per-sample trace — " : "Per-sample λ_max — ") + layer.label();
        String howTo = trace
                ? "How the per-sample trace tr H_s (the sum of the eigenvalues of one sample's own block, design.md §4.6) "
                        + "is spread over the dataset: each bar counts the samples whose trace falls in its range, on a "
                        + "logarithmic x-axis so that decades get equal width. Most datasets give one broad hump; a long "
                        + "right tail is the handful of samples that dominate the mean curvature (listed below). In "
                        + "Hessian mode a sample's trace can be negative: those are counted by |trace|, in red bars beside "
                        + "the blue ones of the same bin."
                : "How the largest eigenvalue of each sample's own block (its sharpest direction) is spread over the "
                        + "dataset, log-binned like the trace. λ_max_s = ‖ã_s‖² · max(λ_max(Q_s), 0) is never negative; "
                        + "samples with λ_max = 0 (e.g. a confidently classified sample whose output curvature vanished) "
                        + "cannot sit on a log axis and are counted below the chart.";
        StringBuilder note = new StringBuilder().append(h.total()).append(" samples");
        if (h.min() != null) {
            note.append(", from ").append(ReportFormat.number(h.min())).append(" to ").append(ReportFormat.number(h.max()));
        }
        if (h.negativeCount() > 0) {
            note.append(", ").append(h.negativeCount()).append(" negative (red, at |value|)");
        }
        if (h.zeros() > 0) {
            note.append(", ").append(h.zeros()).append(" exactly 0 (not drawn)");
        }
        if (h.nonFinite() > 0) {
            note.append(", ").append(h.nonFinite()).append(" NaN or infinite (not drawn)");
        }
        return new ReportChart((trace ? "trace-layer-" : "lambda-max-layer-") + layer.layer(), title,
                chart(title, plot, data.getSeriesCount() > 1), howTo, note.append('.').toString());
    }

    /** KFAC's relative error and top-k overlap per layer (only layers that have one, i.e. dense ones); null when none has. */
    static ReportChart kfac(List<LayerRow> layers) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        String error = "relative error ‖H − A⊗G‖_F / ‖H‖_F";
        String overlap = "top-k subspace overlap";
        for (LayerRow l : layers) {
            if (l.kfacRelError() != null || l.kfacOverlap() != null) {
                data.addValue(l.kfacRelError(), error, l.label());
                data.addValue(l.kfacOverlap(), overlap, l.label());
            }
        }
        if (data.getColumnCount() == 0) {
            return null;
        }
        NumberAxis value = new NumberAxis("value (0 = perfect error, 1 = perfect overlap)");
        value.setAutoRangeIncludesZero(true);
        CategoryPlot plot = barPlot(data, "layer", value, List.of(RED, GREEN));
        String title = "KFAC quality per layer";
        String howTo = "How well the Kronecker factorisation A⊗G (K-FAC) reproduces each layer's exact matrix H. The red "
                + "bar is the relative Frobenius error ‖H − A⊗G‖_F / ‖H‖_F: 0 is exact, 1 means the approximation is "
                + "as far from H as H is from zero. The green bar is the overlap of the top-k eigenvectors of H and "
                + "A⊗G (k = overlap_k in the table): 1 means KFAC finds the same sharpest directions, near k/d means "
                + "no better than chance. Only layers whose H was formed densely have these numbers.";
        return new ReportChart("kfac", title, chart(title, plot, true), howTo, null);
    }

    /**
     * A per-class bar chart of one column of {@code classes}: classes along x, a series per layer
     * (or one series when the value is the same for every layer, as accuracy is).
     */
    static ReportChart classes(String name, String title, String axis, List<ClassRow> rows,
                               Function<ClassRow, Double> value, boolean perLayer, Map<Integer, String> layerLabels,
                               String howTo) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        Map<Integer, Boolean> drawn = new LinkedHashMap<>();
        for (ClassRow r : rows) {
            if (!drawn.containsKey(r.cls()) && drawn.size() >= MAX_CLASS_BARS) {
                continue;
            }
            drawn.put(r.cls(), true);
            String series = perLayer ? layerLabels.getOrDefault(r.layer(), "layer " + r.layer()) : axis;
            String column = "class " + r.cls();
            if (!perLayer && data.getColumnIndex(column) >= 0) {
                continue;
            }
            data.addValue(value.apply(r), series, column);
        }
        if (data.getColumnCount() == 0) {
            return null;
        }
        List<Color> colours = new ArrayList<>(List.of(PALETTE));
        NumberAxis v = new NumberAxis(axis);
        CategoryPlot plot = barPlot(data, "class", v, colours);
        if (data.getColumnCount() > 12) {
            plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        }
        long classes = rows.stream().map(ClassRow::cls).distinct().count();
        String note = classes > MAX_CLASS_BARS ? "The first " + MAX_CLASS_BARS + " of " + classes
                + " classes are drawn; the table below lists all." : null;
        return new ReportChart(name, title, chart(title, plot, perLayer), howTo, note);
    }

    private static CategoryPlot barPlot(DefaultCategoryDataset data, String domain, ValueAxis value, List<Color> colours) {
        BarRenderer r = new BarRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setItemMargin(0.05);
        r.setMaximumBarWidth(MAX_BAR_WIDTH);
        for (int i = 0; i < data.getRowCount(); i++) {
            r.setSeriesPaint(i, colours.get(i % colours.size()));
        }
        CategoryPlot plot = new CategoryPlot(data, new CategoryAxis(domain), value, r);
        plot.setOrientation(PlotOrientation.VERTICAL);
        return plot;
    }

    private static LogAxis logAxis(String label, double smallest) {
        LogAxis a = new LogAxis(label);
        a.setBase(10);
        a.setSmallestValue(smallest);
        a.setNumberFormatOverride(new DecimalFormat(LOG_TICK_FORMAT));
        return a;
    }

    /** A chart on a white background with light grid lines, its legend (if any) below the plot. */
    private static JFreeChart chart(String title, Plot plot, boolean legend) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlinePaint(Color.GRAY);
        if (plot instanceof XYPlot xy) {
            xy.setDomainGridlinePaint(GRID);
            xy.setRangeGridlinePaint(GRID);
        } else if (plot instanceof CategoryPlot c) {
            c.setRangeGridlinePaint(GRID);
        }
        JFreeChart chart = new JFreeChart(title, TITLE_FONT, plot, legend);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        LegendTitle l = chart.getLegend();
        if (l != null) {
            l.setPosition(RectangleEdge.BOTTOM);
            l.setFrame(BlockBorder.NONE);
        }
        return chart;
    }
}
