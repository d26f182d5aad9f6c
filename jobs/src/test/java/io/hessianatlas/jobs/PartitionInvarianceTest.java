package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Set;

import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
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
    /** docs/design.md §7: results independent of the number of partitions to ~1e-10 relative. */
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
        for (String table : new String[] {"layers", "spectrum", "factors", "samples", "sample_layers"}) {
            compare(table, a, b);
        }
    }

    /**
     * Issue 14: a Parquet file in one row group (one source partition) is read as slices over the
     * two cores of the test session, without a shuffle: the tables equal those of the same rows read
     * whole into one partition (--partitions 1), to the same tolerance, with the same sample ids in
     * the same order.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ggn"})
    void oneRowGroupParquetIsSlicedWithTheSameTables(String mode) {
        Path in = OracleInputs.materialize(CASE, tmp.resolve("in"));
        Path parquet = tmp.resolve("one-row-group.parquet");
        spark.read().json(in.resolve("data.jsonl").toString()).coalesce(1).write().parquet(parquet.toString());
        assertEquals(1, spark.read().parquet(parquet.toString()).rdd().getNumPartitions(), "one source partition");
        Path whole = tmp.resolve("out-one-partition");
        CliRun a = CliRun.of("analyze", "--model", in.resolve("model").toString(), "--data", parquet.toString(),
                "--out", whole.toString(), "--mode", mode, "--partitions", "1", "--batch-size", "4");
        assertEquals(0, a.exitCode, a.toString());
        Path sliced = tmp.resolve("out-sliced");
        CliRun b = CliRun.of("analyze", "--model", in.resolve("model").toString(), "--data", parquet.toString(),
                "--out", sliced.toString(), "--mode", mode, "--batch-size", "4");
        assertEquals(0, b.exitCode, b.toString());
        for (String table : new String[] {"layers", "spectrum", "samples", "sample_layers"}) {
            new OutputTables(spark).assertClose("one partition vs slices", table, whole, sliced, RELATIVE, SCALE_FACTOR, Set.of());
        }
        java.util.List<Long> ids = spark.read().parquet(sliced.resolve("samples").toString()).select("sample_id")
                .as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
        assertEquals(java.util.stream.LongStream.range(0, 12).boxed().toList(), ids, "sample ids in the file's order");
        assertEquals(2, partFiles(sliced.resolve("samples")), "the pass ran as two slices (one file each)");
        assertEquals(1, partFiles(whole.resolve("samples")), "--partitions 1: one task");
    }

    private static long partFiles(Path table) {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(table)) {
            return files.filter(f -> f.getFileName().toString().startsWith("part-")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void compare(String table, Path a, Path b) {
        new OutputTables(spark).assertClose("partitions 1 vs 7", table, a, b, RELATIVE, SCALE_FACTOR, Set.of());
    }
}
