package io.hessianatlas.common.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.SampleScores;
import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.testing.OracleCase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Merge-order invariance: any split of the samples into batches and partitions, merged in any
 * order, gives the same sums to 1e-12 relative (case c02_softmax_tanh_6-8-8-4, 12 samples, with
 * dense blocks and the empirical Fisher on every layer).
 */
class AccumulatorMergeTest {
    /** Sums of the same float64 terms in another order differ by a few ulps per term. */
    private static final double MERGE_TOLERANCE = 1e-12;
    private static final String CASE = "c02_softmax_tanh_6-8-8-4";

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    private static CurvatureSums accumulate(Network net, CurvaturePlan plan, INDArray x, INDArray y, int from, int to) {
        CurvatureAccumulator acc = new CurvatureAccumulator(net, plan);
        if (to > from) {
            INDArray xs = x.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to)).dup();
            INDArray ys = y.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to)).dup();
            BatchCurvature batch = BatchCurvature.compute(net, xs, ys, plan.mode(), plan.lowestLayer());
            acc.add(batch, SampleScores.compute(batch, plan.layers(), false, new SymmetricEigen(8)), null);
        }
        return acc.toSums();
    }

    @ParameterizedTest
    @EnumSource(CurvatureMode.class)
    void anySplitGivesTheSameSums(CurvatureMode mode) {
        OracleCase oc = OracleCase.load(CASE);
        Network net = oc.network();
        CurvaturePlan plan = CurvaturePlan.of(net, mode, null, Long.MAX_VALUE, false, true);
        INDArray x = oc.inputs();
        INDArray y = oc.targets();
        int n = oc.sampleCount();
        CurvatureSums whole = accumulate(net, plan, x, y, 0, n);

        Random rnd = new Random(7);
        for (int trial = 0; trial < 5; trial++) {
            // random cut points, including empty pieces; merged in reverse or shuffled order
            int cuts = 1 + rnd.nextInt(5);
            int[] points = rnd.ints(cuts, 0, n + 1).sorted().toArray();
            java.util.List<CurvatureSums> parts = new java.util.ArrayList<>();
            int prev = 0;
            for (int c : points) {
                parts.add(accumulate(net, plan, x, y, prev, c));
                prev = c;
            }
            parts.add(accumulate(net, plan, x, y, prev, n));
            java.util.Collections.shuffle(parts, rnd);
            CurvatureSums merged = CurvatureSums.empty(net, plan);
            for (CurvatureSums p : parts) {
                merged.mergeInPlace(p);
            }
            assertEquals(whole.count(), merged.count());
            for (int l = 1; l <= net.depth(); l++) {
                LayerCurvatureSums a = whole.layer(l);
                LayerCurvatureSums b = merged.layer(l);
                assertArrayClose("A layer " + l, a.meanA(), b.meanA());
                assertArrayClose("G layer " + l, a.meanG(), b.meanG());
                assertArrayClose("H layer " + l, a.meanH(), b.meanH());
                assertArrayClose("F layer " + l, a.meanF(), b.meanF());
                assertArrayClose("gradient layer " + l, a.meanGradient(), b.meanGradient());
                assertArrayClose("trace layer " + l, new double[] {a.meanTrace()}, new double[] {b.meanTrace()});
            }
            assertArrayClose("mean loss", new double[] {whole.meanLoss()}, new double[] {merged.meanLoss()});
        }
    }

    @Test
    void mergingDifferentLayersIsRejected() {
        OracleCase oc = OracleCase.load(CASE);
        Network net = oc.network();
        CurvaturePlan dense = CurvaturePlan.of(net, CurvatureMode.GGN, new int[] {1}, Long.MAX_VALUE, false, false);
        CurvaturePlan kron = CurvaturePlan.of(net, CurvatureMode.GGN, new int[] {1}, 0, false, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CurvatureSums.empty(net, dense).mergeInPlace(CurvatureSums.empty(net, kron)));
        assertTrue(e.getMessage().contains("dense=false") && e.getMessage().contains("dense=true"), e.getMessage());
    }

    private static void assertArrayClose(String what, double[] expected, double[] actual) {
        double scale = 0;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int k = 0; k < expected.length; k++) {
            assertTrue(Math.abs(expected[k] - actual[k]) <= MERGE_TOLERANCE * scale,
                    what + "[" + k + "]: " + actual[k] + " vs " + expected[k]);
        }
    }
}
