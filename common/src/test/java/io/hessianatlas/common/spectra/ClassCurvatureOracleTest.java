package io.hessianatlas.common.spectra;

import static io.hessianatlas.common.testing.Tolerance.assertScalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.testing.OracleCase;
import io.hessianatlas.common.testing.OracleSums;
import io.hessianatlas.common.testing.ThetaBlocks;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Per-class curvature ({@link ClassCurvature}) of the oracle cases whose labels are classes
 * (softmax c01, c02, c07; binary BCE c03), in both modes, accumulated over batches of 4 samples
 * (so batches mix classes and a class's samples come in several runs), against references built
 * from the autograd values of each sample: the per-sample losses, layer traces and full-network
 * traces, the logits z^L (for the predictions), ã and Q_ggn / Q_exact. Reference eigenvalues come
 * from the plain-Java {@link SymmetricEigen}, not from LAPACK. Tolerances: {@link OracleCase}'s rule.
 */
class ClassCurvatureOracleTest {
    private static final int BATCH = 4;
    private static final String[] CLASS_CASES = {
        "c01_softmax_relu_4-5-3", "c02_softmax_tanh_6-8-8-4", "c03_bce_sigmoid_10-7-1", "c07_softmax_sigmoid_3-4-2",
    };

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String c : CLASS_CASES) {
            for (CurvatureMode m : CurvatureMode.values()) {
                out.add(Arguments.of(c, m));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void perClassMeansMatchAutograd(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        CurvaturePlan plan = CurvaturePlan.of(net, mode, null, Long.MAX_VALUE, false, false)
                .withClasses(net, net.classCount(), Long.MAX_VALUE);
        CurvatureSums sums = OracleSums.accumulate(oc, plan, BATCH);
        List<ClassCurvature> rows = ClassCurvature.of(sums, true);
        Reference ref = new Reference(oc, mode);

        int expectedRows = 0;
        for (int c = 0; c < net.classCount(); c++) {
            List<Integer> members = ref.members(c);
            if (members.isEmpty()) {
                continue;
            }
            expectedRows += net.depth() + 1;
            String at = caseName + " " + mode + " class " + c + " ";
            double networkTrace = 0;
            double blockMax = Double.NEGATIVE_INFINITY;
            for (int l = 1; l <= net.depth(); l++) {
                ClassCurvature row = find(rows, c, l);
                assertEquals(members.size(), row.samples(), at + "samples");
                assertScalar(at + "loss", ref.meanLoss(members), row.meanLoss());
                assertEquals(ref.accuracy(members, c), row.accuracy(), 1e-15, at + "accuracy");
                assertScalar(at + "layer " + l + " trace", ref.meanLayerTrace(members, l), row.trace());
                assertEquals(ClassCurvature.Method.DENSE, row.method());
                double lambda = ref.meanBlockLambdaMax(members, l);
                assertScalar(at + "layer " + l + " lambda_max", lambda, row.lambdaMax());
                assertScalar(at + "layer " + l + " lambda_max(A)", ref.lambdaMaxA(members, l, 1), row.lambdaMaxA());
                assertScalar(at + "layer " + l + " lambda_max(G)", ref.lambdaMaxG(members, l, 1), row.lambdaMaxG());
                networkTrace += ref.meanLayerTrace(members, l);
                blockMax = Math.max(blockMax, lambda);
            }
            ClassCurvature network = find(rows, c, 0);
            assertEquals(ClassCurvature.Method.BLOCK_MAX, network.method());
            // the full-network trace is its own autograd field, not the sum of the layer fields
            assertScalar(at + "network trace", ref.meanFullTrace(members), network.trace());
            assertScalar(at + "network trace = sum of layers", networkTrace, network.trace());
            assertScalar(at + "network block max", blockMax, network.lambdaMax());
            assertNull(network.lambdaMaxA());
        }
        assertEquals(expectedRows, rows.size(), caseName + ": one row per present class and layer, plus layer 0");
    }

    /** Over the per-class budget, every layer's λ_max is that of A_c ⊗ G_c: the largest product of their eigenvalues. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void kroneckerEstimateOverTheBudget(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        int[] all = allLayers(net);
        long factorsOnly = CurvaturePlan.perClassFactorBytes(net, all, net.classCount());
        CurvaturePlan plan = CurvaturePlan.of(net, mode, null, Long.MAX_VALUE, false, false)
                .withClasses(net, net.classCount(), factorsOnly);
        CurvatureSums sums = OracleSums.accumulate(oc, plan, BATCH);
        Reference ref = new Reference(oc, mode);
        for (ClassCurvature row : ClassCurvature.of(sums, false)) {
            List<Integer> members = ref.members(row.classIndex());
            int l = row.layer();
            String at = caseName + " " + mode + " class " + row.classIndex() + " layer " + l + " ";
            assertEquals(ClassCurvature.Method.KRONECKER, row.method(), at);
            double aMax = ref.lambdaMaxA(members, l, 1);
            double aMin = -ref.lambdaMaxA(members, l, -1);
            double gMax = ref.lambdaMaxG(members, l, 1);
            double gMin = -ref.lambdaMaxG(members, l, -1);
            double expected = Math.max(Math.max(aMax * gMax, aMin * gMax), Math.max(aMax * gMin, aMin * gMin));
            assertScalar(at + "lambda_max(A⊗G)", expected, row.lambdaMax());
        }
    }

    /**
     * The per-class sums partition the global ones: counts, loss and correct predictions add up, and
     * the sample-weighted class traces and A sums give the global trace and A (to roundoff), in
     * batches of one class and of mixed classes alike.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void classSumsAddUpToTheGlobalSums(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        CurvaturePlan plan = CurvaturePlan.of(net, mode, null, Long.MAX_VALUE, false, false)
                .withClasses(net, net.classCount(), Long.MAX_VALUE);
        CurvatureSums sums = OracleSums.accumulate(oc, plan, BATCH);
        long count = 0;
        double loss = 0;
        double correct = 0;
        for (int c = 0; c < sums.classCount(); c++) {
            CurvatureSums cs = sums.ofClass(c);
            count += cs.count();
            loss += cs.count() == 0 ? 0 : cs.meanLoss() * cs.count();
            correct += cs.count() == 0 ? 0 : cs.accuracy() * cs.count();
        }
        assertEquals(sums.count(), count, caseName + ": every sample is in one class");
        assertScalar(caseName + " loss", sums.meanLoss(), loss / count);
        assertScalar(caseName + " accuracy", sums.accuracy(), correct / count);
        for (int l = 1; l <= net.depth(); l++) {
            double trace = 0;
            double[] a = new double[sums.layer(l).meanA().length];
            for (int c = 0; c < sums.classCount(); c++) {
                CurvatureSums cs = sums.ofClass(c);
                trace += cs.layer(l).meanTrace() * cs.count();
                double[] ac = cs.layer(l).meanA();
                for (int i = 0; i < a.length; i++) {
                    a[i] += ac[i] * cs.count() / count;
                }
            }
            assertScalar(caseName + " " + mode + " layer " + l + " trace", sums.layer(l).meanTrace(), trace / count);
            io.hessianatlas.common.testing.Tolerance.assertEntries(caseName + " layer " + l + " A", sums.layer(l).meanA(), a);
        }
    }

    @Test
    void factorsOverTheBudgetAreRefused() {
        Network net = OracleCase.load(CLASS_CASES[1]).network();
        long factors = CurvaturePlan.perClassFactorBytes(net, allLayers(net), net.classCount());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                CurvaturePlan.of(net, CurvatureMode.GGN, null, Long.MAX_VALUE, false, false)
                        .withClasses(net, net.classCount(), factors - 1));
        assertTrue(e.getMessage().contains("per-class factors of 4 classes"), e.getMessage());
    }

    private static int[] allLayers(Network net) {
        int[] all = new int[net.depth()];
        for (int l = 1; l <= net.depth(); l++) {
            all[l - 1] = l;
        }
        return all;
    }

    private static ClassCurvature find(List<ClassCurvature> rows, int c, int layer) {
        for (ClassCurvature r : rows) {
            if (r.classIndex() == c && r.layer() == layer) {
                return r;
            }
        }
        throw new AssertionError("no row for class " + c + " layer " + layer);
    }

    /** Class means of the oracle's per-sample autograd values. */
    private static final class Reference {
        private final OracleCase oc;
        private final Network net;
        private final boolean ggn;
        private final int[] labels;
        private final SymmetricEigen eigen = new SymmetricEigen(256);

        Reference(OracleCase oc, CurvatureMode mode) {
            this.oc = oc;
            this.net = oc.network();
            this.ggn = mode == CurvatureMode.GGN;
            this.labels = oc.classLabels();
        }

        List<Integer> members(int c) {
            List<Integer> m = new ArrayList<>();
            for (int s = 0; s < labels.length; s++) {
                if (labels[s] == c) {
                    m.add(s);
                }
            }
            return m;
        }

        double meanLoss(List<Integer> members) {
            double sum = 0;
            for (int s : members) {
                sum += oc.at("per_sample_scores", "loss", s).asDouble();
            }
            return sum / members.size();
        }

        /** Predictions from the autograd logits z^L: arg-max (softmax) or z &gt; 0 (σ(z) &gt; 0.5, binary BCE). */
        double accuracy(List<Integer> members, int c) {
            int right = 0;
            for (int s : members) {
                double[] z = OracleCase.vector(oc.at("per_sample", s, "layers", net.depth() - 1, "z"));
                int predicted;
                if (z.length == 1) {
                    predicted = z[0] > 0 ? 1 : 0;
                } else {
                    predicted = 0;
                    for (int k = 1; k < z.length; k++) {
                        predicted = z[k] > z[predicted] ? k : predicted;
                    }
                }
                right += predicted == c ? 1 : 0;
            }
            return (double) right / members.size();
        }

        double meanLayerTrace(List<Integer> members, int l) {
            double sum = 0;
            for (int s : members) {
                sum += oc.at("per_sample_scores", ggn ? "ggn_trace_layer" : "exact_trace_layer", l - 1, s).asDouble();
            }
            return sum / members.size();
        }

        double meanFullTrace(List<Integer> members) {
            double sum = 0;
            for (int s : members) {
                sum += oc.at("per_sample_scores", ggn ? "ggn_trace_full" : "exact_trace_full", s).asDouble();
            }
            return sum / members.size();
        }

        private double[] augmented(int s, int l) {
            double[] a = OracleCase.vector(oc.at("per_sample", s, "layers", l - 1, "a_prev"));
            double[] aug = java.util.Arrays.copyOf(a, a.length + 1);
            aug[a.length] = 1.0;
            return aug;
        }

        private double[] q(int s, int l) {
            return OracleCase.flat(oc.at("per_sample", s, "layers", l - 1, ggn ? "Q_ggn" : "Q_exact"));
        }

        /** λ_max of the class mean of (ã ãᵀ) ⊗ Q_s. */
        double meanBlockLambdaMax(List<Integer> members, int l) {
            int n = net.layer(l).fanOut();
            double[] mean = null;
            for (int s : members) {
                double[] h = ThetaBlocks.thetaBlock(augmented(s, l), q(s, l), n);
                if (mean == null) {
                    mean = new double[h.length];
                }
                for (int i = 0; i < h.length; i++) {
                    mean[i] += h[i] / members.size();
                }
            }
            return eigen.largestEigenvalue(mean, 0, (int) Math.round(Math.sqrt(mean.length)));
        }

        /** sign · λ_max(sign · A_c): the largest (sign 1) or minus the smallest (sign -1) eigenvalue. */
        double lambdaMaxA(List<Integer> members, int l, int sign) {
            int m1 = net.layer(l).fanIn() + 1;
            double[] mean = new double[m1 * m1];
            for (int s : members) {
                double[] a = augmented(s, l);
                for (int i = 0; i < m1; i++) {
                    for (int j = 0; j < m1; j++) {
                        mean[i * m1 + j] += sign * a[i] * a[j] / members.size();
                    }
                }
            }
            return eigen.largestEigenvalue(mean, 0, m1);
        }

        double lambdaMaxG(List<Integer> members, int l, int sign) {
            int n = net.layer(l).fanOut();
            double[] mean = new double[n * n];
            for (int s : members) {
                double[] q = q(s, l);
                for (int i = 0; i < q.length; i++) {
                    mean[i] += sign * q[i] / members.size();
                }
            }
            return eigen.largestEigenvalue(mean, 0, n);
        }
    }
}
