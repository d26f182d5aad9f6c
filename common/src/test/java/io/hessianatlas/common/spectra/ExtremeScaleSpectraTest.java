package io.hessianatlas.common.spectra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hessianatlas.common.nd4j.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The matrix-free eigensolvers on operators of extreme scale (issue 5, numerics): a nearly dead
 * layer's GGN block can be 1e-218 (a sigmoid saturated at −250: f' ≈ 1e-109, squared), where sums
 * of squares of Krylov vectors underflow. Block Lanczos (top-3 and bottom-3 of an indefinite
 * d = 30 matrix scaled by s) matches LAPACK to 1e-8·max|λ| for s from 1e-280 to 1e280, SLQ's nodes
 * scale with s, and every density (also of an operator of subnormal scale, whose node range
 * underflows the Gaussian's width) is finite and integrates to 1.
 */
class ExtremeScaleSpectraTest {
    private static final int D = 30;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    private static double[] lambda(double scale) {
        double[] l = new double[D];
        for (int i = 0; i < D; i++) {
            l[i] = scale * (i < 20 ? 2.0 * Math.exp(-0.3 * i) : -0.7 * Math.exp(-0.4 * (i - 20)));
        }
        return l;
    }

    @ParameterizedTest
    @ValueSource(doubles = {1e-280, 1e-218, 1e-150, 1.0, 1e150, 1e280})
    void lanczosAndQuadratureAreScaleInvariant(double scale) {
        double[] m = BlockLanczosTest.withSpectrum(lambda(scale), 3);
        double[] ref = DenseSymmetricSpectrum.eigenvalues(m, D);
        double max = Math.max(Math.abs(ref[0]), Math.abs(ref[D - 1]));
        BlockLanczos.Result res = BlockLanczos.solve(new DenseOperator(m, D), 3, true, 3, 30, 1e-10, true, 7);
        assertTrue(res.converged(), "scale " + scale + ": converged");
        for (int i = 0; i < 3; i++) {
            assertEquals(ref[i], res.topValues()[i], 1e-8 * max, "scale " + scale + ": top " + (i + 1));
            assertEquals(ref[D - 1 - i], res.bottomValues()[i], 1e-8 * max, "scale " + scale + ": bottom " + (i + 1));
            assertTrue(res.topResiduals()[i] <= 1e-9 * max, "scale " + scale + ": residual " + res.topResiduals()[i]);
        }
        StochasticLanczosQuadrature.Quadrature q = StochasticLanczosQuadrature.run(new DenseOperator(m, D), 4, D, 5);
        // with d steps the Krylov space is exhausted: the extreme nodes are the extreme eigenvalues
        assertEquals(ref[0], q.maxNode(), 1e-8 * max, "scale " + scale + ": largest node");
        assertEquals(ref[D - 1], q.minNode(), 1e-8 * max, "scale " + scale + ": smallest node");
        assertDensity("scale " + scale, q);
    }

    @Test
    void densityOfAnOperatorOfSubnormalScaleIsFinite() {
        double[] m = new double[D * D];
        for (int i = 0; i < D; i++) {
            m[i * D + i] = 1e-310 * (1 + i % 3);
        }
        StochasticLanczosQuadrature.Quadrature q = StochasticLanczosQuadrature.run(new DenseOperator(m, D), 4, 6, 5);
        // the Krylov space (3 distinct eigenvalues) is exhausted: the nodes are 1e-310, 2e-310, 3e-310, whose
        // range gives a Gaussian width of 2e-312 and a peak of 1/(2e-312·√(2π)) = ∞ without the guard
        assertEquals(3e-310, q.maxNode(), 1e-312, "largest node");
        assertEquals(1e-310, q.minNode(), 1e-312, "smallest node");
        assertDensity("subnormal", q);
        // and of the zero operator: a point mass at 0
        StochasticLanczosQuadrature.Quadrature zero = StochasticLanczosQuadrature.run(
                new DenseOperator(new double[D * D], D), 4, 6, 5);
        assertEquals(0.0, zero.maxNode());
        assertDensity("zero", zero);
    }

    private static void assertDensity(String what, StochasticLanczosQuadrature.Quadrature q) {
        double[][] dens = q.density(400, 0.01);
        double integral = 0;
        for (int g = 0; g < dens[0].length; g++) {
            assertTrue(Double.isFinite(dens[0][g]) && Double.isFinite(dens[1][g]),
                    what + ": density point " + g + " (" + dens[0][g] + ", " + dens[1][g] + ")");
            if (g > 0) {
                assertTrue(dens[0][g] > dens[0][g - 1], what + ": grid increases at " + g);
                integral += 0.5 * (dens[0][g] - dens[0][g - 1]) * (dens[1][g] + dens[1][g - 1]);
            }
        }
        assertEquals(1.0, integral, 1e-4, what + ": ∫ρ");
    }
}
