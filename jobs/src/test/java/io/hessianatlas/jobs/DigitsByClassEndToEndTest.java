package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.hessianatlas.jobs.demo.TrainDigitsModel;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.HeadlessChromium;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `analyze --by-class --density --network --report` on the demo's trained digits network (Spark ML MLP
 * 64-32-10 fitted here on scripts/demo-data/digits.csv, 1797 rows, 10 classes): the classes table
 * against the per-sample tables of the same run. Layer 1's block (d = 2080, 35 MB) is dense
 * globally but ten of them exceed the 256 MiB budget, so its class rows use the Kronecker
 * estimate; layer 2's (d = 330) are dense per class. The report renders in headless Chromium with
 * no console message and no network request, from disk and unpacked from a zip.
 */
class DigitsByClassEndToEndTest {
    /** Class mean trace vs the mean of the written per-sample traces: only summation order differs. */
    private static final double CLASS_MEAN_RELATIVE = 1e-10;
    private static final int CLASSES = 10;
    private static final int ROWS = 1797;

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    private static Path out;
    private static CliRun run;

    @BeforeAll
    static void trainAndAnalyze() {
        spark = SparkTestSession.start(DigitsByClassEndToEndTest.class.getSimpleName());
        Path model = TrainDigitsModel.train(spark, tmp.resolve("digits-mlp"));
        out = tmp.resolve("out");
        run = CliRun.of("analyze", "--model", model.toString(), "--data", TrainDigitsModel.DIGITS_CSV.toString(),
                "--format", "csv", "--out", out.toString(), "--by-class", "--density", "--network", "--report", "--top-k", "5",
                "--density-steps", "20", "--density-probes", "4");
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @Test
    void classesTableMatchesThePerSampleTables() {
        assertEquals(0, run.exitCode, run.toString());
        Dataset<Row> samples = spark.read().parquet(out.resolve("samples").toString());
        Dataset<Row> perLayer = spark.read().parquet(out.resolve("sample_layers").toString())
                .join(samples.select("sample_id", "label", "loss", "predicted_class"), "sample_id");
        // layer 0 (the network): the per-sample traces summed over the layers
        Dataset<Row> network = perLayer.groupBy("sample_id", "label").agg(functions.sum("trace").as("trace"))
                .withColumn("layer", functions.lit(0));
        Map<String, double[]> expected = new HashMap<>();
        for (Row r : perLayer.select("label", "layer", "trace").unionByName(network.select("label", "layer", "trace"))
                .groupBy("label", "layer").agg(functions.avg("trace"), functions.count("trace")).collectAsList()) {
            expected.put(r.getInt(0) + "/" + r.getInt(1), new double[] {r.getDouble(2), r.getLong(3)});
        }
        Map<Integer, double[]> lossAccuracy = new HashMap<>();
        for (Row r : samples.groupBy("label").agg(functions.avg("loss"),
                functions.avg(functions.when(functions.col("label").equalTo(functions.col("predicted_class")), 1.0)
                        .otherwise(0.0))).collectAsList()) {
            lossAccuracy.put(r.getInt(0), new double[] {r.getDouble(1), r.getDouble(2)});
        }

        List<Row> classes = spark.read().parquet(out.resolve("classes").toString()).collectAsList();
        assertEquals(CLASSES * 3, classes.size(), "10 classes x (network, layer 1, layer 2)");
        long total = 0;
        for (Row c : classes) {
            int cls = c.getInt(c.fieldIndex("class"));
            int layer = c.getInt(c.fieldIndex("layer"));
            String at = "class " + cls + " layer " + layer + ": ";
            double[] e = expected.get(cls + "/" + layer);
            double trace = c.getDouble(c.fieldIndex("trace"));
            assertEquals((long) e[1], c.getLong(c.fieldIndex("samples")), at + "samples");
            assertEquals(0.0, Math.abs(trace - e[0]) / Math.abs(e[0]), CLASS_MEAN_RELATIVE,
                    at + "trace " + trace + " vs the mean of its samples' traces " + e[0]);
            assertEquals(lossAccuracy.get(cls)[0], c.getDouble(c.fieldIndex("loss")), 1e-12 * lossAccuracy.get(cls)[0],
                    at + "mean loss");
            assertEquals(lossAccuracy.get(cls)[1], c.getDouble(c.fieldIndex("accuracy")), 1e-12, at + "accuracy");
            String method = c.getString(c.fieldIndex("lambda_max_method"));
            assertEquals(layer == 0 ? "block_max" : layer == 1 ? "kronecker" : "dense", method, at + "lambda_max_method");
            assertTrue(c.getDouble(c.fieldIndex("lambda_max")) > 0, at + "lambda_max of a GGN block is positive");
            if (layer == 2) {
                total += c.getLong(c.fieldIndex("samples"));
            }
        }
        assertEquals(ROWS, total, "every digit is in one class");
        assertTrue(run.out.contains("per class (whole network)"), run.out);
    }

    /** The pipeline's VectorAssembler needs p0..p63: data without p63 is exit 2 naming the stage and the column. */
    @Test
    void dataWithoutAPipelineInputColumnNamesTheStage() throws Exception {
        List<String> lines = Files.readAllLines(TrainDigitsModel.DIGITS_CSV);
        Path csv = tmp.resolve("digits-without-p63.csv");
        Files.write(csv, lines.stream().limit(50).map(l -> l.substring(0, l.lastIndexOf(','))).toList());
        CliRun bad = CliRun.of("analyze", "--model", tmp.resolve("digits-mlp").toString(), "--data", csv.toString(),
                "--format", "csv", "--out", tmp.resolve("out-missing-column").toString());
        assertEquals(2, bad.exitCode, bad.toString());
        String first = bad.err.lines().findFirst().orElse("");
        assertTrue(first.startsWith("error: --data: the model's pipeline stage 0 (VectorAssembler ")
                && first.contains("needs column(s) the data lacks: p63 (columns: label, p0, p1,"), first);
    }

    @Test
    void reportRendersWithoutErrorsOrRequests() throws Exception {
        assertEquals(0, run.exitCode, run.toString());
        Path html = out.resolve("report.html");
        assertTrue(run.out.contains("report: ") && run.out.contains("report.html"), run.out);
        String page = Files.readString(html);
        for (String section : new String[] {"Per class", "Spectral density", "KFAC quality", "most curved samples"}) {
            assertTrue(page.contains(section), "report.html has a '" + section + "' section");
        }
        List<Path> charts;
        try (var files = Files.list(out.resolve("report"))) {
            charts = files.sorted().toList();
        }
        long svg = charts.stream().filter(f -> f.toString().endsWith(".svg")).count();
        long png = charts.stream().filter(f -> f.toString().endsWith(".png")).count();
        assertTrue(svg >= 8 && svg == png, "every chart as SVG and PNG beside the report: " + charts);
        for (Path f : charts) {
            if (f.toString().endsWith(".png")) {
                assertTrue(javax.imageio.ImageIO.read(f.toFile()).getWidth() > 100, f + " is an image");
            }
        }

        HeadlessChromium chromium = HeadlessChromium.requireOrSkip();
        HeadlessChromium.Render r = chromium.render(html, tmp.resolve("chromium"), 1280, 4000);
        r.assertClean(html.toString());
        HeadlessChromium.ImageStats stats = HeadlessChromium.imageStats(r.screenshot());
        assertTrue(stats.foregroundFraction() > 0.03 && stats.colours() > 50, "the screenshot looks blank: " + stats);

        // the same page out of a zip of the output folder: it needs nothing beside itself
        Path zip = tmp.resolve("out.zip");
        try (var zos = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            zos.putNextEntry(new java.util.zip.ZipEntry("out/report.html"));
            zos.write(Files.readAllBytes(html));
            zos.closeEntry();
        }
        Path unpacked = tmp.resolve("unzipped");
        try (var zis = new java.util.zip.ZipInputStream(Files.newInputStream(zip))) {
            java.util.zip.ZipEntry e = zis.getNextEntry();
            Path target = Files.createDirectories(unpacked.resolve("out")).resolve("report.html");
            Files.write(target, zis.readAllBytes());
            assertEquals("out/report.html", e.getName());
        }
        HeadlessChromium.Render alone = chromium.render(unpacked.resolve("out/report.html"), tmp.resolve("chromium-zip"),
                1280, 4000);
        alone.assertClean("report.html alone, unpacked from a zip");
        assertEquals(stats.foreground(), HeadlessChromium.imageStats(alone.screenshot()).foreground(),
                "the page alone renders as with its folder");
    }
}
