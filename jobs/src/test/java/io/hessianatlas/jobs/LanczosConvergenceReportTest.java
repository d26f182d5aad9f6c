package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * How `analyze` reports a Lanczos run that did not converge (summary, run.json warnings,
 * --require-converged's exit code): CLI behaviour, so not part of the BLAS kernel matrix, unlike
 * MatrixFreeSpectraTest (the eigenvalues), where this test was until the kernel runs were trimmed to
 * numerics.
 */
class LanczosConvergenceReportTest {
    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(LanczosConvergenceReportTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    /**
     * A Lanczos run stopped by --lanczos-max-passes before --lanczos-tol is not silent: a WARN per
     * matrix, run.json warnings, the summary marks the row and repeats the warning, and with
     * --require-converged the run exits 3 after writing its tables.
     */
    @org.junit.jupiter.api.Test
    void unconvergedLanczosIsReportedAndCanFailTheRun() throws Exception {
        Path in = OracleInputs.materialize("c02_softmax_tanh_6-8-8-4", tmp.resolve("in"));
        List<String> args = new ArrayList<>(List.of("analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--mode", "hessian", "--spectrum", "lanczos",
                "--top-k", "3", "--lanczos-max-passes", "2", "--layers", "1"));
        Path lenient = tmp.resolve("out-unconverged");
        List<String> first = new ArrayList<>(args);
        first.addAll(List.of("--out", lenient.toString()));
        CliRun warned = CliRun.of(first.toArray(new String[0]));
        assertEquals(0, warned.exitCode, warned.toString());
        assertTrue(warned.out.contains("lanczos*"), warned.out);
        assertTrue(warned.out.contains("warning: layer 1: Lanczos did not converge in 2 passes"), warned.out);
        assertTrue(warned.out.contains("mode hessian, precision float64"), warned.out);
        com.fasterxml.jackson.databind.JsonNode runJson = OutputTables.runJson(lenient);
        assertTrue(runJson.get("warnings").toString().contains("layer 1: Lanczos did not converge"), runJson.toString());
        assertFalse(runJson.get("spectra").get(0).get("lanczos_converged").asBoolean());

        Path strict = tmp.resolve("out-unconverged-strict");
        List<String> second = new ArrayList<>(args);
        second.addAll(List.of("--out", strict.toString(), "--require-converged"));
        CliRun failed = CliRun.of(second.toArray(new String[0]));
        assertEquals(3, failed.exitCode, failed.toString());
        assertEquals(1, failed.err.lines().filter(l -> l.startsWith("error: ")).count(), failed.err);
        assertTrue(failed.err.contains("error: layer 1: Lanczos did not converge (--require-converged)"), failed.err);
        assertTrue(java.nio.file.Files.exists(strict.resolve("_SUCCESS")), "the tables are written");
    }

    /**
     * --lanczos-max-passes bounds float32 products with their float64 refinement together: at most N passes (the
     * float32 iteration N − 1, the refinement the rest), and with N = 1 the products are float64.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "--lanczos-max-passes {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 3})
    void float32ProductsStayWithinThePassLimit(int maxPasses) throws Exception {
        Path in = OracleInputs.materialize("c02_softmax_tanh_6-8-8-4", tmp.resolve("in"));
        Path out = tmp.resolve("out-float32-" + maxPasses);
        CliRun run = CliRun.of("analyze", "--model", in.resolve("model").toString(), "--data",
                in.resolve("data.jsonl").toString(), "--mode", "ggn", "--spectrum", "lanczos", "--top-k", "3",
                "--lanczos-products", "float32", "--lanczos-tol", "1e-12", "--lanczos-max-passes", String.valueOf(maxPasses),
                "--layers", "2", "--out", out.toString());
        assertEquals(0, run.exitCode, run.toString());
        com.fasterxml.jackson.databind.JsonNode layer = OutputTables.runJson(out).get("spectra").get(0);
        assertEquals(maxPasses, layer.get("lanczos_passes").asInt(), layer.toString());
        assertFalse(layer.get("lanczos_converged").asBoolean(), "1e-12 is not reached in " + maxPasses + " passes");
    }
}
