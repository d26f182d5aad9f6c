package io.hessianatlas.jobs.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Output folders for report tests, written as an `analyze` run of schema_version 2 would write them
 * (README "Outputs": the tables {@code layers}, {@code spectrum}, {@code factors}, {@code samples},
 * {@code sample_layers} and optionally {@code density} and {@code classes}, plus run.json's text),
 * from small hand-made values whose every number the test can predict:
 * <ul>
 *   <li>{@link #hessian}: hessian mode, layer 0 (--network), negative eigenvalues, layer 2's Lanczos
 *       unconverged, two warnings, long sample ids and int labels; no density, no classes;</li>
 *   <li>{@link #ggn}: ggn mode, no layer 0, dense, Kronecker and Lanczos layers, density and classes,
 *       string sample ids and double labels (binary cross-entropy);</li>
 *   <li>{@link #minimal}: mse with array labels, one dense layer without KFAC numbers, no optional table.</li>
 * </ul>
 */
public final class ReportFixtures {
    /** The warning texts of {@link #hessian}'s run.json. */
    public static final String UNCONVERGED_WARNING =
            "layer 2: Lanczos did not converge after 30 passes (largest residual 0.0123); its eigenvalues are estimates";
    public static final String SKIPPED_WARNING = "2 rows skipped: label out of range <3> & \"quoted\"";

    private ReportFixtures() {
    }

    /**
     * A fixture folder and what a report of it must show.
     *
     * @param runJson      run.json's text
     * @param scores       per sample id, the score the top table ranks by (layer 0's trace, or the sum over layers)
     * @param labels       per sample id, the label as the page prints it
     * @param sampleLayers per sample id, layer → {trace, lambda_max}
     */
    public record Fixture(Path dir, String runJson, Map<Object, Double> scores, Map<Object, String> labels,
                          Map<Object, Map<Integer, double[]>> sampleLayers) {
        /** The ids of the top n samples: score descending, ties by id ascending (an independent ranking). */
        public List<Object> topIds(int n) {
            List<Object> ids = new ArrayList<>(scores.keySet());
            ids.sort(Comparator.<Object>comparingDouble(scores::get).reversed().thenComparing((a, b) -> compareIds(a, b)));
            return ids.subList(0, Math.min(n, ids.size()));
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static int compareIds(Object a, Object b) {
            return ((Comparable) a).compareTo(b);
        }
    }

    // ---- schemas (schema_version 2) ----

    static final StructType LAYERS = new StructType()
            .add("layer", DataTypes.IntegerType, false).add("name", DataTypes.StringType, false)
            .add("fan_in", DataTypes.IntegerType, true).add("fan_out", DataTypes.IntegerType, true)
            .add("params", DataTypes.LongType, false).add("samples", DataTypes.LongType, false)
            .add("mode", DataTypes.StringType, false).add("trace", DataTypes.DoubleType, false)
            .add("frobenius", DataTypes.DoubleType, true).add("lambda_max", DataTypes.DoubleType, true)
            .add("lambda_min", DataTypes.DoubleType, true).add("kfac_rel_error", DataTypes.DoubleType, true)
            .add("kfac_overlap", DataTypes.DoubleType, true).add("overlap_k", DataTypes.IntegerType, true)
            .add("grad_norm", DataTypes.DoubleType, false).add("spectrum_method", DataTypes.StringType, false)
            .add("lanczos_passes", DataTypes.IntegerType, true).add("lanczos_converged", DataTypes.BooleanType, true)
            .add("density_passes", DataTypes.IntegerType, true);
    static final StructType SPECTRUM = new StructType()
            .add("layer", DataTypes.IntegerType, false).add("matrix", DataTypes.StringType, false)
            .add("method", DataTypes.StringType, false).add("rank", DataTypes.IntegerType, false)
            .add("eigenvalue", DataTypes.DoubleType, false).add("residual", DataTypes.DoubleType, true);
    static final StructType DENSITY = new StructType()
            .add("layer", DataTypes.IntegerType, false).add("matrix", DataTypes.StringType, false)
            .add("x", DataTypes.DoubleType, false).add("density", DataTypes.DoubleType, false);
    static final StructType FACTORS = new StructType()
            .add("layer", DataTypes.IntegerType, false).add("matrix", DataTypes.StringType, false)
            .add("row", DataTypes.IntegerType, false)
            .add("values", DataTypes.createArrayType(DataTypes.DoubleType, false), false);
    static final StructType CLASSES = new StructType()
            .add("class", DataTypes.IntegerType, false).add("layer", DataTypes.IntegerType, false)
            .add("samples", DataTypes.LongType, false).add("loss", DataTypes.DoubleType, false)
            .add("accuracy", DataTypes.DoubleType, false).add("trace", DataTypes.DoubleType, false)
            .add("lambda_max", DataTypes.DoubleType, true).add("lambda_max_method", DataTypes.StringType, false)
            .add("a_lambda_max", DataTypes.DoubleType, true).add("g_lambda_max", DataTypes.DoubleType, true);

    static StructType samples(DataType id, DataType label, boolean predicted) {
        StructType s = new StructType().add("sample_id", id, false).add("label", label, false)
                .add("loss", DataTypes.DoubleType, false)
                .add("output", DataTypes.createArrayType(DataTypes.DoubleType, false), false);
        return predicted ? s.add("predicted_class", DataTypes.IntegerType, true) : s;
    }

    static StructType sampleLayers(DataType id) {
        return new StructType().add("sample_id", id, false).add("layer", DataTypes.IntegerType, false)
                .add("trace", DataTypes.DoubleType, false).add("lambda_max", DataTypes.DoubleType, false)
                .add("grad_norm", DataTypes.DoubleType, false);
    }

    // ---- fixtures ----

    /**
     * hessian mode, widths [4, 30, 10] softmax: layer 1 dense (150 parameters; H with 8 negative
     * eigenvalues and one exact 0, F and A⊗G), layer 2 Lanczos top-5/bottom-5 not converged (310),
     * layer 0 the network by Lanczos (460); 200 samples with ids 1000…1199 whose layer-2 trace is
     * negative for 40 of them and 0 for one.
     */
    public static Fixture hessian(SparkSession spark, Path dir) {
        List<Row> layers = List.of(
                layerRow(0, "network", null, null, 460, 200, "hessian", 20.75, null, 9.5, -2.25, null, null, null, 0.125,
                        "lanczos", 24, true, null),
                layerRow(1, "fc1", 5, 30, 150, 200, "hessian", 12.5, 7.25, 6.0, -1.5, 0.3125, 0.8, 5, 0.0625,
                        "dense", null, null, null),
                layerRow(2, "fc2", 31, 10, 310, 200, "hessian", 8.25, null, 4.0, -1.25, null, 0.6, 5, 0.09375,
                        "lanczos", 30, false, null));
        List<Row> spectrum = new ArrayList<>();
        // layer 1, dense H: 150 eigenvalues, 141 positive, one exact 0, 8 negative
        for (int r = 1; r <= 150; r++) {
            double v = r <= 141 ? 6.0 * Math.pow(0.9, r - 1) : r == 142 ? 0.0 : -1.5 * Math.pow(0.6, 150 - r);
            spectrum.add(RowFactory.create(1, "H", "dense", r, v, null));
            spectrum.add(RowFactory.create(1, "AxG", "kronecker", r, 5.0 * Math.pow(0.85, r - 1), null));
            spectrum.add(RowFactory.create(1, "F", "dense", r, 7.0 * Math.pow(0.8, r - 1), null));
        }
        // layer 2, Lanczos top 5 and bottom 5 (ranks 306..310), residuals; A⊗G of all 310
        double[] top2 = {4.0, 2.0, 1.0, 0.5, 0.25};
        double[] res2 = {0.0123, 0.004, 0.002, 0.001, 0.0005};
        for (int i = 0; i < 5; i++) {
            spectrum.add(RowFactory.create(2, "H", "lanczos", i + 1, top2[i], res2[i]));
            spectrum.add(RowFactory.create(2, "H", "lanczos", 306 + i, -0.05 * (i + 1) * (i + 1), 0.001 * (i + 1)));
        }
        for (int r = 1; r <= 310; r++) {
            spectrum.add(RowFactory.create(2, "AxG", "kronecker", r, 3.0 * Math.pow(0.95, r - 1), null));
        }
        // layer 0, the network: top 3 and bottom 2 by Lanczos, converged
        double[] top0 = {9.5, 6.25, 3.125};
        for (int i = 0; i < 3; i++) {
            spectrum.add(RowFactory.create(0, "H", "lanczos", i + 1, top0[i], 1e-9 * (i + 1)));
        }
        spectrum.add(RowFactory.create(0, "H", "lanczos", 459, -1.125, 2e-9));
        spectrum.add(RowFactory.create(0, "H", "lanczos", 460, -2.25, 3e-9));

        int n = 200;
        List<Row> samples = new ArrayList<>();
        List<Row> sampleLayers = new ArrayList<>();
        Map<Object, Double> scores = new LinkedHashMap<>();
        Map<Object, String> labels = new LinkedHashMap<>();
        Map<Object, Map<Integer, double[]>> perLayer = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            long id = 1000 + i;
            int label = i % 3;
            double t1 = 0.5 + ((i * 37) % 200) * 0.01;
            double t2 = (((i * 53) % 200) - 40) * 0.001;
            double t0 = t1 + t2;
            double l1 = 0.25 + ((i * 11) % 200) * 0.005;
            double l2 = Math.max(0, t2) * 0.5;
            double l0 = l1 + 0.125;
            int predicted = i % 5 == 0 ? (label + 1) % 3 : label;
            samples.add(RowFactory.create(id, label, 0.1 + (i % 7) * 0.05, new double[] {0.2, 0.3, 0.5}, predicted));
            sampleLayers.add(RowFactory.create(id, 0, t0, l0, 1.0));
            sampleLayers.add(RowFactory.create(id, 1, t1, l1, 0.5));
            sampleLayers.add(RowFactory.create(id, 2, t2, l2, 0.25));
            scores.put(id, t0);
            labels.put(id, String.valueOf(label));
            perLayer.put(id, Map.of(0, new double[] {t0, l0}, 1, new double[] {t1, l1}, 2, new double[] {t2, l2}));
        }
        write(spark, dir, "layers", layers, LAYERS);
        write(spark, dir, "spectrum", spectrum, SPECTRUM);
        write(spark, dir, "factors", List.of(RowFactory.create(1, "A", 0, new double[] {1.0, 0.5})), FACTORS);
        write(spark, dir, "samples", samples, samples(DataTypes.LongType, DataTypes.IntegerType, true));
        write(spark, dir, "sample_layers", sampleLayers, sampleLayers(DataTypes.LongType));
        String runJson = runJson("hessian", "float64", "softmax_cross_entropy", "[4,30,10]", 460, 202, 200, 2,
                "{\"label out of range\":2}", 0.2475, 0.8,
                "[{\"layer\":0,\"spectrum_method\":\"lanczos\",\"lanczos_passes\":24,\"lanczos_converged\":true,"
                        + "\"lanczos_top_residuals\":[1e-9,2e-9,3e-9]},"
                        + "{\"layer\":1,\"spectrum_method\":\"dense\"},"
                        + "{\"layer\":2,\"spectrum_method\":\"lanczos\",\"lanczos_passes\":30,\"lanczos_converged\":false,"
                        + "\"lanczos_top_residuals\":[0.0123,0.004,0.002,0.001,0.0005]}]",
                57, List.of(UNCONVERGED_WARNING, SKIPPED_WARNING));
        return new Fixture(dir, runJson, scores, labels, perLayer);
    }

    /**
     * ggn mode, binary cross-entropy, widths [6, 8, 4, 1]: layer 1 dense (56 parameters) with KFAC
     * numbers, layer 2 Kronecker (36: A⊗G only), layer 3 Lanczos converged (5); a density of layers
     * 1 and 3; classes 0 and 1 per layer; 150 samples with ids "s-000"…"s-149".
     */
    public static Fixture ggn(SparkSession spark, Path dir) {
        List<Row> layers = List.of(
                layerRow(1, "hidden1", 7, 8, 56, 150, "ggn", 3.5, 2.0, 1.75, 0.0, 0.125, 0.9, 4, 0.03125, "dense", null,
                        null, 20),
                layerRow(2, "hidden2", 9, 4, 36, 150, "ggn", 1.25, null, null, null, null, null, null, 0.015625,
                        "kronecker", null, null, null),
                layerRow(3, "out", 5, 1, 5, 150, "ggn", 0.75, null, 0.625, null, null, null, null, 0.0078125, "lanczos",
                        6, true, 20));
        List<Row> spectrum = new ArrayList<>();
        for (int r = 1; r <= 56; r++) {
            spectrum.add(RowFactory.create(1, "H", "dense", r, r <= 40 ? 1.75 * Math.pow(0.8, r - 1) : 0.0, null));
            spectrum.add(RowFactory.create(1, "AxG", "kronecker", r, 1.5 * Math.pow(0.82, r - 1), null));
        }
        for (int r = 1; r <= 9; r++) {
            spectrum.add(RowFactory.create(2, "A", "kronecker", r, 2.0 / r, null));
        }
        for (int r = 1; r <= 4; r++) {
            spectrum.add(RowFactory.create(2, "G", "kronecker", r, 0.5 / r, null));
        }
        for (int r = 1; r <= 36; r++) {
            spectrum.add(RowFactory.create(2, "AxG", "kronecker", r, 1.0 / (r * r), null));
        }
        double[] top3 = {0.625, 0.25, 0.0625};
        for (int i = 0; i < 3; i++) {
            spectrum.add(RowFactory.create(3, "H", "lanczos", i + 1, top3[i], 1e-10));
        }
        List<Row> density = new ArrayList<>();
        for (int layer : new int[] {1, 3}) {
            double hi = layer == 1 ? 1.75 : 0.625;
            for (int g = 0; g < 64; g++) {
                double x = -0.2 + (hi + 0.4) * g / 63.0;
                double d = 4 * Math.exp(-x * x / 0.005) + 0.3 * Math.exp(-(x - hi) * (x - hi) / 0.002);
                density.add(RowFactory.create(layer, "H", x, d));
            }
        }
        List<Row> classes = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            for (int layer = 1; layer <= 3; layer++) {
                classes.add(RowFactory.create(c, layer, c == 0 ? 80L : 70L, c == 0 ? 0.25 : 0.5, c == 0 ? 0.9375 : 0.75,
                        (c + 1) * 1.5 / layer, layer == 2 ? null : (c + 1) * 0.5 / layer,
                        layer == 1 ? "dense" : layer == 2 ? "block_max" : "kronecker",
                        layer == 2 ? 2.0 : null, layer == 2 ? 0.5 : null));
            }
        }
        int n = 150;
        List<Row> samples = new ArrayList<>();
        List<Row> sampleLayers = new ArrayList<>();
        Map<Object, Double> scores = new LinkedHashMap<>();
        Map<Object, String> labels = new LinkedHashMap<>();
        Map<Object, Map<Integer, double[]>> perLayer = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String id = String.format("s-%03d", i);
            double label = i % 2;
            double t1 = 0.01 * Math.pow(1.05, (i * 7) % 150);
            double t2 = 0.5 + (i % 10) * 0.125;
            double t3 = i % 4 == 0 ? 0.0 : 0.25;
            samples.add(RowFactory.create(id, label, 0.3 + (i % 3) * 0.1, new double[] {0.4}, i % 6 == 0 ? 1 - (int) label : (int) label));
            sampleLayers.add(RowFactory.create(id, 1, t1, t1 * 0.5, 0.1));
            sampleLayers.add(RowFactory.create(id, 2, t2, t2 * 0.25, 0.1));
            sampleLayers.add(RowFactory.create(id, 3, t3, t3, 0.1));
            scores.put(id, t1 + t2 + t3);
            labels.put(id, label == 0 ? "0" : "1");
            perLayer.put(id, Map.of(1, new double[] {t1, t1 * 0.5}, 2, new double[] {t2, t2 * 0.25}, 3, new double[] {t3, t3}));
        }
        write(spark, dir, "layers", layers, LAYERS);
        write(spark, dir, "spectrum", spectrum, SPECTRUM);
        write(spark, dir, "density", density, DENSITY);
        write(spark, dir, "classes", classes, CLASSES);
        write(spark, dir, "factors", List.of(RowFactory.create(1, "A", 0, new double[] {1.0})), FACTORS);
        write(spark, dir, "samples", samples, samples(DataTypes.StringType, DataTypes.DoubleType, true));
        write(spark, dir, "sample_layers", sampleLayers, sampleLayers(DataTypes.StringType));
        String runJson = runJson("ggn", "float32", "sigmoid_binary_cross_entropy", "[6,8,4,1]", 97, 150, 150, 0, "{}",
                0.4, 0.853,
                "[{\"layer\":1,\"spectrum_method\":\"dense\",\"density_passes\":20},"
                        + "{\"layer\":2,\"spectrum_method\":\"kronecker\"},"
                        + "{\"layer\":3,\"spectrum_method\":\"lanczos\",\"lanczos_passes\":6,\"lanczos_converged\":true,"
                        + "\"lanczos_top_residuals\":[1e-10,1e-10,1e-10],\"density_passes\":20}]",
                48, List.of());
        return new Fixture(dir, runJson, scores, labels, perLayer);
    }

    /** mse, widths [3, 2], one dense layer without KFAC numbers, 5 samples with array labels; no optional table. */
    public static Fixture minimal(SparkSession spark, Path dir) {
        List<Row> layers = List.of(layerRow(1, "linear", 4, 2, 8, 5, "ggn", 2.0, 1.5, 1.25, 0.125, null, null, null,
                0.5, "dense", null, null, null));
        List<Row> spectrum = new ArrayList<>();
        for (int r = 1; r <= 8; r++) {
            spectrum.add(RowFactory.create(1, "H", "dense", r, 1.25 / r, null));
        }
        List<Row> samples = new ArrayList<>();
        List<Row> sampleLayers = new ArrayList<>();
        Map<Object, Double> scores = new LinkedHashMap<>();
        Map<Object, String> labels = new LinkedHashMap<>();
        Map<Object, Map<Integer, double[]>> perLayer = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            String id = "row" + i;
            double t = 1.0 + i * 0.5;
            samples.add(RowFactory.create(id, new double[] {i, 0.5}, 0.125 * i, new double[] {i + 0.25, 0.5}));
            sampleLayers.add(RowFactory.create(id, 1, t, t, 0.5));
            scores.put(id, t);
            labels.put(id, "[" + i + ", 0.5]");
            perLayer.put(id, Map.of(1, new double[] {t, t}));
        }
        write(spark, dir, "layers", layers, LAYERS);
        write(spark, dir, "spectrum", spectrum, SPECTRUM);
        write(spark, dir, "samples", samples, new StructType().add("sample_id", DataTypes.StringType, false)
                .add("label", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("loss", DataTypes.DoubleType, false)
                .add("output", DataTypes.createArrayType(DataTypes.DoubleType, false), false));
        write(spark, dir, "sample_layers", sampleLayers, sampleLayers(DataTypes.StringType));
        String runJson = runJson("ggn", "float64", "mse", "[3,2]", 8, 5, 5, 0, "{}", 0.25, null, "[]", 1, List.of());
        return new Fixture(dir, runJson, scores, labels, perLayer);
    }

    private static Row layerRow(int layer, String name, Integer fanIn, Integer fanOut, long params, long samples,
                                String mode, double trace, Double frobenius, Double lambdaMax, Double lambdaMin,
                                Double kfacRelError, Double kfacOverlap, Integer overlapK, double gradNorm,
                                String spectrumMethod, Integer lanczosPasses, Boolean lanczosConverged,
                                Integer densityPasses) {
        return RowFactory.create(layer, name, fanIn, fanOut, params, samples, mode, trace, frobenius, lambdaMax,
                lambdaMin, kfacRelError, kfacOverlap, overlapK, gradNorm, spectrumMethod, lanczosPasses,
                lanczosConverged, densityPasses);
    }

    private static void write(SparkSession spark, Path dir, String table, List<Row> rows, StructType schema) {
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(dir.resolve(table).toString());
    }

    private static String runJson(String mode, String precision, String loss, String widths, long parameters,
                                  long rowsRead, long rowsUsed, long rowsSkipped, String skipReasons, double meanLoss,
                                  Double accuracy, String spectra, int passes, List<String> warnings) {
        StringBuilder w = new StringBuilder("[");
        for (int i = 0; i < warnings.size(); i++) {
            w.append(i > 0 ? "," : "").append('"').append(warnings.get(i).replace("\\", "\\\\").replace("\"", "\\\""))
                    .append('"');
        }
        w.append(']');
        return "{\n  \"schema_version\": 2,\n  \"command\": \"analyze\",\n"
                + "  \"options\": {\"model\": \"/models/demo\", \"data\": \"/data/demo.parquet\", \"mode\": \"" + mode
                + "\", \"precision\": \"" + precision + "\", \"top-k\": 5, \"density\": true},\n"
                + "  \"model\": {\"path\": \"/models/demo\", \"kind\": \"native\", \"sha256\": \"abc123\", \"loss\": \""
                + loss + "\", \"widths\": " + widths + ", \"parameters\": " + parameters + "},\n"
                + "  \"input\": {\"path\": \"/data/demo.parquet\", \"format\": \"parquet\", \"rows_read\": " + rowsRead
                + ", \"rows_used\": " + rowsUsed + ", \"rows_skipped\": " + rowsSkipped + ", \"skip_reasons\": "
                + skipReasons + "},\n"
                + "  \"mean_loss\": " + meanLoss + ",\n  \"accuracy\": " + accuracy + ",\n"
                + "  \"layers\": [],\n  \"spectra\": " + spectra + ",\n  \"passes_over_data\": " + passes + ",\n"
                + "  \"timings_seconds\": {\"validate\": 0.5, \"pass\": 61.25, \"spectra\": 12.0, \"write\": 2.0, \"total\": 75.75},\n"
                + "  \"warnings\": " + w + ",\n"
                + "  \"versions\": {\"hessian_atlas\": \"0.1.0-SNAPSHOT\", \"spark\": \"4.2.0\", \"java\": \"17\"},\n"
                + "  \"native\": {}\n}\n";
    }
}
