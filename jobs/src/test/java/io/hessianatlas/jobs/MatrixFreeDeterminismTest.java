package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Determinism of the matrix-free spectra (issue 5), case c02_softmax_tanh_6-8-8-4, both modes,
 * {@code --spectrum lanczos --top-k 3 --network --density --eigenvectors 2}:
 * <ul>
 *   <li>for {@code --partitions/--batch-size} (1, 256), (3, 7) and (16, 1) the Lanczos eigenvalues
 *       (top-3, and bottom-3 in hessian mode) of every layer and of the whole network (layer 0)
 *       agree to 1e-10·max|λ| of that matrix (block Lanczos starts from a block seeded by
 *       {@code --seed}); the sums-derived values (trace, gradient norm, A, G, A⊗G, factors) and
 *       the samples table agree as in {@link DeterminismTest};</li>
 *   <li>repeating the run on 16 partitions with batches of 1 gives BIT-IDENTICAL tables, all six
 *       of them: layers, spectrum (Ritz values and residuals), factors, samples, density (seeded
 *       Rademacher probes) and eigenvectors.</li>
 * </ul>
 */
class MatrixFreeDeterminismTest {
    /** Lanczos eigenvalues across partitionings: |λ − λ'| ≤ 1e-10·max|λ| of that matrix. */
    private static final double LANCZOS_RELATIVE = 1e-10;
    /** Columns of `layers` that depend on the Lanczos iteration, checked through the spectrum instead. */
    private static final Set<String> ITERATION_COLUMNS = Set.of("lambda_max", "lambda_min", "kfac_overlap",
            "lanczos_passes", "lanczos_converged", "density_passes");

    private static SparkSession spark;
    private static OutputTables tables;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(MatrixFreeDeterminismTest.class.getSimpleName());
        tables = new OutputTables(spark);
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ggn", "hessian"})
    void lanczosSpectraDoNotDependOnPartitionsAndRepeatBitIdentically(String mode) {
        String[] lanczos = {"--spectrum", "lanczos", "--top-k", "3", "--network", "--density",
            "--density-probes", "3", "--density-steps", "4", "--density-grid", "64", "--eigenvectors", "2"};
        Path reference = DeterminismTest.analyze(tmp, "lanczos", mode, "1", "256", lanczos);
        Path last = null;
        for (String[] pb : new String[][] {{"3", "7"}, {"16", "1"}}) {
            Path other = DeterminismTest.analyze(tmp, "lanczos", mode, pb[0], pb[1], lanczos);
            String what = mode + " lanczos --partitions " + pb[0] + " --batch-size " + pb[1] + " vs 1/256";
            assertLanczosEigenvaluesClose(what, reference, other);
            tables.assertClose(what, "layers", reference, other, DeterminismTest.RELATIVE, DeterminismTest.SCALE_FACTOR,
                    ITERATION_COLUMNS);
            tables.assertClose(what, "factors", reference, other, DeterminismTest.RELATIVE,
                    DeterminismTest.SCALE_FACTOR, Set.of());
            tables.assertClose(what, "samples", reference, other, DeterminismTest.RELATIVE,
                    DeterminismTest.SCALE_FACTOR, Set.of());
            tables.assertClose(what, "sample_layers", reference, other, DeterminismTest.RELATIVE,
                    DeterminismTest.SCALE_FACTOR, Set.of());
            last = other;
        }
        Path again = DeterminismTest.analyze(tmp, "lanczos-again", mode, "16", "1", lanczos);
        for (String table : new String[] {"layers", "spectrum", "factors", "samples", "sample_layers", "density", "eigenvectors"}) {
            tables.assertBitIdentical(table, last, again);
        }
    }

    /**
     * The same (layer, rank) Lanczos eigenvalues in both runs, each within 1e-10·max|λ| of its
     * matrix; the other spectrum rows (A, G, A⊗G from the sums) to the rule of {@link DeterminismTest}.
     */
    private static void assertLanczosEigenvaluesClose(String what, Path a, Path b) {
        Map<String, Double> ea = lanczosValues(a);
        Map<String, Double> eb = lanczosValues(b);
        assertEquals(ea.keySet(), eb.keySet(), what + ": reported Lanczos eigenvalues (layer/rank)");
        assertTrue(ea.size() >= 4 * 3, what + ": top-3 of 3 layers and of the network, got " + ea.keySet());
        Map<Integer, Double> scale = new HashMap<>();
        for (Map.Entry<String, Double> e : ea.entrySet()) {
            scale.merge(layerOf(e.getKey()), Math.abs(e.getValue()), Math::max);
        }
        for (Map.Entry<String, Double> e : ea.entrySet()) {
            double x = e.getValue();
            double y = eb.get(e.getKey());
            double tol = LANCZOS_RELATIVE * scale.get(layerOf(e.getKey()));
            assertTrue(Math.abs(x - y) <= tol, what + ": Lanczos eigenvalue layer/rank " + e.getKey() + ": " + x
                    + " vs " + y + " (|diff| " + Math.abs(x - y) + " > " + tol + ")");
        }
        Map<String, Double> sumsA = new LinkedHashMap<>();
        Map<String, Double> sumsB = new LinkedHashMap<>();
        for (Row r : tables.rows(a, "spectrum")) {
            if (!r.getString(r.fieldIndex("method")).equals("lanczos")) {
                sumsA.put(OutputTables.describeKey("spectrum", r), r.getDouble(r.fieldIndex("eigenvalue")));
            }
        }
        for (Row r : tables.rows(b, "spectrum")) {
            if (!r.getString(r.fieldIndex("method")).equals("lanczos")) {
                sumsB.put(OutputTables.describeKey("spectrum", r), r.getDouble(r.fieldIndex("eigenvalue")));
            }
        }
        assertEquals(sumsA.keySet(), sumsB.keySet(), what + ": A, G, AxG spectrum rows");
        assertTrue(!sumsA.isEmpty(), what + ": A, G, AxG spectrum rows present");
        Map<String, Double> matrixScale = new HashMap<>();
        for (Map.Entry<String, Double> e : sumsA.entrySet()) {
            matrixScale.merge(matrixOf(e.getKey()), Math.abs(e.getValue()), Math::max);
        }
        for (Map.Entry<String, Double> e : sumsA.entrySet()) {
            double x = e.getValue();
            double y = sumsB.get(e.getKey());
            double tol = DeterminismTest.RELATIVE * Math.abs(x)
                    + DeterminismTest.SCALE_FACTOR * matrixScale.get(matrixOf(e.getKey()));
            assertTrue(Math.abs(x - y) <= tol, what + ": spectrum " + e.getKey() + ": " + x + " vs " + y);
        }
    }

    private static int layerOf(String layerRank) {
        return Integer.parseInt(layerRank.split("/")[0]);
    }

    /** "layer=1, matrix=A" of a described spectrum key. */
    private static String matrixOf(String described) {
        String[] parts = described.split(", ");
        return parts[0] + ", " + parts[1];
    }

    private static Map<String, Double> lanczosValues(Path out) {
        Map<String, Double> values = new LinkedHashMap<>();
        for (Row r : tables.rows(out, "spectrum")) {
            if (r.getString(r.fieldIndex("method")).equals("lanczos")) {
                values.put(r.getInt(r.fieldIndex("layer")) + "/" + r.getInt(r.fieldIndex("rank")),
                        r.getDouble(r.fieldIndex("eigenvalue")));
            }
        }
        return values;
    }
}
