package io.hessianatlas.jobs.analyze.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;

import io.hessianatlas.jobs.testing.HeadlessChromium;
import io.hessianatlas.jobs.testing.ReportFixtures;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html of three fixture output folders ({@link ReportFixtures}: hessian mode with layer 0,
 * negative eigenvalues and an unconverged Lanczos layer; ggn with density and classes; a minimal
 * mse run): every section is there, the numbers printed are the fixture's (warnings, the top-20
 * order computed independently, residuals, counts of negative and zero values), every chart file
 * exists and parses, nothing refers to a remote resource, and headless Chromium renders the page
 * without a console message or a network request.
 */
class CurvatureReportTest {
    /** Chromium's window: the page's column and several sections of charts. */
    private static final int WINDOW_WIDTH = 1280;
    private static final int WINDOW_HEIGHT = 4000;

    @TempDir
    static Path tmp;

    private static SparkSession spark;
    private static ReportFixtures.Fixture hessian;
    private static ReportFixtures.Fixture ggn;
    private static ReportFixtures.Fixture minimal;
    private static CurvatureReport.Written hessianReport;
    private static CurvatureReport.Written ggnReport;
    private static CurvatureReport.Written minimalReport;

    @BeforeAll
    static void writeReports() throws IOException {
        spark = SparkTestSession.start(CurvatureReportTest.class.getSimpleName());
        hessian = ReportFixtures.hessian(spark, tmp.resolve("hessian"));
        ggn = ReportFixtures.ggn(spark, tmp.resolve("ggn"));
        minimal = ReportFixtures.minimal(spark, tmp.resolve("minimal"));
        long start = System.nanoTime();
        hessianReport = CurvatureReport.write(spark, hessian.dir().toString(), hessian.runJson());
        ggnReport = CurvatureReport.write(spark, ggn.dir().toString(), ggn.runJson());
        minimalReport = CurvatureReport.write(spark, minimal.dir().toString(), minimal.runJson());
        System.out.printf("three reports written in %.2f s%n", (System.nanoTime() - start) / 1e9);
    }

