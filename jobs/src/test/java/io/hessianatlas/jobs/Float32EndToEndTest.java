package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
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
import org.junit.jupiter.params.provider.CsvSource;

/**
 * `atlas analyze --precision float32` end to end: on oracle cases (each loss, both modes, dense
 * blocks and the empirical Fisher included), every table the float64 run writes is written with
 * the same rows, and every number agrees with float64 to |x32 − x64| ≤ 1e-4·|x64| + 1e-6·scale
 * (scale as in {@link OutputTables#assertClose}); float64 itself is checked against autograd to
 * 1e-8 by AnalyzeOracleEndToEndTest.
 */
class Float32EndToEndTest {
    /** The agreement --precision float32 promises (README). */
    private static final double RELATIVE = 1e-4;
    private static final double SCALE_FACTOR = 1e-6;

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(Float32EndToEndTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"c02_softmax_tanh_6-8-8-4, ggn", "c02_softmax_tanh_6-8-8-4, hessian", "c03_bce_sigmoid_10-7-1, hessian",
            "c05_mse_relu_6-8-8-4, ggn"})
    void float32TablesAgreeWithFloat64(String caseName, String mode) throws Exception {
        Path in = OracleInputs.materialize(caseName, tmp.resolve("in-" + caseName + "-" + mode));
        Path out64 = run(in, caseName, mode, "float64");
        Path out32 = run(in, caseName, mode, "float32");
        assertEquals("float32", OutputTables.runJson(out32)
                .at("/options/precision").asText(), "run.json records the precision");
        List<String> tables = OutputTables.present(out64);
        assertEquals(tables, OutputTables.present(out32), "the same tables");
        assertTrue(tables.contains("samples") && tables.contains("spectrum") && tables.contains("layers"), tables.toString());
        OutputTables t = new OutputTables(spark);
        for (String table : tables) {
            t.assertClose(caseName + " " + mode + " float32 vs float64", table, out64, out32, RELATIVE, SCALE_FACTOR,
                    Set.of());
        }
    }

    private static Path run(Path in, String caseName, String mode, String precision) {
        Path out = tmp.resolve("out-" + caseName + "-" + mode + "-" + precision);
        CliRun r = CliRun.of("analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--format", "json", "--out", out.toString(),
                "--mode", mode, "--top-k", "1000", "--empirical-fisher", "--batch-size", "4", "--precision", precision);
        assertEquals(0, r.exitCode, r.toString());
        return out;
    }
}
