package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.hessianatlas.common.testing.OracleCase;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The matrix-free spectra of `analyze` end to end (distributed passes, local[2]) on every oracle
 * case in both modes: `--spectrum lanczos` top-k of each layer's H (and bottom-k in hessian mode)
 * against the autograd eigenvalues (GGN_layer / H_layer), the whole network's top-5 (layer 0)
 * against {@code dataset_mean.full.eig_GGN_top5} / {@code eig_H_top5}, the exact network trace,
 * and one Lanczos pass per block product. Tolerance: |λ − ref| ≤ 1e-8 · max|λ_ref|.
 * Also: SLQ densities integrate to 1 and match trace/d and ||H||_F²/d, and eigenvectors satisfy H v = λ v.
 * (How an unconverged Lanczos run is reported is LanczosConvergenceReportTest's.)
 */
class MatrixFreeSpectraTest {
    private static final double EIGENVALUE_TOLERANCE = 1e-8;
    private static final String K = "5";
    /**
     * The bounded basis of the restart test: twice the minimum (top-5, bottom-5 and two blocks of 5). Layers 1 and 2
     * (d = 56, 72) and the network (164) restart; layer 3 (36) fits. (At 24, c05's layer 3 in hessian mode — four
     * zero eigenvalues next to a fourfold 3.05e-4, a relative gap of 4e-5 — did not reach 1e-10 in 300 passes:
     * a tight basis cannot resolve such a cluster at its end; its residuals said so.)
     */
    private static final int MAX_BASIS = 40;

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(MatrixFreeSpectraTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    /** Numbers the output folders: every run of the class writes its own. */
    private static final java.util.concurrent.atomic.AtomicInteger RUNS = new java.util.concurrent.atomic.AtomicInteger();

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String c : OracleCase.CASES) {
            out.add(Arguments.of(c, "ggn"));
            out.add(Arguments.of(c, "hessian"));
        }
        return out;
    }

    private static Path run(String caseName, String mode, String... extra) {
        Path in = OracleInputs.materialize(caseName, tmp.resolve("in"));
        Path out = tmp.resolve("out-" + caseName + "-" + mode + "-" + RUNS.incrementAndGet());
        List<String> args = new ArrayList<>(List.of("analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--out", out.toString(), "--mode", mode));
        args.addAll(List.of(extra));
        CliRun r = CliRun.of(args.toArray(new String[0]));
        assertEquals(0, r.exitCode, r.toString());
        return out;
    }

    /** The spectrum table of a run, read once (a few dozen rows). */
    private static List<Row> spectrum(Path out) {
        return spark.read().parquet(out.resolve("spectrum").toString()).collectAsList();
    }

    /** Its rows of one layer and matrix, by rank. */
    private static List<Row> spectrum(List<Row> all, int layer, String matrix) {
        List<Row> rows = new ArrayList<>();
        for (Row r : all) {
            if (r.getInt(r.fieldIndex("layer")) == layer && matrix.equals(r.getString(r.fieldIndex("matrix")))) {
                rows.add(r);
            }
        }
        rows.sort(Comparator.comparingInt(r -> r.getInt(r.fieldIndex("rank"))));
        return rows;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void lanczosMatchesAutogradEigenvalues(String caseName, String mode) {
        assertLanczosMatchesAutograd(caseName, mode);
    }

    /**
     * Issue 14: float32 products refined by float64 passes from the float32 Ritz vectors, with a block
     * wider than k, give the autograd eigenvalues to the same tolerance as float64 products.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void float32ProductsRefinedMatchAutogradEigenvalues(String caseName, String mode) {
        assertLanczosMatchesAutograd(caseName, mode, "--lanczos-products", "float32", "--lanczos-block", "8");
    }

    /**
     * Issue 14: a driver basis bounded to {@value #MAX_BASIS} vectors (thick restarts) gives the autograd eigenvalues
     * to the same tolerance, in both modes (hessian: the top-5 and bottom-5 kept across restarts); some matrix
     * restarted, every basis stayed within the bound and every matrix converged.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("restartCases")
    void boundedBasisMatchesAutogradEigenvalues(String caseName, String mode) {
        Path out = assertLanczosMatchesAutograd(caseName, mode, "--lanczos-max-basis", String.valueOf(MAX_BASIS),
                "--lanczos-max-passes", "300");
        int restarts = 0;
        for (com.fasterxml.jackson.databind.JsonNode m : OutputTables.runJson(out).get("spectra")) {
            assertTrue(m.get("lanczos_converged").asBoolean(), caseName + " " + mode + " layer " + m.get("layer") + " converged");
            restarts += m.get("lanczos_restarts").asInt();
            assertTrue(m.get("lanczos_krylov_dimension").asInt() <= MAX_BASIS, "layer " + m.get("layer") + ": basis within the bound");
        }
        assertTrue(restarts > 0, caseName + " " + mode + ": some matrix's Lanczos restarted (" + restarts + ")");
    }

    /**
     * The 164-parameter cases (6-8-8-4) whose Lanczos fills the bound: c02 in both modes, c05 in hessian mode (its
     * GGN's rank is so low that the Krylov space is exhausted before 40 vectors).
     */
    static List<Arguments> restartCases() {
        return List.of(Arguments.of("c02_softmax_tanh_6-8-8-4", "ggn"), Arguments.of("c02_softmax_tanh_6-8-8-4", "hessian"),
                Arguments.of("c05_mse_relu_6-8-8-4", "hessian"));
    }

    private static Path assertLanczosMatchesAutograd(String caseName, String mode, String... lanczosArgs) {
        OracleCase oc = OracleCase.load(caseName);
        boolean exact = mode.equals("hessian");
        List<String> args = new ArrayList<>(List.of("--spectrum", "lanczos", "--top-k", K, "--network", "--lanczos-tol", "1e-10"));
        args.addAll(List.of(lanczosArgs));
        Path out = run(caseName, mode, args.toArray(new String[0]));
        int k = Integer.parseInt(K);
        int depth = oc.at("model", "layers").size();
        String theta = exact ? "H_layer" : "GGN_layer";
        List<Row> spectrum = spectrum(out);
        for (int l = 1; l <= depth; l++) {
            double[] ref = OracleCase.vector(oc.at("dataset_mean", "layers", l - 1, theta, "eigenvalues"));
            int d = ref.length;
            int kk = Math.min(k, d);
            double scale = Math.max(Math.abs(ref[0]), Math.abs(ref[d - 1]));
            List<Row> rows = spectrum(spectrum, l, "H");
            for (Row r : rows) {
                assertEquals("lanczos", r.getString(r.fieldIndex("method")));
                int rank = r.getInt(r.fieldIndex("rank"));
                double v = r.getDouble(r.fieldIndex("eigenvalue"));
                assertEquals(ref[rank - 1], v, EIGENVALUE_TOLERANCE * scale,
                        caseName + " " + mode + " layer " + l + " rank " + rank);
                assertTrue(!r.isNullAt(r.fieldIndex("residual")), "residual reported");
            }
            long tops = rows.stream().filter(r -> r.getInt(r.fieldIndex("rank")) <= kk).count();
            assertEquals(kk, tops, caseName + " layer " + l + ": top-k reported");
            if (exact) {
                long bottoms = rows.stream().filter(r -> r.getInt(r.fieldIndex("rank")) > d - kk).count();
                assertTrue(bottoms >= Math.min(kk, d - kk), caseName + " layer " + l + ": bottom-k reported");
            }
        }
        double[] refTop = OracleCase.vector(oc.at("dataset_mean", "full", exact ? "eig_H_top5" : "eig_GGN_top5"));
        double[] all = OracleCase.vector(oc.at("dataset_mean", "full", exact ? "eig_H_all" : "eig_GGN_all"));
        double scale = Math.max(Math.abs(all[0]), Math.abs(all[all.length - 1]));
        List<Row> net = spectrum(spectrum, 0, "H");
        for (int i = 0; i < refTop.length; i++) {
            assertEquals(refTop[i], net.get(i).getDouble(net.get(i).fieldIndex("eigenvalue")), EIGENVALUE_TOLERANCE * scale,
                    caseName + " " + mode + " network top " + (i + 1));
        }
        Row layer0 = spark.read().parquet(out.resolve("layers").toString()).filter("layer = 0").first();
        double traceRef = oc.at("dataset_mean", "full", exact ? "trace_H" : "trace_GGN").asDouble();
        assertEquals(traceRef, layer0.getDouble(layer0.fieldIndex("trace")), 1e-8 * Math.abs(traceRef) + 1e-10 * scale,
                caseName + " network trace (exact)");
        assertEquals("network", layer0.getString(layer0.fieldIndex("name")));
        assertEquals(all.length, layer0.getLong(layer0.fieldIndex("params")));
        return out;
    }

    /**
     * SLQ on c02 (tanh, 6-8-8-4) in hessian mode with dense blocks for reference: the density of
     * each layer integrates to 1 on its grid, and its first two moments match tr(H)/d and
     * ||H||_F²/d + σ² (σ the broadening) within 5 standard deviations of the Hutchinson estimator
     * over the probes, bounded by sqrt(2)·||H^j||_F/(d·sqrt(P)) for moment j.
     */
    @Test
    void densityIntegratesToOneAndMatchesTheDenseMoments() {
        String caseName = "c02_softmax_tanh_6-8-8-4";
        int probes = 16;
        double width = 0.02;
        Path out = run(caseName, "hessian", "--spectrum", "dense", "--density", "--density-probes", String.valueOf(probes),
                "--density-steps", "30", "--density-grid", "400", "--density-width", String.valueOf(width));
        OracleCase oc = OracleCase.load(caseName);
        for (int l = 1; l <= 3; l++) {
            List<Row> rows = new ArrayList<>(spark.read().parquet(out.resolve("density").toString())
                    .filter("layer = " + l).collectAsList());
            rows.sort(Comparator.comparingDouble(r -> r.getDouble(r.fieldIndex("x"))));
            double integral = 0;
            double m1 = 0;
            double m2 = 0;
            for (int g = 1; g < rows.size(); g++) {
                double x0 = rows.get(g - 1).getDouble(2);
                double x1 = rows.get(g).getDouble(2);
                double r0 = rows.get(g - 1).getDouble(3);
                double r1 = rows.get(g).getDouble(3);
                integral += 0.5 * (x1 - x0) * (r0 + r1);
                m1 += 0.5 * (x1 - x0) * (x0 * r0 + x1 * r1);
                m2 += 0.5 * (x1 - x0) * (x0 * x0 * r0 + x1 * x1 * r1);
            }
            assertEquals(1.0, integral, 1e-4, "layer " + l + " ∫ρ");
            double[] eig = OracleCase.vector(oc.at("dataset_mean", "layers", l - 1, "H_layer", "eigenvalues"));
            int d = eig.length;
            double tr = 0;
            double f2 = 0;
            double f4 = 0;
            for (double v : eig) {
                tr += v;
                f2 += v * v;
                f4 += v * v * v * v;
            }
            double sigma = width * (rows.get(rows.size() - 1).getDouble(2) - rows.get(0).getDouble(2))
                    / (1 + 2 * 5 * width);  // the grid spans the Ritz range plus 5σ on each side
            double sd1 = Math.sqrt(2 * f2) / d / Math.sqrt(probes);
            double sd2 = Math.sqrt(2 * f4) / d / Math.sqrt(probes);
            assertEquals(tr / d, m1, 5 * sd1, "layer " + l + " first moment vs tr(H)/d");
            assertEquals(f2 / d + sigma * sigma, m2, 5 * sd2 + 1e-3 * sigma * sigma, "layer " + l + " second moment");
        }
    }

    /** `--eigenvectors 3` on c01: each written vector v of the dense H satisfies H v = λ v (H from the factors table). */
    @Test
    void eigenvectorsAreEigenvectorsOfTheWrittenBlock() {
        Path out = run("c01_softmax_relu_4-5-3", "ggn", "--eigenvectors", "3");
        for (int l = 1; l <= 2; l++) {
            List<Row> hRows = new ArrayList<>(spark.read().parquet(out.resolve("factors").toString())
                    .filter("layer = " + l + " AND matrix = 'H'").collectAsList());
            hRows.sort(Comparator.comparingInt(r -> r.getInt(r.fieldIndex("row"))));
            List<Row> vecs = spark.read().parquet(out.resolve("eigenvectors").toString())
                    .filter("layer = " + l + " AND matrix = 'H'").collectAsList();
            assertEquals(3, vecs.size());
            for (Row v : vecs) {
                List<Double> x = v.getList(v.fieldIndex("values"));
                double lambda = v.getDouble(v.fieldIndex("eigenvalue"));
                for (int i = 0; i < hRows.size(); i++) {
                    List<Double> row = hRows.get(i).getList(hRows.get(i).fieldIndex("values"));
                    double hv = 0;
                    for (int j = 0; j < row.size(); j++) {
                        hv += row.get(j) * x.get(j);
                    }
                    assertEquals(lambda * x.get(i), hv, 1e-10, "layer " + l + " (H v)[" + i + "]");
                }
            }
        }
    }
}
