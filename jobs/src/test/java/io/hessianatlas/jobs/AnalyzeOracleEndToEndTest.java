package io.hessianatlas.jobs;

import static io.hessianatlas.common.testing.Tolerance.assertClose;
import static io.hessianatlas.common.testing.Tolerance.assertEigenvalues;
import static io.hessianatlas.common.testing.Tolerance.assertEntries;
import static io.hessianatlas.common.testing.Tolerance.assertScalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import io.hessianatlas.common.nd4j.NativeEnvironment;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.nd4j.OpenBlas;
import io.hessianatlas.common.testing.OracleCase;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * `atlas analyze` end to end through the CLI on every oracle case (native model + data.jsonl,
 * --format json, local[2]) in both modes (with --by-class where labels are classes): the Parquet
 * tables `layers`, `spectrum`, `samples`, `sample_layers` and `classes`
 * read back and compared with the autograd reference under the tolerance rule of docs/design.md §7
 * (θ-block = GGN_layer / H_layer, KFAC error = rel_fro_error_aug / _hessian, per-sample λ_max =
 * lambda_max_layer_GGN / _H, F = F_layer).
 */
class AnalyzeOracleEndToEndTest {
    /** Large enough that A⊗G is reported in full for every oracle layer. */
    private static final String TOP_K = "1000";
    /** Class mean trace vs the mean of the written per-sample traces: only summation order differs. */
    private static final double CLASS_MEAN_RELATIVE = 1e-10;
    /** KFAC error and eigenspace overlap are ratios: tolerance scale 1. */
    private static final double RATIO_SCALE = 1.0;

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(AnalyzeOracleEndToEndTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String c : OracleCase.CASES) {
            out.add(Arguments.of(c, "ggn"));
            out.add(Arguments.of(c, "hessian"));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void tablesMatchAutogradReference(String caseName, String mode) throws Exception {
        OracleCase oc = OracleCase.load(caseName);
        Path in = OracleInputs.materialize(caseName, tmp.resolve("in-" + mode));
        Path out = tmp.resolve("out-" + caseName + "-" + mode);
        boolean byClass = oc.network().classCount() > 0;
        List<String> args = new ArrayList<>(List.of("analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--format", "json", "--out", out.toString(),
                "--mode", mode, "--top-k", TOP_K, "--empirical-fisher", "--batch-size", "4"));
        if (byClass) {
            args.add("--by-class");
        }
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exitCode, run.toString());
        assertTrue(Files.exists(out.resolve("_SUCCESS")), "_SUCCESS written");

        boolean ggn = mode.equals("ggn");
        int depth = oc.at("model", "layers").size();
        int n = oc.sampleCount();
        String theta = ggn ? "GGN_layer" : "H_layer";

        List<Row> layers = spark.read().parquet(out.resolve("layers").toString()).orderBy("layer").collectAsList();
        assertEquals(depth, layers.size());
        for (int l = 1; l <= depth; l++) {
            Row r = layers.get(l - 1);
            String at = caseName + " " + mode + " layers[" + l + "] ";
            JsonNode ref = oc.at("dataset_mean", "layers", l - 1, theta);
            double[] eig = OracleCase.vector(ref.get("eigenvalues"));
            double scale = Math.max(Math.abs(eig[0]), Math.abs(eig[eig.length - 1]));
            assertEquals(l, r.getInt(r.fieldIndex("layer")));
            assertEquals((long) n, r.getLong(r.fieldIndex("samples")), at + "samples");
            assertEquals(mode, r.getString(r.fieldIndex("mode")));
            assertEquals("dense", r.getString(r.fieldIndex("spectrum_method")));
            assertScalar(at + "trace", ref.get("trace").asDouble(), r.getDouble(r.fieldIndex("trace")));
            assertScalar(at + "frobenius", ref.get("fro").asDouble(), r.getDouble(r.fieldIndex("frobenius")));
            assertClose(at + "lambda_max", new double[] {eig[0]}, new double[] {r.getDouble(r.fieldIndex("lambda_max"))}, scale);
            assertClose(at + "lambda_min", new double[] {eig[eig.length - 1]},
                    new double[] {r.getDouble(r.fieldIndex("lambda_min"))}, scale);
            assertClose(at + "kfac_rel_error",
                    new double[] {oc.at("kfac", l - 1, ggn ? "rel_fro_error_aug" : "rel_fro_error_aug_hessian").asDouble()},
                    new double[] {r.getDouble(r.fieldIndex("kfac_rel_error"))}, RATIO_SCALE);
            assertScalar(at + "grad_norm of the mean gradient", meanGradientNorm(oc, l),
                    r.getDouble(r.fieldIndex("grad_norm")));
        }

        List<Row> spectrum = spark.read().parquet(out.resolve("spectrum").toString()).collectAsList();
        for (int l = 1; l <= depth; l++) {
            String at = caseName + " " + mode + " spectrum layer " + l + " ";
            assertEigenvalues(at + "H", OracleCase.vector(oc.at("dataset_mean", "layers", l - 1, theta, "eigenvalues")),
                    eigenvalues(spectrum, l, "H", "dense"));
            assertEigenvalues(at + "A", OracleCase.vector(oc.at("kfac", l - 1, "eig_A_aug")), eigenvalues(spectrum, l, "A", "dense"));
            if (ggn) {
                assertEigenvalues(at + "G", OracleCase.vector(oc.at("kfac", l - 1, "eig_G")), eigenvalues(spectrum, l, "G", "dense"));
            }
            assertEigenvalues(at + "AxG", OracleCase.vector(oc.at("kfac", l - 1, ggn ? "eig_kron_Aaug_G" : "eig_kron_Aaug_Gexact")),
                    eigenvalues(spectrum, l, "AxG", "kronecker"));
            assertEigenvalues(at + "F", OracleCase.vector(oc.at("dataset_mean", "layers", l - 1, "F_layer", "eigenvalues")),
                    eigenvalues(spectrum, l, "F", "dense"));
        }

        List<Row> samples = spark.read().parquet(out.resolve("samples").toString()).orderBy("sample_id").collectAsList();
        List<Row> sampleLayers = spark.read().parquet(out.resolve("sample_layers").toString()).orderBy("sample_id", "layer")
                .collectAsList();
        assertEquals(n, samples.size(), "one samples row per sample");
        assertEquals(n * depth, sampleLayers.size(), "one sample_layers row per sample and layer");
        String traceField = ggn ? "ggn_trace_layer" : "exact_trace_layer";
        String lambdaField = ggn ? "lambda_max_layer_GGN" : "lambda_max_layer_H";
        double[] refLoss = OracleCase.vector(oc.at("per_sample_scores", "loss"));
        double[] loss = new double[n];
        int[] labels = oc.classLabels();
        double[][] refY = OracleCase.matrix(oc.at("data", "Y"));
        for (int s = 0; s < n; s++) {
            Row r = samples.get(s);
            assertEquals((long) s, r.getLong(r.fieldIndex("sample_id")));
            loss[s] = r.getDouble(r.fieldIndex("loss"));
            List<Double> output = r.getList(r.fieldIndex("output"));
            int pc = r.fieldIndex("predicted_class");
            int lc = r.fieldIndex("label");
            String loss0 = oc.at("loss").asText();
            if (loss0.equals("softmax_ce")) {
                int argmax = 0;
                for (int k = 1; k < output.size(); k++) {
                    argmax = output.get(k) > output.get(argmax) ? k : argmax;
                }
                assertEquals(argmax, r.getInt(pc), "predicted_class is the argmax of output");
                assertEquals(labels[s], r.getInt(lc), "label is the class index as read");
            } else if (output.size() == 1) {
                assertEquals(output.get(0) > 0.5 ? 1 : 0, r.getInt(pc), "binary BCE: predicted_class is sigmoid > 0.5");
                assertEquals(refY[s][0], r.getDouble(lc), 0.0, "label is the number as read");
            } else {
                assertTrue(r.isNullAt(pc), "predicted_class is null for " + loss0);
                List<Double> label = r.getList(lc);
                for (int k = 0; k < refY[s].length; k++) {
                    assertEquals(refY[s][k], label.get(k), 0.0, "label[" + k + "] as read");
                }
            }
        }
        assertEntries(caseName + " " + mode + " samples loss", refLoss, loss);
        for (int l = 1; l <= depth; l++) {
            double[] trace = new double[n];
            double[] lambda = new double[n];
            double[] grad = new double[n];
            for (int s = 0; s < n; s++) {
                Row r = sampleLayers.get(s * depth + l - 1);
                assertEquals((long) s, r.getLong(r.fieldIndex("sample_id")));
                assertEquals(l, r.getInt(r.fieldIndex("layer")));
                trace[s] = r.getDouble(r.fieldIndex("trace"));
                lambda[s] = r.getDouble(r.fieldIndex("lambda_max"));
                grad[s] = r.getDouble(r.fieldIndex("grad_norm"));
            }
            String at = caseName + " " + mode + " samples layer " + l + " ";
            assertEntries(at + "trace", OracleCase.vector(oc.at("per_sample_scores", traceField, l - 1)), trace);
            double[] refLambda = OracleCase.vector(oc.at("per_sample_scores", lambdaField, l - 1));
            assertEigenvalues(at + "lambda_max", refLambda, lambda);
            assertEntries(at + "grad_norm", OracleCase.vector(oc.at("per_sample_scores", "grad_norm_layer", l - 1)), grad);
        }
        if (byClass) {
            assertClassesMatchSamples(caseName + " " + mode, out, oc, traceField);
        }

        JsonNode manifest = OutputTables.runJson(out);
        assertEquals(2, manifest.get("schema_version").asInt());
        java.time.Instant startedAt = java.time.Instant.parse(manifest.get("started_at").asText());
        java.time.Instant endedAt = java.time.Instant.parse(manifest.get("ended_at").asText());
        assertTrue(!endedAt.isBefore(startedAt), "started_at <= ended_at (UTC ISO-8601)");
        JsonNode fingerprint = manifest.get("input").get("fingerprint");
        Path data = in.resolve("data.jsonl");
        assertEquals(1, fingerprint.get("files").asInt(), "one input file");
        assertEquals(Files.size(data), fingerprint.get("bytes").asLong(), "its size");
        assertEquals(java.time.Instant.ofEpochMilli(Files.getLastModifiedTime(data).toMillis()).toString(),
                fingerprint.get("latest_modified").asText());
        assertEquals(64, fingerprint.get("sha256").asText().length());
        assertEquals(spark.sparkContext().applicationId(), manifest.get("spark").get("application_id").asText());
        assertEquals(0, manifest.get("spark").get("failed_task_attempts").asInt());
        assertEquals(n, manifest.get("input").get("rows_used").asInt());
        assertScalar(caseName + " run.json mean_loss", oc.at("loss_mean").asDouble(), manifest.get("mean_loss").asDouble());
        if (oc.network().classCount() == 0) {
            assertTrue(manifest.get("accuracy").isNull(), "no accuracy without classes");
        }
        assertNativeEnvironment(manifest.get("native"));
    }

