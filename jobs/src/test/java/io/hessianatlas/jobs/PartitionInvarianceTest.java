package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same input gives the same tables for 1 partition with mini-batches of 64 and for 7
 * partitions with mini-batches of 1 (case c02_softmax_tanh_6-8-8-4, 12 samples; dense blocks,
 * empirical Fisher), to 1e-10 relative: every numeric column of layers, spectrum, factors and samples.
 * Rule: |x − y| ≤ 1e-10·|x| + 1e-12·scale, scale = max|value| of that column (spectrum: of that
 * layer's matrix; factors: of that row), so that eigenvalues that are zero in theory (±1e-17
 * rounding noise, e.g. softmax shift invariance) are compared against the matrix's scale.
 */
class PartitionInvarianceTest {
    /** DESIGN.md §7: results independent of the number of partitions to ~1e-10 relative. */
    private static final double RELATIVE = 1e-10;
    /** Absolute floor relative to the column's (or matrix's) largest magnitude. */
    private static final double SCALE_FACTOR = 1e-12;
    private static final String CASE = "c02_softmax_tanh_6-8-8-4";

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(PartitionInvarianceTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    private static Path analyze(Path in, String mode, String partitions, String batch) {
        Path out = tmp.resolve("out-" + mode + "-p" + partitions + "-b" + batch);
        CliRun run = CliRun.of("analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--out", out.toString(), "--mode", mode,
                "--partitions", partitions, "--batch-size", batch, "--empirical-fisher");
        assertEquals(0, run.exitCode, run.toString());
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ggn", "hessian"})
    void partitionsAndBatchSizeDoNotChangeTheTables(String mode) {
        Path in = OracleInputs.materialize(CASE, tmp.resolve("in"));
        Path a = analyze(in, mode, "1", "64");
        Path b = analyze(in, mode, "7", "1");
        compare("layers", a, b, new String[] {"layer"});
        compare("spectrum", a, b, new String[] {"layer", "matrix", "rank"});
        compare("factors", a, b, new String[] {"layer", "matrix", "row"});
        compare("samples", a, b, new String[] {"sample_id", "layer"});
    }

    private static void compare(String table, Path a, Path b, String[] key) {
        String first = key[0];
        String[] rest = java.util.Arrays.copyOfRange(key, 1, key.length);
        List<Row> ra = spark.read().parquet(a.resolve(table).toString()).orderBy(first, rest).collectAsList();
        List<Row> rb = spark.read().parquet(b.resolve(table).toString()).orderBy(first, rest).collectAsList();
        assertEquals(ra.size(), rb.size(), table + ": row count");
        assertTrue(ra.size() > 0, table + " has rows");
        java.util.Map<String, Double> scales = new java.util.HashMap<>();
        for (Row x : ra) {
            for (int c = 0; c < x.length(); c++) {
                if (x.get(c) instanceof Double) {
                    scales.merge(scaleKey(table, x, c), Math.abs(x.getDouble(c)), Math::max);
                }
            }
        }
        for (int i = 0; i < ra.size(); i++) {
            Row x = ra.get(i);
            Row y = rb.get(i);
            for (int c = 0; c < x.length(); c++) {
                String at = table + " row " + i + " column " + x.schema().fields()[c].name();
                Object vx = x.get(c);
                Object vy = y.get(c);
                if (vx instanceof Double) {
                    assertClose(at, (Double) vx, (Double) vy, scales.get(scaleKey(table, x, c)));
                } else if (vx instanceof scala.collection.Seq || vx instanceof java.util.List) {
                    List<Object> lx = x.getList(c);
                    List<Object> ly = y.getList(c);
                    assertEquals(lx.size(), ly.size(), at + " length");
                    double scale = 0;
                    for (Object o : lx) {
                        scale = Math.max(scale, Math.abs((Double) o));
                    }
                    for (int k = 0; k < lx.size(); k++) {
                        assertClose(at + "[" + k + "]", (Double) lx.get(k), (Double) ly.get(k), scale);
                    }
                } else {
                    assertEquals(vx, vy, at);
                }
            }
        }
    }

    /**
     * Eigenvalues are scaled by their matrix: spectrum per (layer, matrix), the layers table's
     * lambda_max and lambda_min per layer; other columns per column.
     */
    private static String scaleKey(String table, Row r, int c) {
        String column = r.schema().fields()[c].name();
        if (table.equals("spectrum")) {
            return r.getInt(r.fieldIndex("layer")) + "/" + r.getString(r.fieldIndex("matrix"));
        }
        if (table.equals("layers") && column.startsWith("lambda_")) {
            return "lambda/" + r.getInt(r.fieldIndex("layer"));
        }
        return column;
    }

    private static void assertClose(String at, double x, double y, double scale) {
        assertTrue(Math.abs(x - y) <= RELATIVE * Math.abs(x) + SCALE_FACTOR * scale, at + ": " + x + " vs " + y);
    }
}
