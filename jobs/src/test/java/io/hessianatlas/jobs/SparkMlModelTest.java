package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.model.io.NativeModelWriter;
import io.hessianatlas.common.model.io.SparkMlpWeights;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `atlas analyze` on saved Spark ML models (docs/design.md §6: a MultilayerPerceptronClassificationModel
 * directory, or a PipelineModel ending in one): a tiny MLP [4, 5, 3] trained here on synthetic
 * data, (1) alone on an assembled vector column and (2) behind VectorAssembler + StandardScaler in
 * a Pipeline fitted on raw numeric columns. Each Spark ML run is compared, table by table
 * (`layers`, `spectrum`, `samples`, relative 1e-10), with a run on the same network written in the
 * native format over the features the pipeline produced; the per-sample outputs are also checked
 * against the probabilities Spark ML itself predicts (which checks the weight decoding). Other
 * Spark ML models, and pipelines not ending in an MLP, are rejected with exit code 2 and a message
 * naming the folder.
 */
class SparkMlModelTest {
    private static final int ROWS = 60;
    private static final int CLASSES = 3;
    private static final String[] RAW = {"f0", "f1", "f2", "f3"};
    private static final int[] LAYERS = {4, 5, 3};
    private static final double REL = 1e-10;

    private static SparkSession spark;
    /** id (long), f0..f3 (double, deliberately not standardised), label (double class index). */
    private static Dataset<Row> raw;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(SparkMlModelTest.class.getSimpleName());
        raw = syntheticData();
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    /**
     * Three Gaussian blobs in 4-D, fixed seed; offsets and scales are not standardised (so the
     * pipeline's scaler matters) but moderate (so the standalone MLP's sigmoids do not saturate).
     */
    private static Dataset<Row> syntheticData() {
        Random rnd = new Random(20240611L);
        double[][] centers = {{1, 0, -1, 0.5}, {-1, 1, 0, -0.5}, {0, -1, 1, 0}};
        double[] offset = {2, -1, 0.5, 3};
        double[] scale = {1.5, 0.5, 1, 3};
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            int c = i % CLASSES;
            Object[] v = new Object[RAW.length + 2];
            v[0] = (long) (1000 + 7 * i);
            for (int j = 0; j < RAW.length; j++) {
                v[1 + j] = offset[j] + scale[j] * (centers[c][j] + 0.8 * rnd.nextGaussian());
            }
            v[RAW.length + 1] = (double) c;
            rows.add(RowFactory.create(v));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType, false);
        for (String f : RAW) {
            schema = schema.add(f, DataTypes.DoubleType, false);
        }
        schema = schema.add("label", DataTypes.DoubleType, false);
        return spark.createDataFrame(rows, schema);
    }

    private static MultilayerPerceptronClassifier mlp() {
        return new MultilayerPerceptronClassifier().setLayers(LAYERS).setMaxIter(20).setSeed(11L)
                .setFeaturesCol("features").setLabelCol("label");
    }

    private static VectorAssembler assembler(String out) {
        return new VectorAssembler().setInputCols(RAW).setOutputCol(out);
    }

    @Test
    void standaloneMlpMatchesItsNativeCopy() throws Exception {
        Path dir = tmp.resolve("standalone");
        Dataset<Row> assembled = assembler("features").transform(raw).select("id", "features", "label");
        MultilayerPerceptronClassificationModel model = mlp().fit(assembled);
        String modelDir = dir.resolve("spark-mlp").toString();
        model.write().save(modelDir);
        String data = dir.resolve("data.parquet").toString();
        assembled.write().parquet(data);

        Path sparkOut = analyze(modelDir, data, dir.resolve("out-spark"));
        Path nativeOut = analyzeNativeCopy(model, data, dir);

        assertManifestKind(sparkOut, "spark-ml-mlp");
        assertCurvatureNotTrivial(sparkOut);
        assertSameTables(sparkOut, nativeOut);
        assertOutputsMatchSparkPredictions(model.transform(assembled), sparkOut);

        // an MLP is trained with softmax cross-entropy: --loss may say so, and may not say another
        CliRun wrongLoss = CliRun.of("analyze", "--model", modelDir, "--data", data, "--out", dir.resolve("out-mse").toString(),
                "--loss", "mse", "--master", "local[2]");
        assertEquals(2, wrongLoss.exitCode, wrongLoss.toString());
        assertTrue(wrongLoss.err.startsWith("error: --loss: mse disagrees with softmax_cross_entropy"), wrongLoss.toString());
    }

    @Test
    void pipelineWithScalerMatchesItsNativeCopy() throws Exception {
        Path dir = tmp.resolve("pipeline");
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
            assembler("raw_features"),
            new StandardScaler().setInputCol("raw_features").setOutputCol("features").setWithMean(true).setWithStd(true),
            mlp()});
        PipelineModel fitted = pipeline.fit(raw);
        String modelDir = dir.resolve("spark-pipeline").toString();
        fitted.write().save(modelDir);
        String rawData = dir.resolve("raw.parquet").toString();
        raw.write().parquet(rawData);

        // the features the pipeline's own stages produce, as the native run's input
        Transformer[] stages = fitted.stages();
        Dataset<Row> transformed = raw;
        for (int i = 0; i < stages.length - 1; i++) {
            transformed = stages[i].transform(transformed);
        }
        String featureData = dir.resolve("features.parquet").toString();
        transformed.select("id", "features", "label").write().parquet(featureData);

        Path sparkOut = analyze(modelDir, rawData, dir.resolve("out-spark"));
        MultilayerPerceptronClassificationModel model = (MultilayerPerceptronClassificationModel) stages[stages.length - 1];
        Path nativeOut = analyzeNativeCopy(model, featureData, dir);

        assertManifestKind(sparkOut, "spark-ml-pipeline");
        assertCurvatureNotTrivial(sparkOut);
        assertSameTables(sparkOut, nativeOut);
        assertOutputsMatchSparkPredictions(fitted.transform(raw), sparkOut);
    }

    @Test
    void otherSparkMlModelIsRejected() throws Exception {
        Path dir = tmp.resolve("logreg");
        Dataset<Row> assembled = assembler("features").transform(raw).select("id", "features", "label");
        LogisticRegressionModel lr = new LogisticRegression().setMaxIter(5).fit(assembled);
        String modelDir = dir.resolve("spark-logreg").toString();
        lr.write().save(modelDir);
        String data = dir.resolve("data.parquet").toString();
        assembled.write().parquet(data);

        assertRejected(modelDir, data, dir.resolve("out"), "LogisticRegressionModel");
    }

    @Test
    void pipelineNotEndingInMlpIsRejected() throws Exception {
        Path dir = tmp.resolve("pipeline-logreg");
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {
            assembler("features"), new LogisticRegression().setMaxIter(5)}).fit(raw);
        String modelDir = dir.resolve("spark-pipeline-logreg").toString();
        fitted.write().save(modelDir);
        String data = dir.resolve("raw.parquet").toString();
        raw.write().parquet(data);

        assertRejected(modelDir, data, dir.resolve("out"), "LogisticRegressionModel");
    }

    // ---------------------------------------------------------------------------------------------

    private static Path analyze(String model, String data, Path out) {
        CliRun run = CliRun.of("analyze", "--model", model, "--data", data, "--format", "parquet",
                "--out", out.toString(), "--mode", "ggn", "--id-col", "id", "--top-k", "1000", "--master", "local[2]");
        assertEquals(0, run.exitCode, run.toString());
        assertTrue(Files.exists(out.resolve("_SUCCESS")), "_SUCCESS under " + out);
        return out;
    }

    /** Writes the MLP's network in the native format and analyses {@code data} with it. */
    private static Path analyzeNativeCopy(MultilayerPerceptronClassificationModel model, String data, Path dir) {
        Network network = SparkMlpWeights.decode(model.getLayers(), model.weights().toArray());
        Path nativeDir = dir.resolve("native");
        NativeModelWriter.write(network, nativeDir);
        return analyze(nativeDir.toString(), data, dir.resolve("out-native"));
    }

    private static void assertRejected(String modelDir, String data, Path out, String className) {
        CliRun run = CliRun.of("analyze", "--model", modelDir, "--data", data, "--out", out.toString(),
                "--mode", "ggn", "--master", "local[2]");
        assertEquals(2, run.exitCode, run.toString());
        assertTrue(run.err.contains(modelDir), "the error names the folder: " + run);
        assertTrue(run.err.contains(className), "the error names what the folder holds: " + run);
        assertTrue(run.err.contains("MultilayerPerceptronClassificationModel"), "the error says what is expected: " + run);
        assertEquals(1, run.err.lines().filter(l -> l.startsWith("error:")).count(), "one error line: " + run);
        assertFalse(Files.exists(out.resolve("_SUCCESS")), "no output written for a rejected model");
    }

    private static void assertManifestKind(Path out, String kind) throws Exception {
        JsonNode manifest = OutputTables.runJson(out);
        assertEquals(kind, manifest.get("model").get("kind").asText());
        assertEquals(ROWS, manifest.get("input").get("rows_used").asInt());
        assertEquals("[4,5,3]", manifest.get("model").get("widths").toString());
    }

    /** Every layer's mean trace is well above rounding level, so that comparing the runs means something. */
    private static void assertCurvatureNotTrivial(Path out) {
        for (Row r : spark.read().parquet(out.resolve("layers").toString()).collectAsList()) {
            double trace = r.getDouble(r.fieldIndex("trace"));
            assertTrue(trace > 1e-6, "layer " + r.getInt(r.fieldIndex("layer")) + " trace " + trace
                    + ": the tiny MLP should not be saturated");
        }
    }

    /** layers, spectrum and samples of two runs agree to relative 1e-10 (eigenvalues: of that matrix's scale). */
    private static void assertSameTables(Path actual, Path expected) {
        compareTable(actual, expected, "layers", new String[] {"layer"}, (rows, r) -> {
            // lambda_min may be a rounding-level zero: measure it against the layer's lambda_max
            double lmax = r.isNullAt(r.fieldIndex("lambda_max")) ? 0 : Math.abs(r.getDouble(r.fieldIndex("lambda_max")));
            return Map.of("lambda_min", lmax, "lambda_max", lmax);
        });
        compareTable(actual, expected, "spectrum", new String[] {"layer", "matrix", "method", "rank"}, (rows, r) -> {
            double scale = 0;
            for (Row o : rows) {
                if (o.getInt(0) == r.getInt(0) && o.getString(1).equals(r.getString(1))) {
                    scale = Math.max(scale, Math.abs(o.getDouble(o.fieldIndex("eigenvalue"))));
                }
            }
            return Map.of("eigenvalue", scale);
        });
        compareTable(actual, expected, "samples", new String[] {"sample_id"}, (rows, r) -> Map.of("output", 1.0));
        compareTable(actual, expected, "sample_layers", new String[] {"sample_id", "layer"}, (rows, r) -> Map.of());
        List<Long> ids = spark.read().parquet(actual.resolve("samples").toString()).select("sample_id").distinct()
                .orderBy("sample_id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
        assertEquals(ROWS, ids.size());
        assertEquals(1000L, ids.get(0), "sample_id comes from --id-col");
    }

    /**
     * Rows of {@code table} in both runs, ordered by {@code key}: same schema, same keys, same
     * non-double values, doubles (and arrays of doubles) with |a - b| <= 1e-10 max(|a|, |b|, scale),
     * scale per column from {@code scales} (0 when absent: purely relative).
     */
    private static void compareTable(Path actual, Path expected, String table, String[] key,
                                     BiFunction<List<Row>, Row, Map<String, Double>> scales) {
        Dataset<Row> a = spark.read().parquet(actual.resolve(table).toString());
        Dataset<Row> e = spark.read().parquet(expected.resolve(table).toString());
        assertEquals(e.schema(), a.schema(), table + " schema");
        String first = key[0];
        String[] rest = Arrays.copyOfRange(key, 1, key.length);
        List<Row> ar = a.orderBy(first, rest).collectAsList();
        List<Row> er = e.orderBy(first, rest).collectAsList();
        assertEquals(er.size(), ar.size(), table + " row count");
        assertFalse(er.isEmpty(), table + " has rows");
        String[] names = e.schema().fieldNames();
        Map<Row, Map<String, Double>> scaleCache = new HashMap<>();
        for (int i = 0; i < er.size(); i++) {
            Row x = ar.get(i);
            Row y = er.get(i);
            Map<String, Double> sc = scaleCache.computeIfAbsent(y, r -> scales.apply(er, r));
            for (int c = 0; c < names.length; c++) {
                String at = table + " row " + i + " " + keyOf(y, key) + " column " + names[c];
                Object vx = x.get(c);
                Object vy = y.get(c);
                if (vy instanceof Double) {
                    assertClose(at, (Double) vy, (Double) vx, sc.getOrDefault(names[c], 0.0));
                } else if (vy instanceof scala.collection.Seq || vy instanceof List) {
                    List<Object> lx = x.getList(c);
                    List<Object> ly = y.getList(c);
                    assertEquals(ly.size(), lx.size(), at + " length");
                    for (int k = 0; k < ly.size(); k++) {
                        assertClose(at + "[" + k + "]", (Double) ly.get(k), (Double) lx.get(k),
                                sc.getOrDefault(names[c], 0.0));
                    }
                } else {
                    assertEquals(vy, vx, at);
                }
            }
        }
    }

    private static String keyOf(Row r, String[] key) {
        StringBuilder sb = new StringBuilder("(");
        for (String k : key) {
            sb.append(sb.length() > 1 ? ", " : "").append(k).append('=').append((Object) r.getAs(k));
        }
        return sb.append(')').toString();
    }

    private static void assertClose(String at, Double expected, Double actual, double scale) {
        if (expected == null || actual == null) {
            assertEquals(expected, actual, at);
            return;
        }
        double tol = REL * Math.max(scale, Math.max(Math.abs(expected), Math.abs(actual)));
        if (!(Math.abs(expected - actual) <= tol)) {
            fail(at + ": expected " + expected + " but was " + actual + " (|diff| " + Math.abs(expected - actual)
                    + " > " + tol + ")");
        }
    }

    /**
     * The `output` of every sample (softmax of the logits) equals Spark ML's own `probability`,
     * and `predicted_class` its `prediction`: the decoded network is the trained one.
     */
    private static void assertOutputsMatchSparkPredictions(Dataset<Row> predictions, Path out) {
        Map<Long, Row> byId = new HashMap<>();
        for (Row r : predictions.select("id", "probability", "prediction").collectAsList()) {
            byId.put(r.getLong(0), r);
        }
        List<Row> samples = spark.read().parquet(out.resolve("samples").toString()).collectAsList();
        assertEquals(ROWS, samples.size());
        Function<Row, Long> id = r -> r.getLong(r.fieldIndex("sample_id"));
        for (Row s : samples) {
            Row p = byId.get(id.apply(s));
            assertTrue(p != null, "sample_id " + id.apply(s) + " is an input id");
            Vector prob = p.getAs(1);
            List<Double> output = s.getList(s.fieldIndex("output"));
            assertEquals(CLASSES, output.size());
            for (int k = 0; k < CLASSES; k++) {
                assertClose("sample " + id.apply(s) + " output[" + k + "] vs Spark ML probability", prob.apply(k),
                        output.get(k), 1.0);
            }
            assertEquals((int) p.getDouble(2), s.getInt(s.fieldIndex("predicted_class")),
                    "sample " + id.apply(s) + " predicted_class vs Spark ML prediction");
        }
    }
}
