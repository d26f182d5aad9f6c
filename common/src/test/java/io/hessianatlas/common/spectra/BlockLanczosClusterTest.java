package io.hessianatlas.common.spectra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.hessianatlas.common.nd4j.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Issue 14: a clustered top-k (λ1/λk ≈ 1.7, λ2…λk within 3%, the rest just below) as in layer 1 of
 * the standard-normal workload. A start block from an approximate top eigenspace (standing in for
 * KFAC's A⊗G eigenvectors) and a block wider than k each need fewer steps than today's random start
 * of width k, and every variant's eigenvalues equal LAPACK's dense ones to 1e-8 of λ_max.
 */
class BlockLanczosClusterTest {
    /** Issue 4: Lanczos eigenvalues equal the dense ones to 1e-8 relative (to max|λ|). */
    private static final double EIGENVALUE_TOLERANCE = 1e-8;
    private static final int D = 400;
    private static final int K = 20;
    /** The guess: the true top-k eigenvectors plus this much Gaussian noise per entry (relative to 1/√d). */
    private static final double GUESS_NOISE = 0.5;
    /** Ritz vectors orthonormal to |YᵀY − I| ≤ 1e-10 entrywise. */
    private static final double ORTHONORMALITY = 1e-10;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    private static double[] clusteredSpectrum() {
        double[] lambda = new double[D];
        lambda[0] = 1.7;
        for (int i = 1; i < K; i++) {
            lambda[i] = 1.03 - 0.03 * i / (K - 1);
        }
        for (int i = K; i < D; i++) {
            lambda[i] = 0.99 * Math.pow(0.99, i - K);
        }
        return lambda;
    }

    private record Case(double[] m, double[] ref, double[] vectors) {
    }

    private static Case clustered() {
        double[] m = BlockLanczosTest.withSpectrum(clusteredSpectrum(), 5);
        DenseSymmetricSpectrum dense = DenseSymmetricSpectrum.of(m, D, true);
        double[] ref = new double[D];
        for (int i = 0; i < D; i++) {
            ref[i] = dense.eigenvalue(i);
        }
        return new Case(m, ref, dense.eigenvectors());
    }

    /** The top-k eigenvectors (columns) with Gaussian noise, {@code (d x k)}. */
    private static INDArray guess(Case c) {
        Random r = new Random(3);
        double[] g = new double[D * K];
        for (int t = 0; t < D; t++) {
            for (int col = 0; col < K; col++) {
                g[t * K + col] = c.vectors[t * D + col] + GUESS_NOISE / Math.sqrt(D) * r.nextGaussian();
            }
        }
        return Nd4j.create(g, new long[] {D, K}, 'c');
    }

    private static BlockLanczos.Result solve(String what, Case c, int block, INDArray start) {
        DenseOperator op = new DenseOperator(c.m, D);
        BlockLanczos.Result res = BlockLanczos.solve(op, K, false, block, 200, 1e-10, true, 11, start,
                BlockLanczos.Progress.NONE);
        assertTrue(res.converged(), what + ": converged after " + res.steps() + " steps");
        assertEquals(res.steps(), op.calls(), what + ": one operator call per step");
        double[] top = res.topValues();
        for (int i = 0; i < K; i++) {
            assertEquals(c.ref[i], top[i], EIGENVALUE_TOLERANCE * c.ref[0], what + " top " + (i + 1));
        }
        // a clustered top-k takes many steps: the basis must stay orthonormal all the way (no ghost copies)
        double[] gram = res.topVectors().transpose().mmul(res.topVectors()).dup('c').data().asDouble();
        for (int i = 0; i < K; i++) {
            for (int j = 0; j < K; j++) {
                assertEquals(i == j ? 1.0 : 0.0, gram[i * K + j], ORTHONORMALITY, what + " Ritz vectors " + i + "·" + j);
            }
        }
        return res;
    }

    @Test
    void warmStartAndWiderBlockCutTheSteps() {
        Case c = clustered();
        BlockLanczos.Result random = solve("random start, block k", c, K, null);
        BlockLanczos.Result warm = solve("warm start, block k", c, K, guess(c));
        BlockLanczos.Result wide = solve("random start, block 2k", c, 2 * K, null);
        BlockLanczos.Result warmWide = solve("warm start + random, block 2k", c, 2 * K, guess(c));
        assertTrue(warm.steps() < random.steps(), "warm start: " + warm.steps() + " steps vs " + random.steps());
        assertTrue(wide.steps() < random.steps(), "block 2k: " + wide.steps() + " steps vs " + random.steps());
        assertTrue(warmWide.steps() <= wide.steps(), "warm start, block 2k: " + warmWide.steps() + " steps vs "
                + wide.steps());
        System.out.printf("clustered top-%d, d = %d: steps random %d, warm %d, block 2k %d, warm + block 2k %d%n",
                K, D, random.steps(), warm.steps(), wide.steps(), warmWide.steps());
    }

    @Test
    void aStartOrthogonalToTheTopStillFindsIt() {
        // the random part of a start block keeps directions the guess misses: a noisy guess of the
        // eigenvectors 21..40 (none of the wanted ones) in a block of 2k still converges to the top-k.
        // (A guess that is an invariant subspace to within the tolerance would stop the iteration at
        // once with its eigenvalues, as would such a random start: the stopping rule sees residuals only.)
        Case c = clustered();
        Random r = new Random(4);
        double[] g = new double[D * K];
        for (int t = 0; t < D; t++) {
            for (int col = 0; col < K; col++) {
                g[t * K + col] = c.vectors[t * D + K + col] + GUESS_NOISE / Math.sqrt(D) * r.nextGaussian();
            }
        }
        solve("orthogonal guess, block 2k", c, 2 * K, Nd4j.create(g, new long[] {D, K}, 'c'));
    }
}
