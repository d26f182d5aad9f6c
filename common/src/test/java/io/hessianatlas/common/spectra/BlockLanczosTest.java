package io.hessianatlas.common.spectra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.hessianatlas.common.nd4j.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Block Lanczos against LAPACK's dense eigenvalues (the reference) on matrices with known
 * structure: PSD with a decaying spectrum, indefinite (top-k and bottom-k), repeated eigenvalues,
 * rank-deficient, and dimensions small enough for the Krylov space to be exhausted.
 */
class BlockLanczosTest {
    /** Issue 4: Lanczos eigenvalues equal the dense ones to 1e-8 relative (to max|λ|). */
    private static final double EIGENVALUE_TOLERANCE = 1e-8;
    /**
     * Ritz vectors orthonormal to |YᵀY − I| ≤ 1e-10 entrywise: the reorthogonalisation (one Gram-Schmidt
     * round, a second only when the first removed most of a column) keeps the basis orthonormal.
     */
    private static final double ORTHONORMALITY = 1e-10;
    /** Reported ‖Hy − θy‖ (from the projected problem) against the residual recomputed with H, relative to max|λ|. */
    private static final double RESIDUAL_AGREEMENT = 1e-10;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    /** Q diag(λ) Qᵀ with a random orthogonal Q (from LAPACK's eigenvectors of a random symmetric matrix). */
    static double[] withSpectrum(double[] lambda, long seed) {
        int d = lambda.length;
        Random r = new Random(seed);
        double[] g = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                g[i * d + j] = g[j * d + i] = r.nextGaussian();
            }
        }
        double[] q = DenseSymmetricSpectrum.of(g, d, true).eigenvectors();
        double[] m = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    s += q[i * d + c] * lambda[c] * q[j * d + c];
                }
                m[i * d + j] = s;
            }
        }
        return m;
    }

    private static void assertTopAndBottom(String what, double[] m, int d, int k, int block, boolean bottom) {
        assertTopAndBottom(what, m, d, k, block, bottom, BlockLanczos.UNBOUNDED_BASIS);
    }

    private static BlockLanczos.Result assertTopAndBottom(String what, double[] m, int d, int k, int block, boolean bottom,
                                                          int maxBasis) {
        double[] ref = DenseSymmetricSpectrum.eigenvalues(m, d);
        double scale = Math.max(Math.abs(ref[0]), Math.abs(ref[d - 1]));
        DenseOperator op = new DenseOperator(m, d);
        BlockLanczos.Result res = BlockLanczos.solve(op, k, bottom, block, 200, maxBasis, 1e-12, true, 11, null,
                BlockLanczos.Progress.NONE);
        assertTrue(res.converged(), what + ": converged after " + res.steps() + " steps");
        if (maxBasis != BlockLanczos.UNBOUNDED_BASIS) {
            assertTrue(res.krylovDimension() <= maxBasis, what + ": basis " + res.krylovDimension() + " within " + maxBasis);
        }
        assertEquals(res.steps(), op.calls(), "one operator call per step");
        double[] top = res.topValues();
        for (int i = 0; i < k; i++) {
            assertEquals(ref[i], top[i], EIGENVALUE_TOLERANCE * scale, what + " top " + (i + 1));
        }
        if (bottom) {
            double[] bot = res.bottomValues();
            for (int i = 0; i < k; i++) {
                assertEquals(ref[d - 1 - i], bot[i], EIGENVALUE_TOLERANCE * scale, what + " bottom " + (i + 1));
            }
        }
        // Ritz vectors: orthonormal, and H y = θ y to the reported residual
        INDArray y = res.topVectors();
        double[] gram = y.transpose().mmul(y).dup('c').data().asDouble();
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                assertEquals(i == j ? 1.0 : 0.0, gram[i * k + j], ORTHONORMALITY, what + " Ritz vectors " + i + "·" + j);
            }
        }
        INDArray hy = new DenseOperator(m, d).apply(y);
        for (int i = 0; i < k; i++) {
            double norm = y.getColumn(i).norm2Number().doubleValue();
            assertEquals(1.0, norm, 1e-10, what + " Ritz vector " + i + " norm");
            double r = hy.getColumn(i).sub(y.getColumn(i).mul(top[i])).norm2Number().doubleValue();
            assertTrue(r <= 1e-8 * scale, what + " residual of Ritz pair " + i + ": " + r);
            // the reported residual is the true one (the Lanczos relation holds, also after thick restarts)
            assertEquals(r, res.topResiduals()[i], RESIDUAL_AGREEMENT * scale, what + " reported residual of Ritz pair " + i);
        }
        return res;
    }

    /**
     * Thick restarts in a basis bounded to a few blocks: the same eigenvalues (against LAPACK), orthonormal Ritz
     * vectors and true residuals as the unbounded basis, with at least one restart.
     */
    @ParameterizedTest(name = "{0}: k={1} block={2} maxBasis={3}")
    @CsvSource({"psd, 10, 10, 30", "psd, 10, 5, 40", "indefinite, 8, 8, 40", "indefinite, 8, 4, 48", "repeated, 8, 8, 24"})
    void restartedInABoundedBasis(String kind, int k, int block, int maxBasis) {
        int d = kind.equals("repeated") ? 120 : 300;
        double[] lambda = new double[d];
        for (int i = 0; i < d; i++) {
            lambda[i] = switch (kind) {
                case "psd" -> Math.exp(-0.05 * i) + (i % 7 == 0 ? 0.5 : 0.0);
                case "indefinite" -> (i < 180 ? 1.0 : -0.6) * Math.exp(-0.03 * (i % 180)) * (1 + 0.001 * i);
                default -> i < 6 ? 2.0 : i == 6 ? 1.5 : 0.9 * Math.exp(-0.02 * i);   // a 6-fold top, then a tail
            };
        }
        BlockLanczos.Result res = assertTopAndBottom(kind + " restarted", withSpectrum(lambda, 7), d, k, block,
                kind.equals("indefinite"), maxBasis);
        assertTrue(res.restarts() > 0, kind + ": restarted (" + res.restarts() + " restarts in " + res.steps() + " steps)");
    }

    @Test
    void basisTooSmallForTheWantedPairsIsRefused() {
        double[] lambda = new double[50];
        java.util.Arrays.fill(lambda, 1.0);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BlockLanczos.solve(new DenseOperator(withSpectrum(lambda, 1), 50), 5, false, 5, 10, 14, 1e-8, false,
                        1, null, BlockLanczos.Progress.NONE));
        assertTrue(e.getMessage().contains("at least 15"), e.getMessage());
    }

    @ParameterizedTest(name = "d={0} k={1} block={2}")
    @CsvSource({"300, 10, 10", "300, 5, 1", "300, 20, 8", "40, 6, 4", "7, 7, 3"})
    void psdDecayingSpectrum(int d, int k, int block) {
        double[] lambda = new double[d];
        for (int i = 0; i < d; i++) {
            lambda[i] = Math.exp(-0.05 * i) + (i % 7 == 0 ? 0.5 : 0.0);
        }
        assertTopAndBottom("PSD d=" + d, withSpectrum(lambda, d), d, k, block, false);
    }

    @Test
    void indefiniteTopAndBottom() {
        int d = 250;
        double[] lambda = new double[d];
        for (int i = 0; i < d; i++) {
            lambda[i] = (i < 150 ? 1.0 : -0.6) * Math.exp(-0.03 * (i % 150)) * (1 + 0.001 * i);
        }
        assertTopAndBottom("indefinite", withSpectrum(lambda, 3), d, 8, 8, true);
    }

    @Test
    void repeatedAndZeroEigenvalues() {
        int d = 120;
        double[] lambda = new double[d];
        for (int i = 0; i < 6; i++) {
            lambda[i] = 2.0;            // a 6-fold eigenvalue: needs the block or a restart to resolve
        }
        lambda[6] = 1.5;
        lambda[7] = 1.0;
        // the rest zero: rank 8
        assertTopAndBottom("repeated", withSpectrum(lambda, 5), d, 8, 8, false);
    }
}
