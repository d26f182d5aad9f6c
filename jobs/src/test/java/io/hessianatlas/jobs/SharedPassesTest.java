package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The matrices of a run share their passes over the data (issue 14), case c02_softmax_tanh_6-8-8-4,
 * ggn, {@code --spectrum lanczos --top-k 3 --density} (+ {@code --network} in the shared run):
 * <ul>
 *   <li>the run's {@code passes_over_data} is 1 (the per-sample pass) plus the LONGEST matrix's
 *       Lanczos + density passes, not their sum: every pass serves every matrix still iterating;</li>
 *   <li>sharing changes no result: the lowest and the top layer's Lanczos eigenvalues, residuals,
 *       passes and density, computed alongside the other layers and the network, are bit-identical
 *       to those of a run of that layer alone ({@code --layers l}), whose passes serve it only.</li>
 * </ul>
 */
class SharedPassesTest {
    private static final String[] SPECTRA = {"--spectrum", "lanczos", "--top-k", "3", "--density",
        "--density-probes", "2", "--density-steps", "5", "--density-grid", "32"};

    private static SparkSession spark;
    private static OutputTables tables;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(SharedPassesTest.class.getSimpleName());
        tables = new OutputTables(spark);
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @Test
    void passesAreTheLongestIterationsAndEachLayerEqualsItsRunAlone() {
        Path shared = DeterminismTest.analyze(tmp, "shared", "ggn", "3", "7", with(SPECTRA, "--network"));
        int longest = 0;
        int sum = 0;
        int matrices = 0;
        for (Row r : tables.rows(shared, "layers")) {
            int passes = r.getInt(r.fieldIndex("lanczos_passes")) + r.getInt(r.fieldIndex("density_passes"));
            longest = Math.max(longest, passes);
            sum += passes;
            matrices++;
        }
        assertEquals(4, matrices, "the network and three layers");
        assertTrue(sum > longest, "several matrices needed passes (sum " + sum + ", longest " + longest + ")");
        assertEquals(1 + longest, passesOverData(shared), "passes_over_data: the per-sample pass and the longest iteration");

        for (int l : new int[] {1, 3}) {
            Path alone = DeterminismTest.analyze(tmp, "alone-" + l, "ggn", "3", "7", with(SPECTRA, "--layers", String.valueOf(l)));
            assertEquals(lanczosRows(alone, l), lanczosRows(shared, l), "layer " + l + ": Lanczos values and residuals, shared vs alone");
            assertEquals(layerRow(alone, l), layerRow(shared, l), "layer " + l + ": lanczos_passes, density_passes, lambda_max");
            assertEquals(densityRows(alone, l), densityRows(shared, l), "layer " + l + ": density, shared vs alone");
            assertEquals(1 + layerPasses(alone, l), passesOverData(alone), "layer " + l + " alone: its own passes only");
        }
    }

    private static String[] with(String[] base, String... more) {
        List<String> all = new ArrayList<>(List.of(base));
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }

    private static int passesOverData(Path out) {
        return OutputTables.runJson(out).path("passes_over_data").asInt(-1);
    }

    /** "rank: eigenvalue residual" of the layer's Lanczos rows, exact doubles. */
    private static List<String> lanczosRows(Path out, int layer) {
        List<String> rows = new ArrayList<>();
        for (Row r : tables.rows(out, "spectrum")) {
            if (r.getInt(r.fieldIndex("layer")) == layer && r.getString(r.fieldIndex("method")).equals("lanczos")) {
                rows.add(r.getInt(r.fieldIndex("rank")) + ": " + r.getDouble(r.fieldIndex("eigenvalue")) + " "
                        + r.getDouble(r.fieldIndex("residual")));
            }
        }
        rows.sort(null);
        assertEquals(3, rows.size(), "layer " + layer + ": top-3 Lanczos rows in " + out);
        return rows;
    }

    private static String layerRow(Path out, int layer) {
        for (Row r : tables.rows(out, "layers")) {
            if (r.getInt(r.fieldIndex("layer")) == layer) {
                return r.getInt(r.fieldIndex("lanczos_passes")) + " " + r.getInt(r.fieldIndex("density_passes")) + " "
                        + r.getDouble(r.fieldIndex("lambda_max"));
            }
        }
        throw new AssertionError("no layer " + layer + " in " + out);
    }

    private static int layerPasses(Path out, int layer) {
        String[] f = layerRow(out, layer).split(" ");
        return Integer.parseInt(f[0]) + Integer.parseInt(f[1]);
    }

    private static List<String> densityRows(Path out, int layer) {
        List<String> rows = new ArrayList<>();
        for (Row r : tables.rows(out, "density")) {
            if (r.getInt(r.fieldIndex("layer")) == layer) {
                rows.add(r.toString());
            }
        }
        rows.sort(null);
        assertTrue(!rows.isEmpty(), "layer " + layer + ": density rows in " + out);
        return rows;
    }
}
