package io.hessianatlas.common.aggregate;

import static io.hessianatlas.common.testing.Tolerance.assertEigenvalues;
import static io.hessianatlas.common.testing.Tolerance.assertEntries;
import static io.hessianatlas.common.testing.Tolerance.assertScalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.nd4j.ThetaIndex;
import io.hessianatlas.common.spectra.LayerCurvatureReport;
import io.hessianatlas.common.testing.OracleCase;
import io.hessianatlas.common.testing.OracleSums;
import io.hessianatlas.common.testing.ThetaBlocks;
import io.hessianatlas.common.testing.Tolerance;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Dataset means of every oracle case in both modes, accumulated over batches of 4 samples and
 * reported by {@link LayerCurvatureReport}: the θ-block H (entries of its W, Wb and b blocks, all
 * eigenvalues, trace, Frobenius norm), A = A_aug and its eigenvalues, G (G / G_exact), the
 * eigenvalues of A⊗G, the KFAC error, the empirical Fisher F_layer, and the mean loss.
 */
class OracleDatasetMeanTest {
    private static final int BATCH = 4;
    /** Scale of the tolerance rule for the KFAC relative error (a ratio of norms). */
    private static final double KFAC_ERROR_SCALE = 1.0;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    static List<Arguments> cases() {
        return OracleCase.inBothModes();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void datasetMeansMatchAutograd(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        CurvaturePlan plan = CurvaturePlan.of(net, mode, null, Long.MAX_VALUE, false, true);
        CurvatureSums sums = OracleSums.accumulate(oc, plan, BATCH);
        assertEquals(oc.sampleCount(), sums.count());
        assertScalar(caseName + " loss_mean", oc.at("loss_mean").asDouble(), sums.meanLoss());

        boolean ggn = mode == CurvatureMode.GGN;
        String block = ggn ? "GGN_" : "H_";
        for (int l = 1; l <= net.depth(); l++) {
            int li = l - 1;
            ThetaIndex index = ThetaIndex.forLayer(net.layer(l).fanOut(), net.layer(l).fanIn());
            int d = index.denseDimension();
            LayerCurvatureReport r = LayerCurvatureReport.of(net.layer(l), sums.layer(l), mode, d);
            String at = caseName + " " + mode + " layer " + l + " ";
            double[] h = r.meanH();
            assertEntries(at + block + "W_mean", OracleCase.flat(oc.at("dataset_mean", "layers", li, block + "W_mean")),
                    ThetaBlocks.weightBlock(h, index));
            assertEntries(at + block + "Wb_mean", OracleCase.flat(oc.at("dataset_mean", "layers", li, block + "Wb_mean")),
                    ThetaBlocks.weightBiasBlock(h, index));
            assertEntries(at + block + "b_mean", OracleCase.flat(oc.at("dataset_mean", "layers", li, block + "b_mean")),
                    ThetaBlocks.biasBlock(h, index));

            String theta = ggn ? "GGN_layer" : "H_layer";
            assertEigenvalues(at + theta + ".eigenvalues",
                    OracleCase.vector(oc.at("dataset_mean", "layers", li, theta, "eigenvalues")), r.eigenvaluesH());
            assertScalar(at + theta + ".trace", oc.at("dataset_mean", "layers", li, theta, "trace").asDouble(), r.trace());
            assertScalar(at + theta + ".fro", oc.at("dataset_mean", "layers", li, theta, "fro").asDouble(), r.frobenius());
            assertScalar(at + "lambda_max", OracleCase.vector(oc.at("dataset_mean", "layers", li, theta, "eigenvalues"))[0],
                    r.lambdaMax());

            assertEntries(at + "A_aug", OracleCase.flat(oc.at("kfac", li, "A_aug")), r.meanA());
            assertEigenvalues(at + "eig_A_aug", OracleCase.vector(oc.at("kfac", li, "eig_A_aug")), r.eigenvaluesA());
            assertEntries(at + (ggn ? "G" : "G_exact"), OracleCase.flat(oc.at("kfac", li, ggn ? "G" : "G_exact")), r.meanG());
            if (ggn) {
                assertEigenvalues(at + "eig_G", OracleCase.vector(oc.at("kfac", li, "eig_G")), r.eigenvaluesG());
            }
            double[] refKron = OracleCase.vector(oc.at("kfac", li, ggn ? "eig_kron_Aaug_G" : "eig_kron_Aaug_Gexact"));
            assertEigenvalues(at + "eig_kron_Aaug_G", refKron, r.kroneckerEigenvalues());
            // a ratio ||H - A⊗G|| / ||H||: its rounding is relative to ||H||, i.e. scale 1 for the ratio
            // (exact-zero cases, mse last layers, have reference noise of ~1e-16)
            Tolerance.assertClose(at + "KFAC error",
                    new double[] {oc.at("kfac", li, ggn ? "rel_fro_error_aug" : "rel_fro_error_aug_hessian").asDouble()},
                    new double[] {r.kfacRelativeError()}, KFAC_ERROR_SCALE);
            assertTrue(r.kfacOverlap() >= 0 && r.kfacOverlap() <= 1, at + "overlap in [0, 1]: " + r.kfacOverlap());

            assertEigenvalues(at + "F_layer.eigenvalues",
                    OracleCase.vector(oc.at("dataset_mean", "layers", li, "F_layer", "eigenvalues")), r.eigenvaluesF());
            assertScalar(at + "F_layer.trace", oc.at("dataset_mean", "layers", li, "F_layer", "trace").asDouble(),
                    trace(r.meanF(), d));
        }
    }

    private static double trace(double[] m, int d) {
        double t = 0;
        for (int i = 0; i < d; i++) {
            t += m[i * d + i];
        }
        return t;
    }
}