    /**
     * The classes table (--by-class): per class and layer, the mean trace equals the mean of that
     * class's sample_layers traces (joined to samples.label) to {@link #CLASS_MEAN_RELATIVE}, and the
     * autograd per-sample traces' class mean under the oracle rule; samples, loss and accuracy agree
     * with the samples table.
     */
    private static void assertClassesMatchSamples(String at, Path out, OracleCase oc, String traceField) {
        org.apache.spark.sql.Dataset<Row> samples = spark.read().parquet(out.resolve("samples").toString());
        org.apache.spark.sql.Dataset<Row> perLayer = spark.read().parquet(out.resolve("sample_layers").toString())
                .join(samples.select("sample_id", "label"), "sample_id");
        List<Row> means = perLayer.groupBy("label", "layer")
                .agg(org.apache.spark.sql.functions.avg("trace"), org.apache.spark.sql.functions.count("trace"))
                .collectAsList();
        List<Row> classes = spark.read().parquet(out.resolve("classes").toString()).collectAsList();
        assertEquals(means.size(), classes.size(), at + ": one classes row per present class and layer");
        int[] labels = oc.classLabels();
        for (Row c : classes) {
            int cls = c.getInt(c.fieldIndex("class"));
            int layer = c.getInt(c.fieldIndex("layer"));
            String where = at + " class " + cls + " layer " + layer + " ";
            Row mean = means.stream().filter(m -> ((Number) m.get(0)).intValue() == cls && m.getInt(1) == layer)
                    .findFirst().orElseThrow(() -> new AssertionError(where + "has no samples"));
            double trace = c.getDouble(c.fieldIndex("trace"));
            assertEquals(mean.getLong(3), c.getLong(c.fieldIndex("samples")), where + "samples");
            assertEquals(0.0, Math.abs(trace - mean.getDouble(2)) / Math.abs(mean.getDouble(2)), CLASS_MEAN_RELATIVE,
                    where + "trace " + trace + " vs the mean of its samples' traces " + mean.getDouble(2));
            double ref = 0;
            int members = 0;
            for (int s = 0; s < labels.length; s++) {
                if (labels[s] == cls) {
                    ref += oc.at("per_sample_scores", traceField, layer - 1, s).asDouble();
                    members++;
                }
            }
            assertScalar(where + "trace vs autograd", ref / members, trace);
            assertEquals("dense", c.getString(c.fieldIndex("lambda_max_method")), where);
        }
    }

