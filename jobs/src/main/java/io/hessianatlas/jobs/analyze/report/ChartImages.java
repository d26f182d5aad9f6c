package io.hessianatlas.jobs.analyze.report;

import java.awt.Rectangle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import io.hessianatlas.jobs.analyze.report.ReportCharts.ReportChart;
import org.jfree.chart.ChartUtils;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.ViewBox;

/**
 * Draws a chart twice, headless: as SVG (JFreeSVG's SVGGraphics2D), which the page inlines and
 * report/&lt;name&gt;.svg holds, and as PNG (report/&lt;name&gt;.png). The SVG's definitions
 * (clip paths) are keyed by the chart's name, so the charts inlined in one page never share an id
 * and the output does not change from run to run (JFreeSVG's default key is the clock).
 */
final class ChartImages {
    /** Pixels (PNG) and user units (SVG) of every chart: the width of the page's column. */
    static final int WIDTH = 960;
    static final int HEIGHT = 440;
    private static final int COORDINATE_DECIMALS = 2;
    private static final double COORDINATE_SCALE = Math.pow(10, COORDINATE_DECIMALS);
    private static final String XML_PROLOG = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    private ChartImages() {
    }

    /**
     * One chart drawn.
     *
     * @param inlineSvg the {@code <svg>} element for the page: a viewBox and no fixed size, so it scales with the column
     * @param svgFile   a standalone SVG document (UTF-8)
     * @param png       the PNG file's bytes
     */
    record Drawn(ReportChart chart, String inlineSvg, byte[] svgFile, byte[] png) {
    }

    /**
     * Sets java.awt.headless=true unless the JVM was told otherwise: a driver on a cluster node has
     * no display, and AWT decides once, at its first use, whether it has one.
     */
    static void ensureHeadless() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /**
     * A coordinate with {@link #COORDINATE_DECIMALS} decimals: a hundredth of a user unit is below any
     * screen's pixel, and JFreeSVG's default of every digit of a double triples the SVG's size.
     */
    static String coordinate(double v) {
        if (!Double.isFinite(v)) {
            return "0";
        }
        double r = Math.round(v * COORDINATE_SCALE) / COORDINATE_SCALE;
        if (r == Math.rint(r) && Math.abs(r) < 1e15) {
            return Long.toString((long) r);
        }
        return java.math.BigDecimal.valueOf(r).stripTrailingZeros().toPlainString();
    }

    static Drawn draw(ReportChart c) throws IOException {
        ensureHeadless();
        Rectangle area = new Rectangle(0, 0, WIDTH, HEIGHT);
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        g.setDefsKeyPrefix(c.name() + "-");
        g.setGeomDoubleConverter(ChartImages::coordinate);
        c.chart().draw(g, area);
        ViewBox box = new ViewBox(0, 0, WIDTH, HEIGHT);
        String element = g.getSVGElement("chart-" + c.name(), false, box, null, null);
        // Not getSVGDocument(): its DOCTYPE names a DTD on the web, which a validating reader would fetch.
        byte[] svg = (XML_PROLOG + g.getSVGElement(null, true, box, null, null) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, c.chart(), WIDTH, HEIGHT);
        return new Drawn(c, element, svg, png.toByteArray());
    }
}
