package io.hessianatlas.common.hessian;

import static io.hessianatlas.common.testing.Tolerance.assertClose;
import static io.hessianatlas.common.testing.Tolerance.assertEntries;
import static io.hessianatlas.common.testing.Tolerance.norm;

import java.util.List;

import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.nd4j.ThetaIndex;
import io.hessianatlas.common.testing.OracleCase;
import io.hessianatlas.common.testing.ThetaBlocks;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-sample quantities of every oracle case in both modes against the autograd reference:
 * Q^l of every sample and layer, per-sample gradients, dense blocks H_W, H_Wb, H_b of samples 0
 * and 1, and the per-sample scores (loss, gradient norm, trace, λ_max) of all samples.
 */
class OraclePerSampleTest {

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    static List<Arguments> cases() {
        return OracleCase.inBothModes();
    }

    private static String qField(CurvatureMode mode) {
        return mode == CurvatureMode.GGN ? "Q_ggn" : "Q_exact";
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void perSampleCurvatureMatchesAutograd(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        BatchCurvature batch = BatchCurvature.compute(net, oc.inputs(), oc.targets(), mode, 1);
        int n = oc.sampleCount();
        for (int l = 1; l <= net.depth(); l++) {
            int width = net.layer(l).fanOut();
            double[] q = batch.perSampleCurvature(l).data().asDouble();
            for (int s = 0; s < n; s++) {
                double[] ref = OracleCase.flat(oc.at("per_sample", s, "layers", l - 1, qField(mode)));
                double[] mine = new double[width * width];
                System.arraycopy(q, s * width * width, mine, 0, mine.length);
                assertEntries(caseName + " " + mode + " Q layer " + l + " sample " + s, ref, mine);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void perSampleGradientsMatchAutograd(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        BatchCurvature batch = BatchCurvature.compute(net, oc.inputs(), oc.targets(), mode, 1);
        for (int l = 1; l <= net.depth(); l++) {
            ThetaIndex theta = ThetaIndex.forLayer(net.layer(l).fanOut(), net.layer(l).fanIn());
            // column s = [vec(grad W); grad b] = ã_s ⊗ δ_s, the θ-gradient of sample s
            INDArray g = theta.outerProductColumns(batch.augmentedInput(l), batch.delta(l));
            for (int s = 0; s < oc.sampleCount(); s++) {
                double[] col = g.getColumn(s).dup().data().asDouble();
                double[] gw = java.util.Arrays.copyOfRange(col, theta.weightOffset(), theta.weightOffset() + theta.weightCount());
                double[] gb = java.util.Arrays.copyOfRange(col, theta.biasOffset(), theta.biasOffset() + theta.biasCount());
                assertEntries(caseName + " grad_W layer " + l + " sample " + s,
                        OracleCase.vector(oc.at("per_sample", s, "layers", l - 1, "grad_W_vec")), gw);
                assertEntries(caseName + " grad_b layer " + l + " sample " + s,
                        OracleCase.vector(oc.at("per_sample", s, "layers", l - 1, "grad_b")), gb);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void denseBlocksOfSamples0And1MatchAutograd(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        BatchCurvature batch = BatchCurvature.compute(net, oc.inputs(), oc.targets(), mode, 1);
        String prefix = mode == CurvatureMode.GGN ? "GGN_" : "H_";
        for (int l = 1; l <= net.depth(); l++) {
            ThetaIndex theta = ThetaIndex.forLayer(net.layer(l).fanOut(), net.layer(l).fanIn());
            int n = theta.fanOut();
            int m1 = theta.augmentedFanIn();
            double[] q = batch.perSampleCurvature(l).data().asDouble();
            double[] aug = batch.augmentedInput(l).transpose().dup('c').data().asDouble();
            for (int s = 0; s < 2; s++) {
                double[] qs = java.util.Arrays.copyOfRange(q, s * n * n, (s + 1) * n * n);
                double[] as = java.util.Arrays.copyOfRange(aug, s * m1, (s + 1) * m1);
                double[] h = ThetaBlocks.thetaBlock(as, qs, n);
                String at = caseName + " " + mode + " layer " + l + " sample " + s + " ";
                assertEntries(at + prefix + "W", OracleCase.flat(oc.at("per_sample", s, "layers", l - 1, prefix + "W")),
                        ThetaBlocks.weightBlock(h, theta));
                assertEntries(at + prefix + "Wb", OracleCase.flat(oc.at("per_sample", s, "layers", l - 1, prefix + "Wb")),
                        ThetaBlocks.weightBiasBlock(h, theta));
                assertEntries(at + prefix + "b", OracleCase.flat(oc.at("per_sample", s, "layers", l - 1, prefix + "b")),
                        ThetaBlocks.biasBlock(h, theta));
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void perSampleScoresMatchAutograd(String caseName, CurvatureMode mode) {
        OracleCase oc = OracleCase.load(caseName);
        Network net = oc.network();
        int n = oc.sampleCount();
        BatchCurvature batch = BatchCurvature.compute(net, oc.inputs(), oc.targets(), mode, 1);
        int[] layers = new int[net.depth()];
        for (int l = 1; l <= net.depth(); l++) {
            layers[l - 1] = l;
        }
        SampleScores scores = SampleScores.compute(batch, layers, true, new SymmetricEigen(64));
        double[] loss = new double[n];
        for (int s = 0; s < n; s++) {
            loss[s] = scores.loss(s);
        }
        assertEntries(caseName + " per-sample loss", OracleCase.vector(oc.at("per_sample_scores", "loss")), loss);
        String traceField = mode == CurvatureMode.GGN ? "ggn_trace_layer" : "exact_trace_layer";
        String lambdaField = mode == CurvatureMode.GGN ? "lambda_max_layer_GGN" : "lambda_max_layer_H";
        for (int li = 0; li < layers.length; li++) {
            double[] trace = new double[n];
            double[] lambda = new double[n];
            double[] grad = new double[n];
            for (int s = 0; s < n; s++) {
                trace[s] = scores.trace(li, s);
                lambda[s] = scores.lambdaMax(li, s);
                grad[s] = scores.gradNorm(li, s);
            }
            String at = caseName + " " + mode + " layer " + layers[li] + " ";
            assertEntries(at + traceField, OracleCase.vector(oc.at("per_sample_scores", traceField, li)), trace);
            double[] refLambda = OracleCase.vector(oc.at("per_sample_scores", lambdaField, li));
            // eigenvalue scale: max|λ| over the samples of this layer
            double scale = 0;
            for (double v : refLambda) {
                scale = Math.max(scale, Math.abs(v));
            }
            assertClose(at + lambdaField, refLambda, lambda, scale);
            assertEntries(at + "grad_norm_layer", OracleCase.vector(oc.at("per_sample_scores", "grad_norm_layer", li)), grad);
        }
        // the whole-network gradient norm is the root of the sum of the layers' squares
        double[] total = new double[n];
        for (int s = 0; s < n; s++) {
            double[] parts = new double[layers.length];
            for (int li = 0; li < layers.length; li++) {
                parts[li] = scores.gradNorm(li, s);
            }
            total[s] = norm(parts);
        }
        assertEntries(caseName + " grad_norm", OracleCase.vector(oc.at("per_sample_scores", "grad_norm")), total);
    }
}
