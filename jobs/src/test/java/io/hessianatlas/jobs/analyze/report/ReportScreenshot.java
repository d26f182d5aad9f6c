package io.hessianatlas.jobs.analyze.report;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import io.hessianatlas.jobs.testing.HeadlessChromium;

/**
 * A screenshot of a report.html for the documentation (docs/report.png):
 * {@code ReportScreenshot REPORT_HTML OUTPUT_PNG [WIDTH HEIGHT]}, by headless Chromium
 * ({@link HeadlessChromium}). Exits 1 when Chromium is missing, fails, or the page logs a console
 * message or asks the network for anything.
 */
public final class ReportScreenshot {
    static final int WIDTH = 1280;
    static final int HEIGHT = 2400;

    private ReportScreenshot() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 4) {
            System.err.println("usage: ReportScreenshot REPORT_HTML OUTPUT_PNG [WIDTH HEIGHT]");
            System.exit(2);
        }
        Path html = Path.of(args[0]);
        Path png = Path.of(args[1]).toAbsolutePath();
        int width = args.length == 4 ? Integer.parseInt(args[2]) : WIDTH;
        int height = args.length == 4 ? Integer.parseInt(args[3]) : HEIGHT;
        if (!Files.isRegularFile(html)) {
            System.err.println("ReportScreenshot: " + html + " is not a file");
            System.exit(2);
        }
        HeadlessChromium chromium = HeadlessChromium.find().orElse(null);
        if (chromium == null) {
            System.err.println("ReportScreenshot: no Chromium on PATH (Debian: apt-get install chromium)");
            System.exit(1);
        }
        Path work = Files.createTempDirectory("report-screenshot");
        HeadlessChromium.Render r = chromium.render(html, work, width, height);
        System.out.println(r.summary());
        try {
            r.assertClean(html.toString());
        } catch (AssertionError e) {
            System.err.println("ReportScreenshot: " + e.getMessage());
            System.exit(1);
        }
        Files.createDirectories(png.getParent());
        Files.copy(r.screenshot(), png, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("wrote " + png);
    }
}
