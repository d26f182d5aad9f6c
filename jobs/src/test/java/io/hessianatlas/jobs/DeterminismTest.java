package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * Determinism of `analyze` with dense blocks (issue 5), case c02_softmax_tanh_6-8-8-4 (12 samples,
 * 3 layers, `--spectrum dense --empirical-fisher`), in both modes:
 * <ul>
 *   <li>the tables layers, spectrum, factors and samples of every combination of
 *       {@code --partitions} 1, 3, 16 (16 leaves empty partitions) and {@code --batch-size} 1, 7,
 *       256 agree with those of (1, 256) to 1e-10 relative: |x − y| ≤ 1e-10·|x| + 1e-12·scale,
 *       scale = the largest magnitude of that matrix's eigenvalues (spectrum; lambda_max/min per
 *       layer), of that row (factors), or of the column, so that eigenvalues that are zero in
 *       theory (softmax shift invariance) are judged against their matrix;</li>
 *   <li>repeating the run on 3 partitions with batches of 7 gives BIT-IDENTICAL layers, spectrum,
 *       factors and samples (every double compared by {@link Double#doubleToLongBits}): partition
 *       sums are merged in partition order, batches in order within a partition, BLAS on one thread.</li>
 * </ul>
 * The matrix-free counterpart is {@link MatrixFreeDeterminismTest}.
 */
class DeterminismTest {
    static final String CASE = "c02_softmax_tanh_6-8-8-4";
    /** docs/design.md §7: results independent of the number of partitions to ~1e-10 relative. */
    static final double RELATIVE = 1e-10;
    /** Absolute floor, relative to the scale of the matrix / row / column (zero-in-theory values). */
    static final double SCALE_FACTOR = 1e-12;

    private static final String[] PARTITIONS = {"1", "3", "16"};
    private static final String[] BATCH_SIZES = {"1", "7", "256"};
    private static final String[] TABLES = {"layers", "spectrum", "factors", "samples", "sample_layers"};

    private static SparkSession spark;
    private static OutputTables tables;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(DeterminismTest.class.getSimpleName());
        tables = new OutputTables(spark);
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    /** Runs analyze on c02 into a fresh folder named after the settings. */
    static Path analyze(Path tmp, String name, String mode, String partitions, String batch, String... extra) {
        Path in = OracleInputs.materialize(CASE, tmp.resolve("in"));
        Path out = tmp.resolve(name + "-" + mode + "-p" + partitions + "-b" + batch);
        List<String> args = new ArrayList<>(List.of("analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--out", out.toString(), "--mode", mode,
                "--partitions", partitions, "--batch-size", batch));
        args.addAll(List.of(extra));
        CliRun run = CliRun.of(args.toArray(new String[0]));
        assertEquals(0, run.exitCode, run.toString());
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ggn", "hessian"})
    void denseTablesDoNotDependOnPartitionsOrBatchSizeAndRepeatBitIdentically(String mode) {
        String[] dense = {"--spectrum", "dense", "--empirical-fisher"};
        Path reference = analyze(tmp, "dense", mode, "1", "256", dense);
        for (String p : PARTITIONS) {
            for (String b : BATCH_SIZES) {
                if (p.equals("1") && b.equals("256")) {
                    continue;
                }
                Path other = analyze(tmp, "dense", mode, p, b, dense);
                String what = mode + " --partitions " + p + " --batch-size " + b + " vs 1/256";
                for (String table : TABLES) {
                    tables.assertClose(what, table, reference, other, RELATIVE, SCALE_FACTOR, Set.of());
                }
            }
        }
        Path first = tmp.resolve("dense-" + mode + "-p3-b7");
        Path again = analyze(tmp, "dense-again", mode, "3", "7", dense);
        for (String table : TABLES) {
            tables.assertBitIdentical(table, first, again);
        }
    }
}
