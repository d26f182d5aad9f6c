package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import io.hessianatlas.common.model.io.SafetensorsReader;
import io.hessianatlas.common.model.io.SafetensorsWriter;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CLI contract on bad usage and bad input (README "Exit codes", docs/design.md §6): every case runs
 * `atlas analyze` through {@link CliRun} and checks
 * <ul>
 *   <li>the exit code (2 for bad usage / bad input);</li>
 *   <li>stderr's first line starts with "error: " and names the option, file, column or sample;</li>
 *   <li>stderr is that one line (plus picocli's "Try '... --help'" line for parse errors) and has
 *       no stack trace;</li>
 *   <li>no output is left behind: --out does not exist afterwards (nor a staging folder beside it),
 *       or, when --out existed before, its contents are byte-for-byte unchanged.</li>
 * </ul>
 * Inputs are small variations of the oracle cases c01 (softmax 4-5-3, 10 samples whose id equals
 * their row index) and c04 (mse 3-4-2).
 */
class AnalyzeBadInputTest {
    private static final String C01 = "c01_softmax_relu_4-5-3";
    private static final String C03 = "c03_bce_sigmoid_10-7-1";
    private static final String C04 = "c04_mse_tanh_3-4-2";
    private static final String C08 = "c08_bce_multilabel_tanh_5-6-3";
    /** The columns of the hand-written Parquet cases: id, features (array of double), label. */
    private static final StructType ID_FEATURES_LABEL = new StructType()
            .add("id", DataTypes.LongType)
            .add("features", DataTypes.createArrayType(DataTypes.DoubleType))
            .add("label", DataTypes.LongType);

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(AnalyzeBadInputTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    /** Prepares a case's inputs in its own folder and returns the CLI arguments. */
    @FunctionalInterface
    interface Setup {
        List<String> args(Path dir) throws Exception;
    }

    /** One bad-input case: the expected exit code and fragments of stderr's first line. */
    static final class Case {
        final String name;
        final int exit;
        final List<String> fragments;
        final Setup setup;

        Case(String name, int exit, Setup setup, String... fragments) {
            this.name = name;
            this.exit = exit;
            this.fragments = List.of(fragments);
            this.setup = setup;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        List<Case> c = new ArrayList<>();
        // ---- usage -------------------------------------------------------------------------
        c.add(new Case("missing --model", 2, d -> without(good(d), "--model"), "--model"));
        c.add(new Case("missing --data", 2, d -> without(good(d), "--data"), "--data"));
        c.add(new Case("missing --out", 2, d -> without(good(d), "--out"), "--out"));
        c.add(new Case("--top-k 0", 2, d -> with(good(d), "--top-k", "0"), "--top-k"));
        c.add(new Case("--batch-size 0", 2, d -> set(good(d), "--batch-size", "0"), "--batch-size"));
        c.add(new Case("--lanczos-max-basis below the wanted pairs and two blocks", 2,
                d -> with(good(d), "--top-k", "4", "--mode", "hessian", "--lanczos-max-basis", "15"),
                "--lanczos-max-basis", "at least 16"));
        c.add(new Case("--mode foo", 2, d -> with(good(d), "--mode", "foo"), "--mode", "foo"));
        c.add(new Case("--precision float16", 2, d -> with(good(d), "--precision", "float16"), "--precision", "float16"));
        c.add(new Case("--spectrum foo", 2, d -> with(good(d), "--spectrum", "foo"), "--spectrum", "foo"));
        c.add(new Case("--format foo", 2, d -> with(good(d), "--format", "foo"), "--format", "foo"));
        c.add(new Case("--sample-fraction 0", 2, d -> with(good(d), "--sample-fraction", "0"), "--sample-fraction"));
        c.add(new Case("--sample-fraction 1.5", 2, d -> with(good(d), "--sample-fraction", "1.5"), "--sample-fraction"));
        c.add(new Case("--layers 0", 2, d -> with(good(d), "--layers", "0"), "--layers"));
        c.add(new Case("--layers 9 beyond the depth", 2, d -> with(good(d), "--layers", "9"), "--layers", "9"));
        c.add(new Case("--layers x", 2, d -> with(good(d), "--layers", "x"), "--layers", "x"));
        c.add(new Case("--out exists, not empty, no --overwrite", 2, d -> {
            Files.createDirectories(d.resolve("out"));
            Files.writeString(d.resolve("out/keep.txt"), "previous output");
            return good(d);
        }, "--out", "--overwrite"));
        c.add(new Case("--out is a file", 2, d -> {
            Files.writeString(d.resolve("out"), "a file, not a folder");
            return with(good(d), "--overwrite");
        }, "--out", "is a file"));
        c.add(new Case("--conf with a spark-submit setting", 2, d -> with(good(d), "--conf", "spark.sql.shuffle.partitions=8"),
                "--conf", "'spark.sql.shuffle.partitions=8' is a Spark setting", "--spark-conf spark.sql.shuffle.partitions=8"));
        c.add(new Case("--defaults missing file", 2, d -> with(good(d), "--defaults", d.resolve("none.properties").toString()),
                "--defaults", "none.properties", "not a readable file"));
        c.add(new Case("--spark-conf without =", 2, d -> with(good(d), "--spark-conf", "spark.sql.shuffle.partitions"),
                "--spark-conf"));
        c.add(new Case("--conf missing file", 2, d -> with(good(d), "--conf", d.resolve("no-such.properties").toString()),
                "--conf", "no-such.properties"));
        c.add(new Case("--defaults with a bad value", 2, d -> {
            Path conf = d.resolve("bad.properties");
            Files.writeString(conf, "top-k=many\n");
            return with(good(d), "--defaults", conf.toString());
        }, "--top-k", "many", "bad.properties: line 1", "top-k=many"));
        c.add(new Case("--defaults with an unknown key", 2, d -> {
            Path conf = d.resolve("typo.properties");
            Files.writeString(conf, "# a comment\nmode=hessian\nmdoe=ggn\n");
            return with(good(d), "--defaults", conf.toString());
        }, "typo.properties: line 3", "unknown key 'mdoe'", "did you mean 'mode'"));
        c.add(new Case("--defaults with a bad enum value", 2, d -> {
            Path conf = d.resolve("enum.properties");
            Files.writeString(conf, "atlas.analyze.spectrum = fancy\n");
            return with(good(d), "--defaults", conf.toString());
        }, "enum.properties: line 1", "spectrum=fancy", "--spectrum"));
        c.add(new Case("--spectrum dense over --dense-budget-mb 0", 2,
                d -> with(good(d), "--spectrum", "dense", "--dense-budget-mb", "0"), "--spectrum dense", "--dense-budget-mb"));
        // ---- model -------------------------------------------------------------------------
        c.add(new Case("--model missing folder", 2,
                d -> set(good(d), "--model", d.resolve("no-such-model").toString()), "--model", "no-such-model"));
        c.add(new Case("--model empty folder", 2, d -> {
            Files.createDirectories(d.resolve("empty-model"));
            return set(good(d), "--model", d.resolve("empty-model").toString());
        }, "empty-model"));
        c.add(new Case("model.json not JSON", 2, d -> {
            Path m = c01(d).resolve("model");
            Files.writeString(m.resolve("model.json"), "{\"loss\": \"softmax_cross_entropy\", \"layers\": [");
            return good(d);
        }, "model.json", "JSON"));
        c.add(new Case("unknown loss", 2, d -> {
            editModelJson(d, "\"softmax_cross_entropy\"", "\"hinge\"");
            return good(d);
        }, "model.json", "hinge"));
        c.add(new Case("unknown activation", 2, d -> {
            editModelJson(d, "\"relu\"", "\"swish\"");
            return good(d);
        }, "model.json", "swish"));
        c.add(new Case("missing tensor", 2, d -> {
            editModelJson(d, "\"0.weight\"", "\"missing.weight\"");
            return good(d);
        }, "weights.safetensors", "missing.weight"));
        c.add(new Case("truncated weights.safetensors", 2, d -> {
            Path w = c01(d).resolve("model/weights.safetensors");
            byte[] bytes = Files.readAllBytes(w);
            Files.write(w, Arrays.copyOf(bytes, bytes.length - 20));
            return good(d);
        }, "weights.safetensors"));
        c.add(new Case("safetensors header length larger than the file", 2, d -> {
            Path w = c01(d).resolve("model/weights.safetensors");
            byte[] bytes = Files.readAllBytes(w);
            java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length + 100L);
            Files.write(w, bytes);
            return good(d);
        }, "weights.safetensors"));
        c.add(new Case("safetensors overlapping offsets", 2, d -> {
            rewriteHeader(c01(d).resolve("model/weights.safetensors"), header -> {
                // 0.bias starts inside 0.weight's bytes
                com.fasterxml.jackson.databind.node.ArrayNode off = (com.fasterxml.jackson.databind.node.ArrayNode)
                        header.get("0.bias").get("data_offsets");
                long len = off.get(1).asLong() - off.get(0).asLong();
                long start = header.get("0.weight").get("data_offsets").get(0).asLong() + 8;
                off.removeAll();
                off.add(start).add(start + len);
            });
            return good(d);
        }, "weights.safetensors", "overlap"));
        c.add(new Case("safetensors offsets beyond the data", 2, d -> {
            rewriteHeader(c01(d).resolve("model/weights.safetensors"), header -> {
                com.fasterxml.jackson.databind.node.ArrayNode off = (com.fasterxml.jackson.databind.node.ArrayNode)
                        header.get("2.bias").get("data_offsets");
                long len = off.get(1).asLong() - off.get(0).asLong();
                off.removeAll();
                off.add(1_000_000L).add(1_000_000L + len);
            });
            return good(d);
        }, "weights.safetensors", "2.bias"));
        c.add(new Case("safetensors unsupported dtype", 2, d -> {
            // I64 has the size of F64, so the offsets still fit: only the dtype is wrong
            rewriteHeader(c01(d).resolve("model/weights.safetensors"),
                    header -> ((com.fasterxml.jackson.databind.node.ObjectNode) header.get("0.weight")).put("dtype", "I64"));
            return good(d);
        }, "weights.safetensors", "I64"));
        c.add(new Case("--out not writable (its parent is a file)", 2, d -> {
            Files.writeString(d.resolve("blocker"), "a file where a folder should be");
            return set(good(d), "--out", d.resolve("blocker").resolve("out").toString());
        }, "--out", "blocker"));
        c.add(new Case("NaN weight", 2, d -> {
            Path w = c01(d).resolve("model/weights.safetensors");
            SafetensorsWriter out = new SafetensorsWriter();
            try (SafetensorsReader in = SafetensorsReader.open(w)) {
                for (String t : in.tensorNames()) {
                    SafetensorsReader.Tensor tensor = in.read(t);
                    double[] v = tensor.data();
                    if (t.equals("2.weight")) {
                        v[1] = Double.NaN;
                    }
                    out.add(t, tensor.dtype(), tensor.shape(), v);
                }
            }
            out.write(w);
            return good(d);
        }, "weights.safetensors", "fc2", "NaN"));
        // ---- data --------------------------------------------------------------------------
        c.add(new Case("--data missing path", 2,
                d -> set(good(d), "--data", d.resolve("no-such-data.jsonl").toString()), "--data", "no-such-data.jsonl",
                "does not exist"));
        c.add(new Case("--features-col missing column", 2, d -> with(good(d), "--features-col", "pixels"),
                "--features-col", "pixels"));
        c.add(new Case("features column is a string", 2, d -> {
            editDataRow(d, 0, "{\"id\": 0, \"features\": \"1 2 3 4\", \"label\": 1}");
            return good(d);
        }, "--features-col", "'features'", "string"));
        c.add(new Case("feature length != fan-in", 2, d -> {
            editDataRow(d, 3, "{\"id\": 3, \"features\": [1.0, 2.0, 3.0, 4.0, 5.0], \"label\": 2}");
            return good(d);
        }, "sample_id 3", "length 5", "expected 4"));
        c.add(new Case("NaN feature", 2, d -> {
            editDataRow(d, 2, "{\"id\": 2, \"features\": [1.0, NaN, 3.0, 4.0], \"label\": 1}");
            return good(d);
        }, "sample_id 2", "NaN"));
        c.add(new Case("null feature", 2, d -> {
            editDataRow(d, 5, "{\"id\": 5, \"features\": [1.0, 2.0, null, 4.0], \"label\": 1}");
            return good(d);
        }, "sample_id 5", "null"));
        c.add(new Case("null features", 2, d -> {
            editDataRow(d, 7, "{\"id\": 7, \"features\": null, \"label\": 1}");
            return good(d);
        }, "sample_id 7", "null"));
        c.add(new Case("softmax label out of range", 2, d -> {
            editDataRow(d, 4, "{\"id\": 4, \"features\": [1.0, 2.0, 3.0, 4.0], \"label\": 3}");
            return good(d);
        }, "sample_id 4", "label"));
        c.add(new Case("softmax label negative", 2, d -> {
            editDataRow(d, 1, "{\"id\": 1, \"features\": [1.0, 2.0, 3.0, 4.0], \"label\": -1}");
            return good(d);
        }, "sample_id 1", "label"));
        c.add(new Case("softmax label fractional", 2, d -> {
            editDataRow(d, 6, "{\"id\": 6, \"features\": [1.0, 2.0, 3.0, 4.0], \"label\": 2.5}");
            return good(d);
        }, "sample_id 6", "2.5"));
        c.add(new Case("softmax label null", 2, d -> {
            editDataRow(d, 8, "{\"id\": 8, \"features\": [1.0, 2.0, 3.0, 4.0], \"label\": null}");
            return good(d);
        }, "sample_id 8", "label"));
        c.add(new Case("mse label vector of the wrong length", 2, d -> {
            Path in = OracleInputs.materialize(C04, d);
            Path data = in.resolve("data.jsonl");
            List<String> lines = new ArrayList<>(Files.readAllLines(data));
            lines.set(2, "{\"id\": 2, \"features\": [0.1, 0.2, 0.3], \"label\": [0.5, 0.5, 0.5]}");
            Files.write(data, lines);
            return args(in.resolve("model"), data, d.resolve("out"));
        }, "sample_id 2", "label", "length 3"));
        c.add(new Case("softmax label is a string", 2, d -> {
            editDataRow(d, 0, "{\"id\": 0, \"features\": [1.0, 2.0, 3.0, 4.0], \"label\": \"cat\"}");
            return good(d);
        }, "--label-col", "'label'", "string"));
        c.add(new Case("bce label outside [0, 1] (c03)", 2, d -> {
            Path in = OracleInputs.materialize(C03, d);
            Path data = in.resolve("data.jsonl");
            editLine(data, 9, "\"label\": [0-9.]+", "\"label\": 1.5");
            return args(in.resolve("model"), data, d.resolve("out"));
        }, "sample_id 9", "label", "1.5"));
        c.add(new Case("multi-label bce label vector of the wrong length (c08)", 2, d -> {
            Path in = OracleInputs.materialize(C08, d);
            Path data = in.resolve("data.jsonl");
            editLine(data, 4, "\"label\": \\[[^\\]]*\\]", "\"label\": [1.0, 0.0]");
            return args(in.resolve("model"), data, d.resolve("out"));
        }, "sample_id 4", "label", "length 2", "expected 3"));
        c.add(new Case("--by-class on a multi-label bce model (c08)", 2, d -> {
            Path in = OracleInputs.materialize(C08, d);
            return with(args(in.resolve("model"), in.resolve("data.jsonl"), d.resolve("out")), "--by-class");
        }, "--by-class", "name no classes", "sigmoid_binary_cross_entropy", "3 outputs"));
        c.add(new Case("--by-class with a soft binary label (c03)", 2, d -> {
            Path in = OracleInputs.materialize(C03, d);
            Path data = in.resolve("data.jsonl");
            editLine(data, 6, "\"label\": [0-9.]+", "\"label\": 0.25");
            return with(args(in.resolve("model"), data, d.resolve("out")), "--by-class");
        }, "sample_id 6", "label 0.25", "--by-class expects 0 or 1"));
        c.add(new Case("--by-class factors over --dense-budget-mb", 2, d -> with(good(d), "--by-class", "--dense-budget-mb", "0"),
                "--by-class", "3 classes", "--dense-budget-mb 0"));
        c.add(new Case("csv cell that is not a number (c01)", 2, d -> csvArgs(d, 5, "abc", false),
                "sample_id 5", "feature 2 (column 'p2')", "not a number"));
        c.add(new Case("csv with a header and no rows (c01)", 2, d -> csvArgs(d, -1, null, true), "--data", "no rows"));
        c.add(new Case("--label-col missing column", 2, d -> with(good(d), "--label-col", "target"), "--label-col", "target"));
        c.add(new Case("--id-col missing column", 2, d -> with(good(d), "--id-col", "key"), "--id-col", "key"));
        c.add(new Case("parquet with zero rows", 2, d -> {
            Path in = c01(d);
            Path parquet = d.resolve("empty.parquet");
            spark.createDataFrame(List.<Row>of(), ID_FEATURES_LABEL).write().parquet(parquet.toString());
            return args(in.resolve("model"), parquet, d.resolve("out"));
        }, "--data", "empty.parquet", "no rows"));
        c.add(new Case("parquet null feature (columnar arrays; zeros elsewhere)", 2, d -> {
            Path in = c01(d);
            List<Row> rows = new java.util.ArrayList<>();
            for (long i = 0; i < 6; i++) {
                rows.add(org.apache.spark.sql.RowFactory.create(i, i == 3 ? java.util.Arrays.asList(1.0, 0.0, null, 4.0)
                        : java.util.Arrays.asList(0.0, 2.0, 0.0, 1.0), i % 2));
            }
            Path parquet = d.resolve("null-feature.parquet");
            spark.createDataFrame(rows, ID_FEATURES_LABEL).coalesce(1).write().parquet(parquet.toString());
            return args(in.resolve("model"), parquet, d.resolve("out"));
        }, "sample_id 3", "feature 2 is null"));
        return c.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void failsWithOneLineNamingTheCulprit(Case c) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(c.name.replaceAll("[^A-Za-z0-9.-]+", "_")));
        List<String> args = c.setup.args(dir);
        Path out = dir.resolve("out");
        Map<String, byte[]> before = snapshot(out);

        CliRun run = CliRun.of(args.toArray(new String[0]));

        assertEquals(c.exit, run.exitCode, run.toString());
        assertErrorLine(run, c.fragments);
        assertFalse(run.err.contains("\tat "), "no stack trace without --verbose:\n" + run.err);
        if (before == null) {
            assertFalse(Files.exists(out), "a failed run leaves no --out\n" + run);
        } else {
            assertSnapshotEquals(before, snapshot(out));
        }
        assertNoStagingLeft(dir);
    }

    /** A failing --overwrite run (bad data, found on the executors) keeps the previous output intact. */
    @Test
    void previousOutputStaysIntactWhenAnOverwriteFails() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("previous-output"));
        List<String> ok = good(dir);
        Path out = dir.resolve("out");
        CliRun first = CliRun.of(ok.toArray(new String[0]));
        assertEquals(0, first.exitCode, first.toString());
        assertTrue(Files.exists(out.resolve("_SUCCESS")), "the first run completed");
        byte[] runJson = Files.readAllBytes(out.resolve("run.json"));
        Map<String, byte[]> before = snapshot(out);

        editDataRow(dir, 3, "{\"id\": 3, \"features\": [1.0, 2.0, 3.0], \"label\": 2}");
        CliRun second = CliRun.of(with(ok, "--overwrite").toArray(new String[0]));

        assertEquals(2, second.exitCode, second.toString());
        assertErrorLine(second, List.of("sample_id 3", "length 3"));
        assertFalse(second.err.contains("\tat "), second.err);
        assertArrayEquals(runJson, Files.readAllBytes(out.resolve("run.json")), "run.json of the first run unchanged");
        assertSnapshotEquals(before, snapshot(out));
        assertNoStagingLeft(dir);
    }

    /**
     * An empty jsonl file is an empty dataset: the error names --data and the file (Spark infers
     * an empty schema for it, which must not be reported as a missing features column).
     */
    @Test
    void emptyJsonlNamesTheDataFile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("empty-jsonl"));
        Files.writeString(c01(dir).resolve("data.jsonl"), "");
        CliRun run = CliRun.of(good(dir).toArray(new String[0]));
        assertEquals(2, run.exitCode, run.toString());
        assertErrorLine(run, List.of("--data", "data.jsonl"));
        assertFalse(run.err.contains("\tat "), run.err);
        assertFalse(Files.exists(dir.resolve("out")));
        assertNoStagingLeft(dir);
    }

    /**
     * A --defaults file's keys become the defaults (plain and command-qualified keys), the command
     * line overrides them, and run.json records the options used and the file; --spark-conf settings
     * reach the session and run.json.
     */
    @Test
    void defaultsFileSetsDefaultsAndRunJsonRecordsIt() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("conf-ok"));
        Path conf = dir.resolve("team.properties");
        Files.writeString(conf, "mode=hessian\natlas.analyze.top-k=3\nprecision = float32\n");
        CliRun run = CliRun.of(with(good(dir), "--defaults", conf.toString(), "--precision", "float64",
                "--spark-conf", "spark.sql.shuffle.partitions=3").toArray(new String[0]));
        assertEquals(0, run.exitCode, run.toString());
        assertEquals("3", spark.conf().get("spark.sql.shuffle.partitions"), "--spark-conf set on the running session");
        com.fasterxml.jackson.databind.JsonNode options = OutputTables.runJson(dir.resolve("out")).get("options");
        assertEquals("hessian", options.get("mode").asText());
        assertEquals(3, options.get("top-k").asInt());
        assertEquals("float64", options.get("precision").asText(), "the command line wins over --conf");
        assertEquals(4, options.get("batch-size").asInt());
        assertEquals(conf.toString(), options.get("defaults").asText());
        assertEquals("3", options.get("spark-conf").get("spark.sql.shuffle.partitions").asText());
        spark.conf().set("spark.sql.shuffle.partitions", "4");
        assertEquals("fail", options.get("on-invalid-row").asText());
        assertEquals("all", options.get("layers").asText());
        assertEquals("json", options.get("format").asText(), "auto resolved from data.jsonl");

        CliRun old = CliRun.of("analyze", "--model", c01(dir).resolve("model").toString(), "--data",
                c01(dir).resolve("data.jsonl").toString(), "--out", dir.resolve("out-old").toString(), "--conf", conf.toString());
        assertEquals(0, old.exitCode, old.toString());
        assertTrue(old.err.startsWith("warning: --conf FILE is deprecated, use --defaults FILE"), old.err);
        assertEquals("hessian", new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("out-old/run.json")
                .toFile()).get("options").get("mode").asText(), "the deprecated --conf still reads the defaults");
    }

    /** --verbose adds the stack trace after the one-line error (input error found after parsing). */
    @Test
    void verbosePrintsTheStackTrace() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("verbose"));
        CliRun run = CliRun.of(with(good(dir), "--layers", "9", "--verbose").toArray(new String[0]));
        assertEquals(2, run.exitCode, run.toString());
        assertTrue(run.err.startsWith("error: --layers"), run.err);
        assertTrue(run.err.contains("\tat "), "--verbose prints a stack trace:\n" + run.err);
        assertFalse(Files.exists(dir.resolve("out")));
    }

    // ---- helpers -------------------------------------------------------------------------

    static void assertErrorLine(CliRun run, List<String> fragments) {
        String[] lines = run.err.split("\\R");
        assertTrue(lines.length >= 1 && lines[0].startsWith("error: "), "stderr starts with 'error: '\n" + run);
        for (String f : fragments) {
            assertTrue(lines[0].contains(f), "stderr's first line names '" + f + "'\n" + run);
        }
        List<String> rest = Arrays.stream(lines).skip(1).filter(l -> !l.isBlank()).toList();
        assertTrue(rest.isEmpty() || rest.size() == 1 && rest.get(0).startsWith("Try '"),
                "one error line (plus picocli's \"Try '... --help'\" for usage errors)\n" + run);
    }

    /**
     * c01 as CSV (label,p0..p3) in dir: with {@code cell} written as feature 2 of row {@code badRow}
     * (-1: none), or only the header; arguments reading it.
     */
    private static List<String> csvArgs(Path dir, int badRow, String cell, boolean headerOnly) throws IOException {
        Path in = c01(dir);
        StringBuilder csv = new StringBuilder("label,p0,p1,p2,p3\n");
        if (!headerOnly) {
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            List<String> lines = Files.readAllLines(in.resolve("data.jsonl"));
            for (int r = 0; r < lines.size(); r++) {
                com.fasterxml.jackson.databind.JsonNode row = json.readTree(lines.get(r));
                csv.append(row.get("label").asInt());
                for (int j = 0; j < 4; j++) {
                    csv.append(',').append(r == badRow && j == 2 ? cell : row.get("features").get(j).asText());
                }
                csv.append('\n');
            }
        }
        Path data = dir.resolve("data.csv");
        Files.writeString(data, csv);
        return List.of("analyze", "--model", in.resolve("model").toString(), "--data", data.toString(), "--out",
                dir.resolve("out").toString(), "--features-col", "p*", "--batch-size", "4");
    }

    /** The same CSV cell with --on-invalid-row skip drops that row alone. */
    @Test
    void csvCellThatIsNotANumberCanBeSkipped() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("csv-skip"));
        CliRun run = CliRun.of(with(csvArgs(dir, 5, "n/a", false), "--on-invalid-row", "skip").toArray(new String[0]));
        assertEquals(0, run.exitCode, run.toString());
        com.fasterxml.jackson.databind.JsonNode input = OutputTables.runJson(dir.resolve("out")).get("input");
        assertEquals(1, input.get("rows_skipped").asInt());
        assertEquals(9, input.get("rows_used").asInt());
        assertTrue(input.get("skip_reasons").get(0).asText().contains("sample_id 5: feature 2 (column 'p2')"), input.toString());
    }

    /** Materialises c01 into dir (once) and returns its folder. */
    private static Path c01(Path dir) {
        Path in = dir.resolve(C01);
        return Files.exists(in.resolve("data.jsonl")) ? in : OracleInputs.materialize(C01, dir);
    }

    /** Valid arguments on c01 (inputs materialised in dir), writing to dir/out. */
    private static List<String> good(Path dir) {
        Path in = c01(dir);
        return args(in.resolve("model"), in.resolve("data.jsonl"), dir.resolve("out"));
    }

    private static List<String> args(Path model, Path data, Path out) {
        return List.of("analyze", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch-size", "4");
    }

    private static List<String> with(List<String> args, String... more) {
        List<String> l = new ArrayList<>(args);
        l.addAll(List.of(more));
        return l;
    }

    /** Replaces the value of an option that takes one. */
    private static List<String> set(List<String> args, String option, String value) {
        List<String> l = new ArrayList<>(args);
        l.set(l.indexOf(option) + 1, value);
        return l;
    }

    /** Drops an option and its value. */
    private static List<String> without(List<String> args, String option) {
        List<String> l = new ArrayList<>(args);
        int i = l.indexOf(option);
        l.remove(i + 1);
        l.remove(i);
        return l;
    }

    private static void editModelJson(Path dir, String from, String to) throws IOException {
        Path json = c01(dir).resolve("model/model.json");
        String s = Files.readString(json);
        assertTrue(s.contains(from), from);
        Files.writeString(json, s.replaceFirst(java.util.regex.Pattern.quote(from), to));
    }

    /** Rewrites a safetensors file's JSON header (the data region is kept as it is). */
    private static void rewriteHeader(Path w, java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit)
            throws IOException {
        byte[] bytes = Files.readAllBytes(w);
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode header = (com.fasterxml.jackson.databind.node.ObjectNode)
                json.readTree(new String(bytes, 8, n, java.nio.charset.StandardCharsets.UTF_8));
        edit.accept(header);
        byte[] h = json.writeValueAsBytes(header);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(8 + h.length + bytes.length - 8 - n)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(bytes, 8 + n, bytes.length - 8 - n);
        Files.write(w, out.array());
    }

    private static void editDataRow(Path dir, int row, String line) throws IOException {
        Path data = c01(dir).resolve("data.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(data));
        lines.set(row, line);
        Files.write(data, lines);
    }

    /** Replaces the first match of regex in one line of a jsonl file (and checks there was one). */
    private static void editLine(Path data, int row, String regex, String replacement) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(data));
        String edited = lines.get(row).replaceFirst(regex, replacement);
        assertFalse(edited.equals(lines.get(row)), "no match of " + regex + " in row " + row);
        lines.set(row, edited);
        Files.write(data, lines);
    }

    /** Relative path -> bytes of every file under root (folders as empty entries), or null if absent. */
    private static Map<String, byte[]> snapshot(Path root) {
        if (!Files.exists(root)) {
            return null;
        }
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                String key = root.relativize(p).toString() + (Files.isDirectory(p) ? "/" : "");
                m.put(key, Files.isDirectory(p) ? new byte[0] : Files.readAllBytes(p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    private static void assertSnapshotEquals(Map<String, byte[]> before, Map<String, byte[]> after) {
        assertNotNull(after, "the previous --out still exists");
        assertEquals(before.keySet(), after.keySet(), "the previous --out has the same files");
        for (String k : before.keySet()) {
            assertArrayEquals(before.get(k), after.get(k), "unchanged: " + k);
        }
    }

    /** No hidden staging or moved-aside folder of out is left in dir. */
    private static void assertNoStagingLeft(Path dir) throws IOException {
        try (Stream<Path> l = Files.list(dir)) {
            List<String> left = l.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".out.")).toList();
            assertTrue(left.isEmpty(), "left behind beside --out: " + left);
        }
    }
}
