package io.hessianatlas.jobs.analyze.report;

import static io.hessianatlas.jobs.analyze.report.ReportFormat.cell;
import static io.hessianatlas.jobs.analyze.report.ReportFormat.escape;
import static io.hessianatlas.jobs.analyze.report.ReportFormat.number;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.hessianatlas.jobs.analyze.report.ChartImages.Drawn;
import io.hessianatlas.jobs.analyze.report.ReportCharts.ReportChart;
import io.hessianatlas.jobs.analyze.report.ReportTables.ClassRow;
import io.hessianatlas.jobs.analyze.report.ReportTables.Eigenvalue;
import io.hessianatlas.jobs.analyze.report.ReportTables.LayerRow;

/**
 * report.html: one self-contained page, no script, charts inlined as SVG, with a
 * Content-Security-Policy that forbids every load, so that anything that would reach outside the
 * file fails visibly (a console error) instead of silently depending on a network. Sections, in
 * order: {@link #SECTIONS}. Every chart comes with a "how to read this" paragraph and is drawn
 * once here; the caller writes its SVG and PNG files.
 */
final class ReportPage {
    /** Blocks scripts, fonts, frames, fetches and remote images; allows the inline style and data: images. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
    /** The folder beside report.html that holds every chart as SVG and PNG. */
    static final String CHART_FOLDER = "report";
    /** A guide longer than this is cut to its first sentence where it repeats for another layer. */
    private static final int SHORT_GUIDE = 200;
    /** Section ids and headings, in page order. */
    static final Map<String, String> SECTIONS = sections();

    private static final String STYLE = """
            body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:0;color:#222;background:#fff;line-height:1.45}
            main{max-width:1000px;margin:0 auto;padding:16px 20px 48px}
            h1{font-size:1.6em;margin:0.3em 0}
            h2{font-size:1.3em;border-bottom:2px solid #1f77b4;padding-bottom:4px;margin-top:2em}
            h3{font-size:1.05em;margin-top:1.6em}
            nav{font-size:0.9em;margin:0.5em 0 1em}
            nav a{margin-right:1em;color:#1f77b4}
            dl.run{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
            dl.run dt{font-weight:bold}
            dl.run dd{margin:0;overflow-wrap:anywhere}
            .alert{border:2px solid #d62728;background:#fdecea;padding:8px 14px;margin:12px 0;border-radius:4px}
            .alert h3{margin:0.2em 0;color:#a31515}
            .ok{border:1px solid #2ca02c;background:#eef8ee;padding:6px 14px;margin:12px 0;border-radius:4px}
            .badge{display:inline-block;padding:0 6px;border-radius:3px;font-size:0.85em;background:#d62728;color:#fff}
            .scroll{overflow-x:auto}
            table{border-collapse:collapse;font-size:0.85em;margin:8px 0}
            th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
            th{background:#f2f4f7}
            td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            figure{margin:16px 0 8px}
            figure svg{width:100%;height:auto;display:block;border:1px solid #eee}
            figcaption{font-size:0.85em;color:#555}
            p.howto{background:#f6f8fb;border-left:4px solid #1f77b4;padding:6px 12px;font-size:0.9em}
            p.absent{color:#666;font-style:italic}
            footer{margin-top:3em;font-size:0.8em;color:#666}
            """;

    private final RunSummary run;
    private final ReportTables tables;
    private final SampleStatistics samples;
    private final Map<Integer, LayerRow> layers = new LinkedHashMap<>();
    private final List<Drawn> drawn = new ArrayList<>();
    /** Per kind of chart (its name without "-layer-N"), the first figure of that kind, which has the full guide. */
    private final Map<String, String> firstOfKind = new LinkedHashMap<>();
    private final StringBuilder html = new StringBuilder(1 << 16);

    private ReportPage(RunSummary run, ReportTables tables, SampleStatistics samples) {
        this.run = run;
        this.tables = tables;
        this.samples = samples;
        for (LayerRow l : tables.layers()) {
            layers.put(l.layer(), l);
        }
    }

    /**
     * The page and the charts it inlines.
     *
     * @param charts every chart drawn, in page order
     */
    record Page(String html, List<Drawn> charts) {
        Page {
            charts = List.copyOf(charts);
        }
    }

    static Page build(RunSummary run, ReportTables tables, SampleStatistics samples) throws IOException {
        ReportPage p = new ReportPage(run, tables, samples);
        p.document();
        return new Page(p.html.toString(), p.drawn);
    }

