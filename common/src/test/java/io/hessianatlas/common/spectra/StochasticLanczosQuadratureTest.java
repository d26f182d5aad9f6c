package io.hessianatlas.common.spectra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hessianatlas.common.nd4j.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Spectral density by SLQ on a dense matrix with a known spectrum (d = 400, indefinite): the
 * broadened density integrates to 1 on its grid, and its first two moments match tr(H)/d and
 * ||H||_F²/d + σ² within the stochastic error of P Rademacher probes (4 standard deviations of
 * the Hutchinson estimator: Var(vᵀAv) = 2(||A||_F² − Σ A_ii²)/d² for a normalised probe).
 */
class StochasticLanczosQuadratureTest {
    private static final int D = 400;
    private static final int PROBES = 16;
    private static final int STEPS = 40;
    private static final double RELATIVE_WIDTH = 0.01;
    /** The trapezoid rule on 2000 points of a sum of Gaussians of width ≥ 10 grid steps. */
    private static final double INTEGRAL_TOLERANCE = 1e-6;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    @Test
    void densityIntegratesToOneAndMatchesTheMoments() {
        double[] lambda = new double[D];
        for (int i = 0; i < D; i++) {
            lambda[i] = i < 300 ? 3.0 * Math.exp(-0.02 * i) : -0.5 * Math.exp(-0.05 * (i - 300));
        }
        double[] h = BlockLanczosTest.withSpectrum(lambda, 9);
        DenseOperator op = new DenseOperator(h, D);
        StochasticLanczosQuadrature.Quadrature q = StochasticLanczosQuadrature.run(op, PROBES, STEPS, 5);
        assertEquals(STEPS, q.passes(), "one pass per Lanczos step for all probes");
        assertEquals(STEPS, op.calls());
        for (int p = 0; p < PROBES; p++) {
            double s = 0;
            for (double w : q.weights(p)) {
                s += w;
            }
            assertEquals(1.0, s, 1e-12, "weights of probe " + p + " sum to 1");
        }

        double[][] dens = q.density(2000, RELATIVE_WIDTH);
        double[] x = dens[0];
        double[] rho = dens[1];
        double integral = 0;
        double m1 = 0;
        double m2 = 0;
        for (int g = 1; g < x.length; g++) {
            double dx = x[g] - x[g - 1];
            integral += 0.5 * dx * (rho[g] + rho[g - 1]);
            m1 += 0.5 * dx * (x[g] * rho[g] + x[g - 1] * rho[g - 1]);
            m2 += 0.5 * dx * (x[g] * x[g] * rho[g] + x[g - 1] * x[g - 1] * rho[g - 1]);
        }
        assertEquals(1.0, integral, INTEGRAL_TOLERANCE, "∫ρ over the grid");

        double trace = 0;
        double fro2 = 0;
        double diag2 = 0;
        for (double l : lambda) {
            trace += l;
            fro2 += l * l;
        }
        for (int i = 0; i < D; i++) {
            diag2 += h[i * D + i] * h[i * D + i];
        }
        double sd1 = Math.sqrt(2 * (fro2 - diag2)) / D / Math.sqrt(PROBES);
        assertTrue(Math.abs(m1 - trace / D) <= 4 * sd1, "first moment " + m1 + " vs tr/d " + trace / D + " (sd " + sd1 + ")");

        // H² has Frobenius norm sqrt(Σλ⁴); its off-diagonal part bounds the estimator's spread
        double fro4 = 0;
        for (double l : lambda) {
            fro4 += l * l * l * l;
        }
        double sigma = RELATIVE_WIDTH * (q.maxNode() - q.minNode());
        double sd2 = Math.sqrt(2 * fro4) / D / Math.sqrt(PROBES);
        assertTrue(Math.abs(m2 - (fro2 / D + sigma * sigma)) <= 4 * sd2,
                "second moment " + m2 + " vs ||H||²/d + σ² " + (fro2 / D + sigma * sigma) + " (sd " + sd2 + ")");

        // the extreme Ritz values converge to the extreme eigenvalues
        assertEquals(3.0, q.maxNode(), 1e-6, "largest node");
        assertEquals(-0.5, q.minNode(), 1e-6, "smallest node");
    }
}
