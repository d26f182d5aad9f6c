package io.hessianatlas.common.hessian;

import static io.hessianatlas.common.testing.Tolerance.assertEigenvalues;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.nd4j.ThetaIndex;
import io.hessianatlas.common.spectra.DenseSymmetricSpectrum;
import io.hessianatlas.common.testing.OracleCase;
import io.hessianatlas.common.testing.OracleSums;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix-free products on every oracle case in both modes, by applying them to identity blocks:
 * per layer they must rebuild the dense mean θ-block of the accumulator (itself checked against
 * autograd), and over the whole network (all layers and cross-layer blocks) their matrix must
 * have the autograd eigenvalues {@code dataset_mean.full.eig_GGN_all} / {@code eig_H_all}.
 */
class CurvatureProductsTest {
    /** Products vs the accumulated dense block: the same float64 sums in another order. */
    private static final double PRODUCT_TOLERANCE = 1e-12;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    static List<Arguments> cases() {
        return OracleCase.inBothModes();
    }

    @Test
    void thetaIndexLayoutsAgree() {
        // a layer W (3 x 2): [W b] entry M[i][j] = 10 i + j, the bias in column 2
        ThetaIndex theta = ThetaIndex.forLayer(3, 2);
        INDArray m = Nd4j.create(DataType.DOUBLE, 3, 3);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                m.putScalar(i, j, 10 * i + j);
            }
        }
        double[] vec = theta.vec(m);
        assertEquals(9, vec.length);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
                assertEquals(10 * i + j, vec[theta.weight(i, j)], "W[" + i + "][" + j + "] at j n + i");
                assertEquals(j * 3 + i, theta.weight(i, j));
            }
            assertEquals(10 * i + 2, vec[theta.bias(i)], "b[" + i + "] after vec W");
            assertEquals(6 + i, theta.bias(i));
        }
        // θ columns <-> stacked [W b] matrices, and ã ⊗ δ = θ of δ ãᵀ
        INDArray columns = Nd4j.create(vec, new long[] {9, 1}, 'c');
        assertEquals(m, theta.matrices(columns, 0));
        assertEquals(columns, theta.thetaColumns(theta.matrices(columns, 0)));
        INDArray aug = Nd4j.create(new double[] {2, -1, 1}, new long[] {3, 1}, 'c');
        INDArray delta = Nd4j.create(new double[] {1, 3, -2}, new long[] {3, 1}, 'c');
        assertArrayEquals(theta.vec(delta.mmul(aug.transpose())),
                theta.outerProductColumns(aug, delta).dup('c').data().asDouble(), 0.0);
    }

    private static ThetaIndex theta(Network net, int l) {
        return ThetaIndex.forLayer(net.layer(l).fanOut(), net.layer(l).fanIn());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void layerProductsRebuildTheDenseBlock(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        boolean exact = mode == CurvatureMode.HESSIAN;
        CurvatureSums sums = OracleSums.accumulate(oc, CurvaturePlan.of(net, mode, null, Long.MAX_VALUE, false, false), 4);
        BatchForward fw = BatchForward.compute(net, oc.inputs(), oc.targets(), 1, exact);
        int n = oc.sampleCount();
        for (int l = 1; l <= net.depth(); l++) {
            ThetaIndex theta = theta(net, l);
            int d = theta.denseDimension();
            INDArray[] dirs = new INDArray[net.depth() + 1];
            boolean[] outs = new boolean[net.depth() + 1];
            dirs[l] = CurvatureProducts.directionBlock(Nd4j.eye(d).castTo(DataType.DOUBLE), 0, theta);
            outs[l] = true;
            INDArray h = CurvatureProducts.thetaColumns(CurvatureProducts.apply(fw, dirs, outs, d, exact)[l], theta).divi(n);
            double[] ref = sums.layer(l).meanH();
            double scale = 0;
            for (double v : ref) {
                scale = Math.max(scale, Math.abs(v));
            }
            double[] mine = h.dup('c').data().asDouble();
            for (int k = 0; k < ref.length; k++) {
                assertTrue(Math.abs(mine[k] - ref[k]) <= PRODUCT_TOLERANCE * scale,
                        caseName + " " + mode + " layer " + l + " entry " + k + ": " + mine[k] + " vs " + ref[k]);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void wholeNetworkProductsHaveTheAutogradSpectrum(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        boolean exact = mode == CurvatureMode.HESSIAN;
        BatchForward fw = BatchForward.compute(net, oc.inputs(), oc.targets(), 1, exact);
        int p = (int) net.parameterCount();
        INDArray eye = Nd4j.eye(p).castTo(DataType.DOUBLE);
        INDArray[] dirs = new INDArray[net.depth() + 1];
        boolean[] outs = new boolean[net.depth() + 1];
        long offset = 0;
        // the network's θ = [θ^1; ...; θ^L]
        for (int l = 1; l <= net.depth(); l++) {
            dirs[l] = CurvatureProducts.directionBlock(eye, offset, theta(net, l));
            outs[l] = true;
            offset += theta(net, l).dimension();
        }
        INDArray[] blocks = CurvatureProducts.apply(fw, dirs, outs, p, exact);
        INDArray full = Nd4j.create(DataType.DOUBLE, p, p);
        offset = 0;
        for (int l = 1; l <= net.depth(); l++) {
            INDArray rows = CurvatureProducts.thetaColumns(blocks[l], theta(net, l));
            full.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + theta(net, l).dimension()),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(rows);
            offset += theta(net, l).dimension();
        }
        full.divi(oc.sampleCount());
        double asym = full.sub(full.transpose()).amaxNumber().doubleValue() / full.amaxNumber().doubleValue();
        assertTrue(asym < 1e-12, caseName + " " + mode + ": the product matrix is symmetric (" + asym + ")");
        double[] ref = OracleCase.vector(oc.at("dataset_mean", "full", exact ? "eig_H_all" : "eig_GGN_all"));
        assertEigenvalues(caseName + " " + mode + " full-network eigenvalues", ref, DenseSymmetricSpectrum.eigenvalues(full));
    }
}