    private static Map<String, String> sections() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("run", "Run");
        s.put("layers", "Layers");
        s.put("spectrum", "Eigenvalue spectra");
        s.put("density", "Spectral density");
        s.put("samples", "Per-sample curvature");
        s.put("kfac", "KFAC quality");
        s.put("classes", "Per class");
        return java.util.Collections.unmodifiableMap(s);
    }

    private void document() throws IOException {
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"").append(CONTENT_SECURITY_POLICY)
                .append("\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>Hessian Atlas report — ").append(escape(Objects.requireNonNullElse(run.modelPath(), "run")))
                .append("</title>\n<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n<main>\n")
                .append("<h1>Hessian Atlas — curvature report</h1>\n<nav>");
        for (Map.Entry<String, String> s : SECTIONS.entrySet()) {
            html.append("<a href=\"#").append(s.getKey()).append("\">").append(escape(s.getValue())).append("</a>");
        }
        html.append("</nav>\n");
        runSection();
        layersSection();
        spectrumSection();
        densitySection();
        samplesSection();
        kfacSection();
        classesSection();
        html.append("<footer>Written by Hessian Atlas");
        String version = run.versions().get("hessian_atlas");
        if (version != null) {
            html.append(' ').append(escape(version));
        }
        html.append(" from the tables and run.json (schema_version ").append(escape(String.valueOf(run.schemaVersion())))
                .append(") of this output folder. Versions: ");
        List<String> v = new ArrayList<>();
        run.versions().forEach((k, val) -> v.add(k + " " + val));
        html.append(escape(String.join(", ", v))).append(".</footer>\n</main>\n</body>\n</html>\n");
    }

    private void heading(String id) {
        html.append("<section id=\"").append(id).append("\">\n<h2>").append(escape(SECTIONS.get(id))).append("</h2>\n");
    }

    private void runSection() {
        heading("run");
        String mode = run.mode() != null ? run.mode()
                : tables.layers().stream().map(LayerRow::mode).filter(Objects::nonNull).findFirst().orElse(null);
        html.append("<dl class=\"run\">\n");
        term("Model", escape(run.modelPath()) + " (" + escape(run.modelKind()) + ")");
        term("Loss", escape(run.modelLoss()));
        term("Widths", escape(run.modelWidths()));
        term("Parameters", cell(run.modelParameters()));
        term("Data", escape(run.dataPath()) + (run.dataFormat() == null ? "" : " (" + escape(run.dataFormat()) + ")"));
        term("Rows", "read " + cell(run.rowsRead()) + ", used " + cell(run.rowsUsed()) + ", skipped "
                + cell(run.rowsSkipped()) + (run.skipReasons() == null ? "" : " — " + escape(run.skipReasons())));
        term("Mode", escape(mode) + ("hessian".equals(mode) ? " (exact Hessian: eigenvalues can be negative)"
                : "ggn".equals(mode) ? " (generalised Gauss-Newton: positive semi-definite)" : ""));
        term("Precision", escape(run.precision()));
        term("Mean loss", escape(number(run.meanLoss())));
        term("Accuracy", escape(number(run.accuracy())));
        StringBuilder time = new StringBuilder(escape(ReportFormat.duration(run.totalSeconds())));
        if (!run.phases().isEmpty()) {
            List<String> parts = new ArrayList<>();
            run.phases().forEach((k, s) -> parts.add(k + " " + ReportFormat.duration(s)));
            time.append(" (").append(escape(String.join(", ", parts))).append(')');
        }
        term("Run time", time.toString());
        term("Passes over the data", cell(run.passesOverData()));
        html.append("</dl>\n");
        List<String> unconverged = new ArrayList<>(run.unconverged());
        for (LayerRow l : tables.layers()) {
            if (Boolean.FALSE.equals(l.lanczosConverged())
                    && unconverged.stream().noneMatch(u -> u.startsWith("layer " + l.layer() + ":")
                            || u.startsWith("layer " + l.layer() + " "))) {
                unconverged.add("layer " + l.layer() + ": Lanczos not converged after " + cell(l.lanczosPasses())
                        + " passes");
            }
        }
        if (unconverged.isEmpty()) {
            html.append("<div class=\"ok\" id=\"convergence\">Convergence: every Lanczos spectrum converged")
                    .append(tables.layers().stream().anyMatch(l -> l.lanczosConverged() != null) ? "." : " (no Lanczos spectra in this run).")
                    .append("</div>\n");
        } else {
            html.append("<div class=\"alert\" id=\"convergence\"><h3>Not converged</h3><ul>");
            for (String u : unconverged) {
                html.append("<li>").append(escape(u)).append("</li>");
            }
            html.append("</ul>Their eigenvalues are estimates: read the residuals in the spectrum section before "
                    + "relying on them (--lanczos-max-passes raises the limit).</div>\n");
        }
        if (run.warnings().isEmpty()) {
            html.append("<div class=\"ok\" id=\"warnings\">No warnings.</div>\n");
        } else {
            html.append("<div class=\"alert\" id=\"warnings\"><h3>Warnings (").append(run.warnings().size())
                    .append(")</h3><ul>");
            for (String w : run.warnings()) {
                html.append("<li>").append(escape(w)).append("</li>");
            }
            html.append("</ul></div>\n");
        }
        html.append("<details><summary>All options</summary><table><tr><th>option</th><th>value</th></tr>");
        run.options().forEach((k, val) -> html.append("<tr><td>--").append(escape(k)).append("</td><td>")
                .append(escape(val)).append("</td></tr>"));
        html.append("</table></details>\n</section>\n");
    }

    private void term(String name, String valueHtml) {
        html.append("<dt>").append(escape(name)).append("</dt><dd>").append(valueHtml).append("</dd>\n");
    }

    private void layersSection() {
        heading("layers");
        html.append("<p>One row per layer of the table <code>layers</code> (layer 0 is the whole network). The trace "
                + "is the exact mean of the per-sample traces; λ_max and λ_min come from the spectrum method named; "
                + "grad_norm is the norm of the mean gradient.</p>\n<div class=\"scroll\"><table id=\"layers-table\">"
                + "<tr><th>layer</th><th>name</th><th>fan_in</th><th>fan_out</th><th>params</th><th>samples</th>"
                + "<th>mode</th><th>trace</th><th>frobenius</th><th>λ_max</th><th>λ_min</th><th>kfac_rel_error</th>"
                + "<th>kfac_overlap</th><th>overlap_k</th><th>grad_norm</th><th>spectrum</th><th>Lanczos passes</th>"
                + "<th>converged</th><th>density passes</th></tr>\n");
        for (LayerRow l : tables.layers()) {
            html.append("<tr><td class=\"num\">").append(l.layer()).append("</td><td>").append(cell(l.name()))
                    .append("</td>");
            num(l.fanIn());
            num(l.fanOut());
            num(l.params());
            num(l.samples());
            html.append("<td>").append(cell(l.mode())).append("</td>");
            num(l.trace());
            num(l.frobenius());
            num(l.lambdaMax());
            num(l.lambdaMin());
            num(l.kfacRelError());
            num(l.kfacOverlap());
            num(l.overlapK());
            num(l.gradNorm());
            html.append("<td>").append(cell(l.spectrumMethod())).append("</td>");
            num(l.lanczosPasses());
            html.append("<td>").append(Boolean.FALSE.equals(l.lanczosConverged())
                    ? "<span class=\"badge\">no</span>" : cell(l.lanczosConverged() == null ? null
                    : "yes")).append("</td>");
            num(l.densityPasses());
            html.append("</tr>\n");
        }
        html.append("</table></div>\n</section>\n");
    }

    private void num(Object v) {
        html.append("<td class=\"num\">").append(cell(v)).append("</td>");
    }

    private void spectrumSection() throws IOException {
        heading("spectrum");
        for (LayerRow l : tables.layers()) {
            if (tables.eigenvalues(l.layer(), ReportTables.H).isEmpty()
                    && tables.eigenvalues(l.layer(), ReportTables.AXG).isEmpty()) {
                continue;
            }
            html.append("<h3>").append(escape(l.label()));
            if (Boolean.FALSE.equals(l.lanczosConverged())) {
                html.append(" <span class=\"badge\">Lanczos not converged</span>");
            }
            html.append("</h3>\n");
            figure(ReportCharts.spectrum(l, m -> tables.eigenvalues(l.layer(), m)));
            List<Eigenvalue> lanczos = tables.eigenvalues(l.layer(), ReportTables.H).stream()
                    .filter(e -> e.residual() != null).toList();
            if (!lanczos.isEmpty()) {
                html.append("<p>Lanczos eigenvalues of H with their residual norms ‖H v − λ v‖ (the error bars above):</p>")
                        .append("<div class=\"scroll\"><table class=\"residuals\" id=\"residuals-layer-").append(l.layer())
                        .append("\"><tr><th>rank</th><th>eigenvalue</th><th>residual</th></tr>\n");
                for (Eigenvalue e : lanczos) {
                    html.append("<tr>");
                    num(e.rank());
                    num(e.value());
                    num(e.residual());
                    html.append("</tr>\n");
                }
                html.append("</table></div>\n");
            }
        }
        html.append("</section>\n");
    }

    private void densitySection() throws IOException {
        heading("density");
        if (!tables.hasDensity()) {
            html.append("<p class=\"absent\">This run wrote no <code>density</code> table (run with --density).</p>\n");
        } else {
            for (LayerRow l : tables.layers()) {
                if (!tables.densityOf(l.layer()).isEmpty()) {
                    html.append("<h3>").append(escape(l.label())).append("</h3>\n");
                    figure(ReportCharts.density(l, tables.densityOf(l.layer()), tables.eigenvalues(l.layer(), ReportTables.H)));
                }
            }
        }
        html.append("</section>\n");
    }

    private void samplesSection() throws IOException {
        heading("samples");
        if (!samples.present()) {
            html.append("<p class=\"absent\">This output folder has no <code>sample_layers</code> table.</p>\n</section>\n");
            return;
        }
        for (int layer : samples.layers()) {
            LayerRow l = layers.getOrDefault(layer, syntheticLayer(layer));
            html.append("<h3>").append(escape(l.label())).append("</h3>\n");
            for (LogHistogram h : samples.histograms()) {
                if (h.layer() == layer) {
                    figure(ReportCharts.histogram(l, h));
                }
            }
        }
        html.append("<h3 id=\"top-samples\">The ").append(SampleStatistics.TOP).append(" most curved samples</h3>\n")
                .append("<p>Ranked by ").append(escape(samples.rankedBy()))
                .append(", largest first (ties by sample_id). These are the samples that contribute most to the "
                        + "mean curvature: often mislabelled, ambiguous or atypical inputs.</p>\n")
                .append("<div class=\"scroll\"><table id=\"top-samples-table\"><tr><th>#</th><th>sample_id</th>"
                        + "<th>label</th><th>loss</th><th>predicted class</th><th>score</th>");
        for (int layer : samples.layers()) {
            html.append("<th>trace, layer ").append(layer).append("</th>");
        }
        for (int layer : samples.layers()) {
            html.append("<th>λ_max, layer ").append(layer).append("</th>");
        }
        html.append("</tr>\n");
        int rank = 1;
        for (SampleStatistics.TopSample s : samples.top()) {
            html.append("<tr>");
            num(rank++);
            html.append("<td class=\"id\">").append(cell(s.sampleId())).append("</td><td>").append(cell(s.label()))
                    .append("</td>");
            num(s.loss());
            num(s.predictedClass());
            num(s.score());
            for (int layer : samples.layers()) {
                num(s.traces().get(layer));
            }
            for (int layer : samples.layers()) {
                num(s.lambdaMaxes().get(layer));
            }
            html.append("</tr>\n");
        }
        html.append("</table></div>\n</section>\n");
    }

    private static LayerRow syntheticLayer(int layer) {
        return new LayerRow(layer, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null);
    }

    private void kfacSection() throws IOException {
        heading("kfac");
        ReportChart chart = ReportCharts.kfac(tables.layers());
        if (chart == null) {
            html.append("<p class=\"absent\">No layer has a KFAC error or overlap: they need H formed densely "
                    + "(--spectrum dense or auto within --dense-budget-mb).</p>\n");
        } else {
            figure(chart);
        }
        html.append("<div class=\"scroll\"><table id=\"kfac-table\"><tr><th>layer</th><th>spectrum</th>"
                + "<th>kfac_rel_error</th><th>kfac_overlap</th><th>overlap_k</th></tr>\n");
        for (LayerRow l : tables.layers()) {
            if (l.layer() == ReportTables.NETWORK) {
                continue;
            }
            html.append("<tr><td>").append(escape(l.label())).append("</td><td>").append(cell(l.spectrumMethod()))
                    .append("</td>");
            num(l.kfacRelError());
            num(l.kfacOverlap());
            num(l.overlapK());
            html.append("</tr>\n");
        }
        html.append("</table></div>\n</section>\n");
    }

    private void classesSection() throws IOException {
        heading("classes");
        if (!tables.hasClasses()) {
            html.append("<p class=\"absent\">This run wrote no <code>classes</code> table (run with --by-class).</p>\n"
                    + "</section>\n");
            return;
        }
        Map<Integer, String> labels = new LinkedHashMap<>();
        tables.layers().forEach(l -> labels.put(l.layer(), l.label()));
        List<ClassRow> rows = tables.classes();
        chart(ReportCharts.classes("classes-trace", "Mean per-sample trace per class", "mean per-sample trace", rows,
                ClassRow::trace, true, labels, "Each group of bars is one class (its samples by label); each bar is "
                        + "the mean of the per-sample trace over that class, for one layer. A class whose bars stand "
                        + "out is one where the network is sharper: the loss changes fastest when the weights move, "
                        + "typically a hard or confusable class."));
        chart(ReportCharts.classes("classes-lambda-max", "Largest eigenvalue per class", "λ_max of the class's mean block",
                rows, ClassRow::lambdaMax, true, labels, "The largest eigenvalue of the mean curvature matrix over "
                        + "one class's samples, per layer (computed as the table's lambda_max_method says: dense, "
                        + "from the Kronecker factors, or the largest per-sample value for block_max). It measures "
                        + "the sharpest direction of that class alone; compare with the layer's λ_max over all data."));
        chart(ReportCharts.classes("classes-accuracy", "Accuracy per class", "accuracy", rows, ClassRow::accuracy, false,
                labels, "The fraction of each class's samples that the model classifies correctly. Read it beside "
                        + "the curvature charts: low accuracy with high curvature marks classes the model is unsure "
                        + "about; high curvature with high accuracy marks sharp but well-fitted classes."));
        html.append("<div class=\"scroll\"><table id=\"classes-table\"><tr><th>class</th><th>layer</th><th>samples</th>"
                + "<th>loss</th><th>accuracy</th><th>trace</th><th>λ_max</th><th>λ_max method</th><th>λ_max(A)</th>"
                + "<th>λ_max(G)</th></tr>\n");
        for (ClassRow r : rows) {
            html.append("<tr>");
            num(r.cls());
            num(r.layer());
            num(r.samples());
            num(r.loss());
            num(r.accuracy());
            num(r.trace());
            num(r.lambdaMax());
            html.append("<td>").append(cell(r.lambdaMaxMethod())).append("</td>");
            num(r.aLambdaMax());
            num(r.gLambdaMax());
            html.append("</tr>\n");
        }
        html.append("</table></div>\n</section>\n");
    }

    private void chart(ReportChart c) throws IOException {
        if (c != null) {
            figure(c);
        }
    }

    /** The inline SVG, its caption (note and files), and the "how to read this" paragraph. */
    private void figure(ReportChart c) throws IOException {
        Drawn d = ChartImages.draw(c);
        drawn.add(d);
        html.append("<figure id=\"figure-").append(c.name()).append("\">\n").append(d.inlineSvg()).append("\n<figcaption>");
        if (c.note() != null) {
            html.append(escape(c.note())).append(' ');
        }
        String base = CHART_FOLDER + "/" + c.name();
        html.append("Also saved as <a href=\"").append(base).append(".svg\">").append(base).append(".svg</a> and <a href=\"")
                .append(base).append(".png\">").append(base).append(".png</a>.</figcaption>\n</figure>\n")
                .append("<p class=\"howto\"><b>How to read this.</b> ");
        String kind = c.name().replaceAll("-layer-\\d+$", "");
        String first = firstOfKind.putIfAbsent(kind, c.name());
        if (first == null) {
            html.append(escape(c.howTo()));
        } else {
            html.append("As <a href=\"#figure-").append(first).append("\">the first chart of this kind</a> (the full ")
                    .append("guide is there): ")
                    .append(escape(c.howTo().length() > SHORT_GUIDE ? firstSentence(c.howTo()) : c.howTo()));
        }
        html.append("</p>\n");
    }

    /** The first sentence of a guide: what a repeated chart's paragraph keeps. */
    private static String firstSentence(String guide) {
        int end = guide.indexOf(". ");
        return end < 0 ? guide : guide.substring(0, end + 1) + " …";
    }
}
