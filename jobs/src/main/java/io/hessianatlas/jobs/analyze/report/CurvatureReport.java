package io.hessianatlas.jobs.analyze.report;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.jobs.analyze.report.ChartImages.Drawn;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * report.html of an output folder (issue 12): the run's header, every layer's spectrum beside its
 * KFAC approximation, the spectral density, the distribution of the per-sample curvature with the
 * most curved samples, KFAC quality and, with --by-class, the per-class view. One self-contained
 * page (no script, no external resource; charts inlined as SVG) and each chart again as
 * report/&lt;name&gt;.svg and .png beside it. Written through Hadoop's FileSystem, so the folder may be
 * on HDFS or S3 as well as local; the per-sample tables are aggregated by Spark, never collected.
 */
public final class CurvatureReport {
    /** The page's file name in the output folder. */
    public static final String HTML = "report.html";

    private CurvatureReport() {
    }

    /**
     * What {@link #write} wrote.
     *
     * @param html   the path of report.html
     * @param charts the paths of the chart files, each chart's .svg then its .png, in page order
     */
    public record Written(String html, List<String> charts) {
        public Written {
            charts = List.copyOf(charts);
        }
    }

    /**
     * Reads the Parquet tables in dir (a Hadoop path: the staged output folder of a run) and the run's
     * run.json text, writes dir/report.html (self-contained) and every chart beside it as
     * dir/report/&lt;name&gt;.svg and .png, replacing earlier ones.
     */
    public static Written write(SparkSession spark, String dir, String runJson) throws IOException {
        ChartImages.ensureHeadless();
        Path root = new Path(dir);
        FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
        RunSummary run = RunSummary.parse(runJson);
        ReportTables tables = ReportTables.read(spark, fs, dir);
        SampleStatistics samples = SampleStatistics.compute(spark, fs, dir);
        ReportPage.Page page = ReportPage.build(run, tables, samples);
        Path folder = new Path(root, ReportPage.CHART_FOLDER);
        fs.mkdirs(folder);
        List<String> charts = new ArrayList<>();
        for (Drawn d : page.charts()) {
            charts.add(writeFile(fs, new Path(folder, d.chart().name() + ".svg"), d.svgFile()));
            charts.add(writeFile(fs, new Path(folder, d.chart().name() + ".png"), d.png()));
        }
        String html = writeFile(fs, new Path(root, HTML), page.html().getBytes(StandardCharsets.UTF_8));
        return new Written(html, charts);
    }

    private static String writeFile(FileSystem fs, Path path, byte[] bytes) throws IOException {
        try (OutputStream out = fs.create(path, true)) {
            out.write(bytes);
        }
        return path.toString();
    }
}
