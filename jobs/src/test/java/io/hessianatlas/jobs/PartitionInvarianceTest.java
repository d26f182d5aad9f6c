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

    private static void compare(String table, Path a, Path b) {
        new OutputTables(spark).assertClose("partitions 1 vs 7", table, a, b, RELATIVE, SCALE_FACTOR, Set.of());
    }
}
