package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --run-id: two runs under one root read back as one table per kind with a run_id column and a
 * runs table of two rows; rerunning one id needs --overwrite, replaces only that id's partitions
 * and leaves the other run's files byte-identical; the report of a run sits with its run.json.
 */
class RunIdLayoutTest {
    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(RunIdLayoutTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @Test
    void runsShareARootAndRerunsReplaceOnlyTheirOwnPartitions() throws Exception {
        Path in = OracleInputs.materialize("c01_softmax_relu_4-5-3", tmp.resolve("in"));
        Path root = tmp.resolve("history");
        assertEquals(0, run(in, root, "2026-11-30.a", "ggn").exitCode);
        CliRun second = run(in, root, "2026-11-30.b", "hessian", "--report");
        assertEquals(0, second.exitCode, second.toString());
        assertTrue(second.out.contains("run_id=2026-11-30.b"), second.out);

        // partition discovery: one table with a run_id column (string ids kept as strings)
        spark.conf().set("spark.sql.sources.partitionColumnTypeInference.enabled", "false");
        List<Row> layers = spark.read().parquet(root.resolve("layers").toString()).select("run_id", "mode")
                .distinct().orderBy("run_id").collectAsList();
        assertEquals(List.of(Row.fromTuple(new scala.Tuple2<>("2026-11-30.a", "ggn")),
                Row.fromTuple(new scala.Tuple2<>("2026-11-30.b", "hessian"))), layers);
        List<Row> runs = spark.read().parquet(root.resolve("runs").toString()).orderBy("run_id").collectAsList();
        assertEquals(2, runs.size(), "one runs row per run");
        for (Row r : runs) {
            assertEquals("succeeded", r.getString(r.fieldIndex("status")));
            assertEquals(10L, r.getLong(r.fieldIndex("samples")));
            assertEquals(64, r.getString(r.fieldIndex("data_sha256")).length());
            assertFalse(r.getTimestamp(r.fieldIndex("ended_at")).before(r.getTimestamp(r.fieldIndex("started_at"))));
        }
        assertEquals(runs.get(0).getString(runs.get(0).fieldIndex("data_sha256")),
                runs.get(1).getString(runs.get(1).fieldIndex("data_sha256")), "the same input, the same fingerprint");
        assertTrue(Files.exists(root.resolve("manifests/run_id=2026-11-30.a/run.json")));
        assertTrue(Files.exists(root.resolve("manifests/run_id=2026-11-30.b/report.html")));
        assertTrue(Files.isDirectory(root.resolve("manifests/run_id=2026-11-30.b/report")), "charts beside report.html");
        assertTrue(Files.exists(root.resolve("sample_layers/run_id=2026-11-30.b")));

        Map<String, byte[]> runB = files(root, "run_id=2026-11-30.b");
        String runJsonA = Files.readString(root.resolve("manifests/run_id=2026-11-30.a/run.json"));

        CliRun again = run(in, root, "2026-11-30.a", "hessian");
        assertEquals(2, again.exitCode, again.toString());
        assertTrue(again.err.startsWith("error: --run-id 2026-11-30.a: a run with this id is already under"), again.err);

        CliRun replaced = run(in, root, "2026-11-30.a", "hessian", "--overwrite");
        assertEquals(0, replaced.exitCode, replaced.toString());
        Map<String, byte[]> runBAfter = files(root, "run_id=2026-11-30.b");
        assertEquals(runB.keySet(), runBAfter.keySet(), "run b's files are all still there");
        for (Map.Entry<String, byte[]> e : runB.entrySet()) {
            assertArrayEquals(e.getValue(), runBAfter.get(e.getKey()), e.getKey() + " is byte-identical");
        }
        assertNotEquals(runJsonA, Files.readString(root.resolve("manifests/run_id=2026-11-30.a/run.json")), "run a replaced");
        assertEquals(List.of("hessian"), spark.read().parquet(root.resolve("layers").toString())
                .filter("run_id = '2026-11-30.a'").select("mode").distinct().as(org.apache.spark.sql.Encoders.STRING())
                .collectAsList(), "only the new run a's rows");
        assertEquals(2, spark.read().parquet(root.resolve("runs").toString()).count());
        try (Stream<Path> s = Files.list(root)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no staging or replaced folder left");
        }
        spark.conf().unset("spark.sql.sources.partitionColumnTypeInference.enabled");
    }

    @Test
    void badRunIdIsAUsageError() {
        CliRun bad = CliRun.of("analyze", "--model", "m", "--data", "d", "--out", tmp.resolve("x").toString(),
                "--run-id", "a/b");
        assertEquals(2, bad.exitCode, bad.toString());
        assertTrue(bad.err.startsWith("error: --run-id: 'a/b' is not a valid run id"), bad.err);
    }

    private static CliRun run(Path in, Path root, String id, String mode, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("analyze", "--model", in.resolve("model").toString(), "--data",
                in.resolve("data.jsonl").toString(), "--format", "json", "--out", root.toString(), "--run-id", id, "--mode", mode,
                "--batch-size", "4"));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    /** Every file below a folder named {@code partition}, by path relative to root. */
    private static Map<String, byte[]> files(Path root, String partition) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = root.relativize(p).toString();
                if (rel.contains("/" + partition + "/")) {
                    out.put(rel, Files.readAllBytes(p));
                }
            }
        }
        assertFalse(out.isEmpty(), "files of " + partition);
        return out;
    }
}
