package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.model.io.NativeModelWriter;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The machinery of the numerical edge-case tests (issue 5), {@link NumericsEdgeCaseTest} and
 * {@link RankDeficiencyTest}: each {@link Case} (a network, its samples, and what theory says about
 * each layer's H) is written as a native model and jsonl data and analysed through the CLI in both
 * modes with dense spectra ({@code --spectrum dense --empirical-fisher}, 2 partitions, batches of 3),
 * and, when marked, also matrix-free ({@code --spectrum lanczos --network --density --eigenvectors 2}).
 * <p>Checked: no NaN or ±Infinity in any double or array column of any table, nor in run.json;
 * eigenvalues that are zero in theory within 1e-10·max|λ| of zero, counted per layer as
 * #{|λ| &gt; 1e-10·max|λ|} ≤ the rank bound of the case; for layers whose H vanishes identically
 * every eigenvalue (dense and Lanczos) within 1e-10·max|λ| of the other layers, or exactly 0 when
 * every layer vanishes; the GGN, the output layer's block (both modes) and the empirical Fisher
 * positive semi-definite (λ_min ≥ −1e-10·max|λ|); Σλ = the exact trace; the top-3 Lanczos values
 * equal the dense ones (1e-8·max|λ|); {@code kfac_rel_error} and {@code kfac_overlap} null exactly
 * when ||H||_F = 0 (undefined: 0/0, and every subspace is a top eigenspace of the zero matrix),
 * finite otherwise; and for one-layer networks the per-sample loss, trace and gradient norm against
 * plain Java with cancellation-free formulas, to 1e-10 relative.
 */
abstract class CurvatureEdgeCaseHarness {
    /** Eigenvalues that are zero in theory: |λ| ≤ 1e-10·max|λ|. */
    private static final double ZERO = 1e-10;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static SparkSession spark;
    private static OutputTables tables;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(CurvatureEdgeCaseHarness.class.getSimpleName());
        tables = new OutputTables(spark);
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    /**
     * One edge case: a network, its samples and labels, and what theory says about each layer's H.
     * {@code rankBound[mode][l]} bounds the rank of H^l (index 0 unused; mode 0 ggn, 1 hessian);
     * {@code vanishing[mode]} lists the layers whose H is identically zero.
     */
    static final class Case {
        final String name;
        final Network network;
        final List<double[]> features = new ArrayList<>();
        final List<Object> labels = new ArrayList<>();
        final int[][] rankBound;
        final Set<Integer>[] vanishing;
        final boolean lanczos;
        /** A one-layer network: per-sample loss, trace and gradient norm are checked against plain Java. */
        final boolean reference;

        @SuppressWarnings("unchecked")
        Case(String name, Network network, boolean lanczos) {
            this.name = name;
            this.network = network;
            this.lanczos = lanczos;
            this.reference = network.depth() == 1;
            int depth = network.depth();
            rankBound = new int[2][depth + 1];
            for (int m = 0; m < 2; m++) {
                for (int l = 1; l <= depth; l++) {
                    rankBound[m][l] = (int) network.layer(l).parameterCount();
                }
            }
            vanishing = new Set[] {Set.of(), Set.of()};
        }

        Case sample(double[] x, Object label) {
            features.add(x);
            labels.add(label);
            return this;
        }

        /** Rank bound of layer l in both modes. */
        Case rank(int l, int ggn, int hessian) {
            rankBound[0][l] = Math.min(rankBound[0][l], ggn);
            rankBound[1][l] = Math.min(rankBound[1][l], hessian);
            return this;
        }

        Case vanishing(Set<Integer> ggn, Set<Integer> hessian) {
            vanishing[0] = ggn;
            vanishing[1] = hessian;
            return this;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    // ----------------------------------------------------------------------------------- helpers for cases

    static DenseLayer layer(String name, int out, int in, Random rnd, double weightScale, double[] bias,
                                    Activation act) {
        double[] w = new double[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = weightScale * rnd.nextGaussian();
        }
        double[] b = bias;
        if (b == null) {
            b = new double[out];
            for (int k = 0; k < out; k++) {
                b[k] = 0.3 * rnd.nextGaussian();
            }
        }
        return new DenseLayer(name, out, in, w, b, act);
    }

    static double[] gaussian(Random rnd, int n) {
        double[] x = new double[n];
        for (int k = 0; k < n; k++) {
            x[k] = rnd.nextGaussian();
        }
        return x;
    }

    static double[] fill(int n, double v) {
        double[] x = new double[n];
        Arrays.fill(x, v);
        return x;
    }

    /** Multiplies a layer's weights (and bias) by s. */
    static DenseLayer scaled(DenseLayer l, double s) {
        double[] w = l.weightsRowMajor();
        double[] b = l.biasValues();
        for (int k = 0; k < w.length; k++) {
            w[k] *= s;
        }
        for (int k = 0; k < b.length; k++) {
            b[k] *= s;
        }
        return new DenseLayer(l.name(), l.fanOut(), l.fanIn(), w, b, l.activation());
    }


    /** z^L of one sample, in plain Java (to scale the output layer). */
    static double[] logits(Network net, double[] x) {
        double[] a = x;
        for (int l = 1; l <= net.depth(); l++) {
            DenseLayer layer = net.layer(l);
            double[] w = layer.weightsRowMajor();
            double[] b = layer.biasValues();
            double[] z = new double[layer.fanOut()];
            for (int i = 0; i < z.length; i++) {
                z[i] = b[i];
                for (int j = 0; j < a.length; j++) {
                    z[i] += w[i * a.length + j] * a[j];
                }
            }
            a = l == net.depth() ? z : z.clone();
            if (l < net.depth()) {
                for (int i = 0; i < a.length; i++) {
                    a[i] = Math.tanh(z[i]);
                }
            }
        }
        return a;
    }

    /** (case, mode) for every case in both modes: the arguments of {@link #noNaNOrInfinityAndTheoreticalZerosHold}. */
    static List<Arguments> inBothModes(List<Case> cases) {
        List<Arguments> args = new ArrayList<>();
        for (Case c : cases) {
            args.add(Arguments.of(c, "ggn"));
            args.add(Arguments.of(c, "hessian"));
        }
        return args;
    }

    // ----------------------------------------------------------------------------------- runs

    private static Path materialize(Case c) {
        Path dir = tmp.resolve(c.name);
        if (Files.isDirectory(dir.resolve("model"))) {
            return dir;
        }
        NativeModelWriter.write(c.network, dir.resolve("model"));
        StringBuilder sb = new StringBuilder();
        for (int s = 0; s < c.features.size(); s++) {
            sb.append("{\"id\":").append(s).append(",\"features\":").append(json(c.features.get(s)))
                    .append(",\"label\":").append(c.labels.get(s) instanceof double[] ? json((double[]) c.labels.get(s))
                            : c.labels.get(s).toString()).append("}\n");
        }
        try {
            Files.writeString(dir.resolve("data.jsonl"), sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static String json(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int k = 0; k < v.length; k++) {
            sb.append(k == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.17g", v[k]));
        }
        return sb.append(']').toString();
    }

    private static Path analyze(Case c, String mode, String name, String... extra) {
        Path in = materialize(c);
        Path out = tmp.resolve(c.name + "-" + mode + "-" + name);
        List<String> args = new ArrayList<>(List.of("analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--out", out.toString(), "--mode", mode,
                "--partitions", "2", "--batch-size", "3", "--top-k", "3"));
        args.addAll(List.of(extra));
        CliRun run = CliRun.of(args.toArray(new String[0]));
        assertEquals(0, run.exitCode, c.name + " " + mode + " " + name + ": " + run);
        return out;
    }

    // ----------------------------------------------------------------------------------- test

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("casesInBothModes")
    void noNaNOrInfinityAndTheoreticalZerosHold(Case c, String mode) throws IOException {
        int m = mode.equals("ggn") ? 0 : 1;
        int depth = c.network.depth();
        String what = c.name + " " + mode;

        Path dense = analyze(c, mode, "dense", "--spectrum", "dense", "--empirical-fisher");
        assertFinite(dense, what + " dense");
        Map<Integer, double[]> eig = eigenvalues(dense, "H", "dense");
        Map<Integer, Row> layers = layerRows(dense);
        assertEquals(depth, eig.size(), what + ": dense H spectra of every layer");
        double maxOther = 0;
        for (int l = 1; l <= depth; l++) {
            if (!c.vanishing[m].contains(l)) {
                maxOther = Math.max(maxOther, maxAbs(eig.get(l)));
            }
        }
        boolean allVanish = c.vanishing[m].size() == depth;
        for (int l = 1; l <= depth; l++) {
            String at = what + " layer " + l;
            double[] ev = eig.get(l);
            double max = maxAbs(ev);
            Row row = layers.get(l);
            double fro = row.getDouble(row.fieldIndex("frobenius"));
            if (c.vanishing[m].contains(l)) {
                assertVanishing(at + " dense H", ev, allVanish, maxOther);
            } else {
                assertTrue(max > 0, at + ": H should not vanish");
                long above = Arrays.stream(ev).filter(v -> Math.abs(v) > ZERO * max).count();
                assertTrue(above <= c.rankBound[m][l], at + ": " + above + " eigenvalues above 1e-10·max|λ| = "
                        + ZERO * max + ", theory allows at most " + c.rankBound[m][l] + " of " + ev.length + ": "
                        + Arrays.toString(ev));
            }
            if (m == 0) {
                assertTrue(ev[ev.length - 1] >= -ZERO * max, at + ": GGN λ_min " + ev[ev.length - 1] + " < −1e-10·" + max);
            }
            double[] f = eigenvalues(dense, "F", "dense").get(l);
            assertTrue(f[f.length - 1] >= -ZERO * maxAbs(f), at + ": empirical Fisher λ_min " + f[f.length - 1]);
            double sum = Arrays.stream(ev).sum();
            double trace = row.getDouble(row.fieldIndex("trace"));
            double absSum = Arrays.stream(ev).map(Math::abs).sum();
            assertTrue(Math.abs(sum - trace) <= ZERO * absSum, at + ": Σλ = " + sum + " vs exact trace " + trace);
            assertEquals(fro == 0, row.isNullAt(row.fieldIndex("kfac_rel_error")),
                    at + ": kfac_rel_error is null exactly when ||H||_F = 0 (||H||_F = " + fro + ")");
            assertEquals(fro == 0, row.isNullAt(row.fieldIndex("kfac_overlap")),
                    at + ": kfac_overlap is null exactly when ||H||_F = 0 (||H||_F = " + fro + ")");
            if (fro > 0) {
                double kfac = row.getDouble(row.fieldIndex("kfac_rel_error"));
                assertTrue(kfac >= 0 && Double.isFinite(kfac), at + ": kfac_rel_error " + kfac);
            }
            if (allVanish) {
                assertEquals(0.0, fro, at + ": ||H||_F");
                assertEquals(0.0, row.getDouble(row.fieldIndex("trace")), at + ": trace");
            }
        }
        // the output layer's block is PSD in both modes (Q^L is PSD; z^L is linear in θ^L)
        double[] output = eig.get(depth);
        assertTrue(output[output.length - 1] >= -ZERO * maxAbs(output), what + ": output layer λ_min "
                + output[output.length - 1] + " < −1e-10·" + maxAbs(output) + " (its exact Hessian is the GGN, PSD): "
                + Arrays.toString(output));
        if (c.reference) {
            assertMatchesPlainJava(c, dense, what);
        }
        if (allVanish && c.name.equals("softmax_saturated_exact")) {
            for (Row r : layers.values()) {
                assertEquals(0.0, r.getDouble(r.fieldIndex("grad_norm")), what + ": gradient of a perfect fit");
            }
        }

        if (c.lanczos) {
            Path mf = analyze(c, mode, "lanczos", "--spectrum", "lanczos", "--network", "--density",
                    "--density-probes", "3", "--density-steps", "4", "--density-grid", "32", "--eigenvectors", "2");
            assertFinite(mf, what + " lanczos");
            Map<Integer, double[]> ritz = eigenvalues(mf, "H", "lanczos");
            Map<Integer, Row> mfLayers = layerRows(mf);
            assertEquals(depth + 1, ritz.size(), what + ": Lanczos values of every layer and the network");
            for (int l = 0; l <= depth; l++) {
                String at = what + " lanczos layer " + l;
                double[] rv = ritz.get(l);
                Row row = mfLayers.get(l);
                if (l > 0 && c.vanishing[m].contains(l)) {
                    assertVanishing(at, rv, allVanish, maxOther);
                    assertTrue(row.isNullAt(row.fieldIndex("kfac_overlap")), at + ": kfac_overlap of H = 0 is null");
                } else if (l > 0) {
                    // the top Lanczos values are the dense ones
                    double[] ev = eig.get(l);
                    double max = maxAbs(ev);
                    for (int k = 0; k < Math.min(3, ev.length); k++) {
                        assertEquals(ev[k], rv[k], 1e-8 * max, at + ": Lanczos value " + (k + 1) + " vs dense");
                    }
                    assertFalse(row.isNullAt(row.fieldIndex("kfac_overlap")), at + ": kfac_overlap");
                }
                assertTrue(row.getBoolean(row.fieldIndex("lanczos_converged")), at + ": converged");
            }
            if (allVanish) {
                assertVanishing(what + " lanczos network", ritz.get(0), true, 0);
            } else if (c.name.equals("dead_relu")) {
                // the network's curvature is block-diagonal with one non-zero block: the output layer's
                double[] net = ritz.get(0);
                double[] top = eig.get(depth);
                for (int k = 0; k < 3; k++) {
                    assertEquals(top[k], net[k], 1e-8 * maxAbs(top), what + ": network value " + (k + 1));
                }
            }
        }
    }

    /**
     * One-layer networks: per sample, the loss, tr H_θ = ||ã||² tr Q^L and ||δ ãᵀ||_F against plain
     * Java with cancellation-free formulas (softmax: 1 − a_k = Σ_{j≠k} a_j, log-sum-exp with log1p;
     * sigmoid: a (1 − a) = σ(z) σ(−z), δ = (1 − y) σ(z) − y σ(−z)), to 1e-10 relative; and the
     * layer's trace (their mean) the same.
     */
    private static void assertMatchesPlainJava(Case c, Path out, String what) {
        DenseLayer layer = c.network.layer(1);
        double[] w = layer.weightsRowMajor();
        double[] b = layer.biasValues();
        int p = layer.fanOut();
        double traceSum = 0;
        Map<Long, Row> samples = new HashMap<>();
        for (Row r : tables.rows(out, "samples")) {
            samples.put(r.getLong(r.fieldIndex("sample_id")), r);
        }
        Map<Long, Row> layerOne = new HashMap<>();
        for (Row r : tables.rows(out, "sample_layers")) {
            if (r.getInt(r.fieldIndex("layer")) == 1) {
                layerOne.put(r.getLong(r.fieldIndex("sample_id")), r);
            }
        }
        assertEquals(c.features.size(), samples.size(), what + ": samples");
        assertEquals(c.features.size(), layerOne.size(), what + ": sample_layers of layer 1");
        for (int s = 0; s < c.features.size(); s++) {
            double[] x = c.features.get(s);
            double aug2 = 1;
            for (double v : x) {
                aug2 += v * v;
            }
            double[] z = new double[p];
            for (int i = 0; i < p; i++) {
                z[i] = b[i];
                for (int j = 0; j < x.length; j++) {
                    z[i] += w[i * x.length + j] * x[j];
                }
            }
            double loss = 0;
            double traceQ = 0;
            double delta2 = 0;
            if (c.network.loss() == Loss.SOFTMAX_CROSS_ENTROPY) {
                int y = (Integer) c.labels.get(s);
                int arg = 0;
                for (int k = 1; k < p; k++) {
                    arg = z[k] > z[arg] ? k : arg;
                }
                double[] e = new double[p];
                double rest = 0;
                for (int k = 0; k < p; k++) {
                    e[k] = Math.exp(z[k] - z[arg]);
                    rest += k == arg ? 0 : e[k];
                }
                double sum = 1 + rest;
                loss = (z[arg] - z[y]) + Math.log1p(rest);
                for (int k = 0; k < p; k++) {
                    double a = e[k] / sum;
                    double others = (k == arg ? rest : sum - e[k]) / sum;   // 1 − a_k without cancellation
                    traceQ += a * others;
                    double d = k == y ? -others : a;
                    delta2 += d * d;
                }
            } else {
                double[] y = (double[]) c.labels.get(s);
                for (int k = 0; k < p; k++) {
                    double sp = 1 / (1 + Math.exp(-z[k]));
                    double sm = 1 / (1 + Math.exp(z[k]));
                    loss += (1 - y[k]) * softplus(z[k]) + y[k] * softplus(-z[k]);
                    traceQ += sp * sm;
                    double d = (1 - y[k]) * sp - y[k] * sm;
                    delta2 += d * d;
                }
            }
            Row r = samples.get((long) s);
            String at = what + " sample " + s + " (logits " + Arrays.toString(z) + ")";
            Row rl = layerOne.get((long) s);
            assertRelative(at + " loss", loss, r.getDouble(r.fieldIndex("loss")));
            assertRelative(at + " trace", aug2 * traceQ, rl.getDouble(rl.fieldIndex("trace")));
            assertRelative(at + " grad_norm", Math.sqrt(delta2 * aug2), rl.getDouble(rl.fieldIndex("grad_norm")));
            traceSum += aug2 * traceQ;
        }
        Row layerRow = layerRows(out).get(1);
        assertRelative(what + " layer trace", traceSum / c.features.size(), layerRow.getDouble(layerRow.fieldIndex("trace")));
    }

    private static double softplus(double z) {
        return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    }

    private static void assertRelative(String at, double ref, double actual) {
        assertTrue(Math.abs(actual - ref) <= 1e-10 * Math.abs(ref), at + ": " + actual + ", reference " + ref);
    }

    private static void assertVanishing(String at, double[] ev, boolean exactly, double maxOther) {
        for (double v : ev) {
            if (exactly) {
                assertEquals(0.0, Math.abs(v), at + ": every H vanishes, eigenvalue " + v + " in " + Arrays.toString(ev));
            } else {
                assertTrue(Math.abs(v) <= ZERO * maxOther, at + ": H vanishes identically, eigenvalue " + v
                        + " > 1e-10·" + maxOther + " (max|λ| of the other layers)");
            }
        }
    }

    /** Every double and array column of every table, and the numbers of run.json, are finite. */
    private static void assertFinite(Path out, String what) throws IOException {
        long scanned = tables.assertAllFinite(out, what);
        assertTrue(scanned > 0, what + ": values scanned");
        String manifest = Files.readString(out.resolve("run.json"));
        assertFalse(manifest.contains("NaN") || manifest.contains("Infinity"), what + ": run.json " + manifest);
        JsonNode root = JSON.readTree(manifest);
        assertTrue(root.get("mean_loss").isNumber(), what + ": mean_loss " + root.get("mean_loss"));
    }

    /** Per layer, the eigenvalues of a matrix by one method, in rank order. */
    private static Map<Integer, double[]> eigenvalues(Path out, String matrix, String method) {
        Map<Integer, TreeMap<Integer, Double>> byLayer = new TreeMap<>();
        for (Row r : tables.rows(out, "spectrum")) {
            if (r.getString(r.fieldIndex("matrix")).equals(matrix) && r.getString(r.fieldIndex("method")).equals(method)) {
                byLayer.computeIfAbsent(r.getInt(r.fieldIndex("layer")), k -> new TreeMap<>())
                        .put(r.getInt(r.fieldIndex("rank")), r.getDouble(r.fieldIndex("eigenvalue")));
            }
        }
        Map<Integer, double[]> out2 = new HashMap<>();
        byLayer.forEach((l, m) -> out2.put(l, m.values().stream().mapToDouble(Double::doubleValue).toArray()));
        return out2;
    }

    private static Map<Integer, Row> layerRows(Path out) {
        Map<Integer, Row> m = new HashMap<>();
        for (Row r : tables.rows(out, "layers")) {
            m.put(r.getInt(r.fieldIndex("layer")), r);
        }
        return m;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