    /**
     * run.json names what computed: the pinned OpenBLAS and the core type in use (the one forced by the
     * BLAS kernel matrix, if any) for the driver and the executors (local mode: the driver's JVM).
     */
    private static void assertNativeEnvironment(JsonNode nat) {
        NativeEnvironment env = NativeRuntime.configure().environment();
        JsonNode driver = nat.get("driver");
        assertEquals(OpenBlas.pinnedBuild(), driver.get("blas_build").asText());
        assertEquals("OpenBLAS", driver.get("blas_library").asText());
        assertEquals(env.coreType(), driver.get("blas_core_type").asText());
        String forced = System.getenv(NativeEnvironment.CORETYPE_VARIABLE);
        if (forced != null && !forced.isBlank()) {
            assertEquals(forced.toLowerCase(Locale.ROOT), driver.get("blas_core_type").asText().toLowerCase(Locale.ROOT));
        }
        assertEquals(1, driver.get("blas_copies").get(0).get("threads").asInt(), "ND4J's BLAS copy: one thread per task");
        assertTrue(driver.get("self_check_routines").asInt() > 0 && driver.get("self_check_ms").asDouble() > 0);
        JsonNode executors = nat.get("executors");
        assertEquals(1, executors.size(), "one executor configuration in local mode: " + executors);
        assertEquals("driver", executors.get(0).get("executor_ids").get(0).asText());
        assertEquals(env.coreType(), executors.get(0).get("blas_core_type").asText());
        assertEquals(driver.get("blas_config").asText(null), executors.get(0).get("blas_config").asText(null));
    }