    /** -Dhessian.report.keep=DIR keeps the three fixture folders with their reports there, to look at. */
    @AfterAll
    static void stop() throws IOException {
        SparkTestSession.stop(spark);
        String keep = System.getProperty("hessian.report.keep");
        if (keep != null) {
            for (String name : List.of("hessian", "ggn", "minimal")) {
                copyTree(tmp.resolve(name), Path.of(keep).resolve(name));
            }
            System.out.println("fixture reports kept under " + keep);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static String html(CurvatureReport.Written w) throws IOException {
        return Files.readString(localPath(w.html()), StandardCharsets.UTF_8);
    }

    private static Path localPath(String hadoopPath) {
        return Path.of(java.net.URI.create(hadoopPath.startsWith("file:") ? hadoopPath : "file://" + hadoopPath));
    }

    @Test
    void everySectionIsThere() throws IOException {
        for (CurvatureReport.Written w : List.of(hessianReport, ggnReport, minimalReport)) {
            String page = html(w);
            for (Map.Entry<String, String> s : ReportPage.SECTIONS.entrySet()) {
                assertTrue(page.contains("<section id=\"" + s.getKey() + "\">\n<h2>" + s.getValue() + "</h2>"),
                        w.html() + ": section " + s.getKey());
            }
            assertTrue(page.contains("id=\"top-samples-table\""), w.html() + ": top samples table");
            assertTrue(page.contains("id=\"layers-table\""), w.html() + ": layers table");
            assertTrue(page.contains("id=\"warnings\""), w.html() + ": warnings box");
            assertTrue(page.contains("id=\"convergence\""), w.html() + ": convergence box");
            // every chart comes with its reading guide
            int figures = count(page, "<figure ");
            assertEquals(figures, count(page, "<p class=\"howto\"><b>How to read this.</b>"), w.html());
            assertEquals(figures * 2, w.charts().size(), w.html() + ": an .svg and a .png per inlined chart");
        }
    }

    @Test
    void hessianReportShowsTheRunItsWarningsAndNegativeCurvature() throws IOException {
        String page = html(hessianReport);
        // header
        assertContains(page, "<dt>Mode</dt><dd>hessian (exact Hessian: eigenvalues can be negative)</dd>");
        assertContains(page, "<dt>Precision</dt><dd>float64</dd>");
        assertContains(page, "<dt>Loss</dt><dd>softmax_cross_entropy</dd>");
        assertContains(page, "<dt>Widths</dt><dd>[4,30,10]</dd>");
        assertContains(page, "<dt>Parameters</dt><dd>460</dd>");
        assertContains(page, "read 202, used 200, skipped 2");
        assertContains(page, "<dt>Passes over the data</dt><dd>57</dd>");
        assertContains(page, "<dt>Run time</dt><dd>1 min 16 s (validate 0.5 s, pass 1 min 01 s, spectra 12.0 s, write 2.0 s)</dd>");
        // warnings, prominently and escaped
        assertContains(page, "<div class=\"alert\" id=\"warnings\"><h3>Warnings (2)</h3><ul><li>"
                + ReportFixtures.UNCONVERGED_WARNING + "</li><li>"
                + "2 rows skipped: label out of range &lt;3&gt; &amp; &quot;quoted&quot;</li></ul></div>");
        assertContains(page, "<div class=\"alert\" id=\"convergence\"><h3>Not converged</h3><ul>"
                + "<li>layer 2: Lanczos not converged after 30 passes (largest top residual 0.0123)</li></ul>");
        assertContains(page, "Lanczos not converged</span></h3>");
        // layers table: the fixture's numbers
        assertContains(page, row(1, "fc1", "5", "30", "150", "200", "hessian", "12.5", "7.25", "6", "-1.5", "0.3125",
                "0.8", "5", "0.0625", "dense"));
        assertContains(page, row(2, "fc2", "31", "10", "310", "200", "hessian", "8.25", "—", "4", "-1.25", "—", "0.6",
                "5", "0.09375", "lanczos", "30"));
        // spectra: negatives drawn, the zero counted, residuals listed
        assertContains(page, "H: 150 eigenvalues (dense), 8 negative (drawn at |λ|), 1 with |λ| ≤ 7e-12 not drawn");
        assertContains(page, "F (empirical Fisher): 150 eigenvalues (dense)");
        assertContains(page, "H: 10 eigenvalues (lanczos), 5 negative (drawn at |λ|)");
        assertContains(page, "<tr><td class=\"num\">1</td><td class=\"num\">4</td><td class=\"num\">0.0123</td></tr>");
        assertContains(page, "<tr><td class=\"num\">310</td><td class=\"num\">-1.25</td><td class=\"num\">0.005</td></tr>");
        assertTrue(svgOf(page, "spectrum-layer-1").contains("λ &lt; 0 drawn as |λ|")
                || svgOf(page, "spectrum-layer-1").contains("λ < 0 drawn as |λ|"), "negative series in the legend");
        // per-sample distributions: layer 2's trace is negative for 40 samples and 0 for one
        assertContains(page, "200 samples, from -0.04 to 0.159, 40 negative (red, at |value|), 1 exactly 0 (not drawn).");
        assertContains(page, "200 samples, from 0 to 0.0795, 41 exactly 0 (not drawn).");
        // top 20 by layer 0
        assertContains(page, "Ranked by the per-sample trace of the whole network (layer 0)");
        assertTopSamples(page, hessian, 0);
        // optional tables absent, said so
        assertContains(page, "This run wrote no <code>density</code> table (run with --density).");
        assertContains(page, "This run wrote no <code>classes</code> table (run with --by-class).");
        assertCharts(hessianReport, List.of("spectrum-layer-0", "spectrum-layer-1", "spectrum-layer-2", "trace-layer-0",
                "lambda-max-layer-0", "trace-layer-1", "lambda-max-layer-1", "trace-layer-2", "lambda-max-layer-2", "kfac"));
    }

    @Test
    void ggnReportShowsDensityClassesAndKfac() throws IOException {
        String page = html(ggnReport);
        assertContains(page, "<dt>Mode</dt><dd>ggn (generalised Gauss-Newton: positive semi-definite)</dd>");
        assertContains(page, "<dt>Precision</dt><dd>float32</dd>");
        assertContains(page, "<div class=\"ok\" id=\"warnings\">No warnings.</div>");
        assertContains(page, "<div class=\"ok\" id=\"convergence\">Convergence: every Lanczos spectrum converged.</div>");
        // density with the extreme eigenvalues as markers
        assertContains(page, "Markers: largest eigenvalue 1.75 (rank 1, dense), smallest computed eigenvalue 0 (rank 41, dense).");
        assertContains(page, "Markers: largest eigenvalue 0.625 (rank 1, lanczos), smallest computed eigenvalue 0.0625 (rank 3, lanczos).");
        assertTrue(svgOf(page, "density-layer-1").contains("largest λ = 1.75"), "marker label in the density chart");
        assertTrue(svgOf(page, "density-layer-3").contains("smallest computed λ = 0.0625"), "marker label");
        // A⊗G only for the Kronecker layer; the zeros of layer 1's H are counted, not drawn
        assertContains(page, "A⊗G: 36 eigenvalues (kronecker).");
        assertContains(page, "H: 56 eigenvalues (dense), 16 with |λ| ≤ 1.75e-12 not drawn");
        // KFAC
        assertContains(page, "<tr><td>layer 1 (hidden1)</td><td>dense</td><td class=\"num\">0.125</td>"
                + "<td class=\"num\">0.9</td><td class=\"num\">4</td></tr>");
        // classes
        assertContains(page, "<tr><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">80</td>"
                + "<td class=\"num\">0.25</td><td class=\"num\">0.9375</td><td class=\"num\">1.5</td>"
                + "<td class=\"num\">0.5</td><td>dense</td><td class=\"num\">—</td><td class=\"num\">—</td></tr>");
        assertContains(page, "<tr><td class=\"num\">1</td><td class=\"num\">2</td><td class=\"num\">70</td>"
                + "<td class=\"num\">0.5</td><td class=\"num\">0.75</td><td class=\"num\">1.5</td>"
                + "<td class=\"num\">—</td><td>block_max</td><td class=\"num\">2</td><td class=\"num\">0.5</td></tr>");
        // top 20 by the sum over layers (no layer 0)
        assertContains(page, "Ranked by the sum of the per-sample traces over layers 1, 2, 3");
        assertTopSamples(page, ggn, -1);
        assertCharts(ggnReport, List.of("spectrum-layer-1", "spectrum-layer-2", "spectrum-layer-3", "density-layer-1",
                "density-layer-3", "trace-layer-1", "lambda-max-layer-1", "trace-layer-2", "lambda-max-layer-2",
                "trace-layer-3", "lambda-max-layer-3", "kfac", "classes-trace", "classes-lambda-max", "classes-accuracy"));
    }

    @Test
    void minimalReportSaysWhatIsMissing() throws IOException {
        String page = html(minimalReport);
        assertContains(page, "<dt>Accuracy</dt><dd>—</dd>");
        assertContains(page, "No layer has a KFAC error or overlap");
        assertContains(page, "(no Lanczos spectra in this run)");
        assertTopSamples(page, minimal, -1);
        assertEquals(5, count(page, "<td class=\"id\">"), "five samples, five rows");
        assertCharts(minimalReport, List.of("spectrum-layer-1", "trace-layer-1", "lambda-max-layer-1"));
    }

    @Test
    void nothingRefersToARemoteResource() throws IOException {
        for (CurvatureReport.Written w : List.of(hessianReport, ggnReport, minimalReport)) {
            String page = html(w);
            assertContains(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    + "style-src 'unsafe-inline'; img-src data:\">");
            assertFalse(page.toLowerCase().contains("<script"), w.html() + ": no script");
            assertFalse(page.toLowerCase().contains("<link"), w.html() + ": no linked stylesheet");
            Pattern reference = Pattern.compile(
                    "(?i)(?:\\b(?:src|href|xlink:href|srcset|action|poster|data)\\s*=\\s*[\"']?\\s*(?:https?:)?//"
                            + "|url\\(\\s*[\"']?\\s*(?:https?:)?//|@import)");
            Matcher m = reference.matcher(page);
            assertFalse(m.find(), w.html() + ": remote reference " + (m.hitEnd() ? "" : around(page, m.start())));
            // the only http(s) URIs are XML namespace names of the inline SVG, which nothing loads
            String withoutNamespaces = page.replaceAll("\\sxmlns(?::\\w+)?\\s*=\\s*(['\"])[^'\"]*\\1", "");
            Matcher any = Pattern.compile("(?i)https?://").matcher(withoutNamespaces);
            assertFalse(any.find(), w.html() + ": an http(s) URL outside xmlns: "
                    + (any.hitEnd() ? "" : around(withoutNamespaces, any.start())));
            // every relative link points at a chart file that exists
            Matcher href = Pattern.compile("href=\"([^\"#][^\"]*)\"").matcher(page);
            while (href.find()) {
                Path target = localPath(w.html()).getParent().resolve(href.group(1));
                assertTrue(Files.isRegularFile(target), w.html() + ": link to " + href.group(1));
            }
        }
    }

    @Test
    void rendersInHeadlessChromiumWithoutErrorsOrRequests() throws Exception {
        HeadlessChromium chromium = HeadlessChromium.requireOrSkip();
        long start = System.nanoTime();
        for (CurvatureReport.Written w : List.of(hessianReport, ggnReport)) {
            Path html = localPath(w.html());
            HeadlessChromium.Render r = chromium.render(html, html.getParent().resolve("chromium"), WINDOW_WIDTH,
                    WINDOW_HEIGHT);
            System.out.println(html + ": " + r.summary());
            r.assertClean(html.toString());
            HeadlessChromium.ImageStats s = HeadlessChromium.imageStats(r.screenshot());
            assertEquals(WINDOW_WIDTH, s.width(), "screenshot width");
            assertTrue(s.foregroundFraction() > 0.03 && s.colours() > 50,
                    html + ": the screenshot looks blank: " + s);
        }
        System.out.printf("Chromium rendered two reports in %.2f s%n", (System.nanoTime() - start) / 1e9);
    }

    // ---- helpers ----

    /** The top-samples rows in page order must be the fixture's ranking, each with its label, layer traces and λ_max. */
    private static void assertTopSamples(String page, ReportFixtures.Fixture f, int rankedLayer) {
        String table = page.substring(page.indexOf("id=\"top-samples-table\""));
        table = table.substring(0, table.indexOf("</table>"));
        Matcher m = Pattern.compile("<tr><td class=\"num\">(\\d+)</td><td class=\"id\">([^<]*)</td><td>([^<]*)</td>"
                + "<td class=\"num\">([^<]*)</td><td class=\"num\">([^<]*)</td><td class=\"num\">([^<]*)</td>").matcher(table);
        List<Object> expected = f.topIds(SampleStatistics.TOP);
        List<String> ids = new ArrayList<>();
        while (m.find()) {
            int rank = Integer.parseInt(m.group(1));
            Object id = expected.get(rank - 1);
            ids.add(m.group(2));
            assertEquals(String.valueOf(id), m.group(2), "top sample #" + rank);
            assertEquals(f.labels().get(id), m.group(3), "label of " + id);
            double score = Double.parseDouble(m.group(6));
            assertEquals(f.scores().get(id), score, 1e-5 * Math.abs(f.scores().get(id)), "score of " + id);
            if (rankedLayer == 0) {
                assertEquals(f.sampleLayers().get(id).get(0)[0], score, 1e-5 * Math.abs(score), "layer 0 trace of " + id);
            }
        }
        assertEquals(expected.stream().map(String::valueOf).toList(), ids, "the top samples in order");
    }

    /** A layers-table row: layer, name, then the cells given (prefix of the row). */
    private static String row(int layer, String name, String... cells) {
        StringBuilder sb = new StringBuilder("<tr><td class=\"num\">").append(layer).append("</td><td>").append(name)
                .append("</td>");
        for (int i = 0; i < cells.length; i++) {
            boolean text = i == 4 || i == 13; // mode, spectrum method
            sb.append(text ? "<td>" : "<td class=\"num\">").append(cells[i]).append("</td>");
        }
        return sb.toString();
    }

    private static void assertCharts(CurvatureReport.Written w, List<String> names) throws IOException {
        String page = html(w);
        List<String> files = w.charts().stream().map(p -> p.substring(p.lastIndexOf('/') + 1)).toList();
        for (String name : names) {
            assertTrue(files.contains(name + ".svg") && files.contains(name + ".png"), w.html() + ": files of " + name
                    + " in " + files);
            assertTrue(page.contains("<svg id='chart-" + name + "'"), w.html() + ": inline SVG of " + name);
        }
        assertEquals(names.size() * 2, files.size(), w.html() + ": charts " + files);
        for (String chart : w.charts()) {
            Path p = localPath(chart);
            byte[] bytes = Files.readAllBytes(p);
            if (chart.endsWith(".png")) {
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
                assertNotNull(img, chart + " is a PNG ImageIO reads");
                assertEquals(ChartImages.WIDTH, img.getWidth(), chart);
                assertEquals(ChartImages.HEIGHT, img.getHeight(), chart);
            } else {
                parseXml(bytes, chart);
            }
        }
        // the inline SVGs are well-formed XML too
        Matcher svg = Pattern.compile("<svg id='chart-[^']+'.*?</svg>", Pattern.DOTALL).matcher(page);
        int inline = 0;
        while (svg.find()) {
            parseXml(svg.group().getBytes(StandardCharsets.UTF_8), w.html() + " inline SVG " + inline++);
        }
        assertEquals(names.size(), inline, w.html() + ": inline SVGs");
    }

    private static void parseXml(byte[] xml, String what) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            var doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
            assertEquals("svg", doc.getDocumentElement().getLocalName(), what);
        } catch (Exception e) {
            fail(what + " is not well-formed SVG: " + e.getMessage());
        }
    }

    private static String svgOf(String page, String name) {
        int start = page.indexOf("<svg id='chart-" + name + "'");
        assertTrue(start >= 0, "inline SVG " + name);
        return page.substring(start, page.indexOf("</svg>", start));
    }

    private static void assertContains(String page, String expected) {
        if (!page.contains(expected)) {
            fail("report.html lacks: " + expected);
        }
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static String around(String s, int at) {
        return s.substring(Math.max(0, at - 80), Math.min(s.length(), at + 80));
    }
}