    /** ||mean_i [grad_W_vec; grad_b]_i|| from the reference's per-sample autograd gradients. */
    private static double meanGradientNorm(OracleCase oc, int l) {
        int n = oc.sampleCount();
        double[] sum = null;
        for (int s = 0; s < n; s++) {
            double[] gw = OracleCase.vector(oc.at("per_sample", s, "layers", l - 1, "grad_W_vec"));
            double[] gb = OracleCase.vector(oc.at("per_sample", s, "layers", l - 1, "grad_b"));
            if (sum == null) {
                sum = new double[gw.length + gb.length];
            }
            for (int k = 0; k < gw.length; k++) {
                sum[k] += gw[k];
            }
            for (int k = 0; k < gb.length; k++) {
                sum[gw.length + k] += gb[k];
            }
        }
        double norm = 0;
        for (double v : sum) {
            norm += (v / n) * (v / n);
        }
        return Math.sqrt(norm);
    }

    private static double[] eigenvalues(List<Row> spectrum, int layer, String matrix, String method) {
        return spectrum.stream()
                .filter(r -> r.getInt(r.fieldIndex("layer")) == layer && r.getString(r.fieldIndex("matrix")).equals(matrix))
                .peek(r -> assertEquals(method, r.getString(r.fieldIndex("method"))))
                .sorted(java.util.Comparator.comparingInt(r -> r.getInt(r.fieldIndex("rank"))))
                .mapToDouble(r -> r.getDouble(r.fieldIndex("eigenvalue"))).toArray();
    }
}
