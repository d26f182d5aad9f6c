package io.hessianatlas.common.spectra;

import static io.hessianatlas.common.testing.LinalgTestSupport.kron;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomPsd;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomSymmetric;
import static io.hessianatlas.common.testing.LinalgTestSupport.scaled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.hessianatlas.common.testing.LinalgTestSupport;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KfacComparisonTest {

    /** Blockwise vs explicitly formed Frobenius quantities, relative. */
    static final double FROBENIUS_TOLERANCE = 1e-13;
    /** Overlap vs an explicit computation / vs 1 for exactly Kronecker H (eigenvector rounding / gap). */
    static final double OVERLAP_TOLERANCE = 1e-9;
    /** Minimum relative eigenvalue gap at position k required by the overlap tests. */
    static final double REQUIRED_RELATIVE_GAP = 1e-3;

    private static double[] sub(double[] x, double[] y) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i] - y[i];
        }
        return d;
    }

    private static double[] add(double[] x, double[] y, double s) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i] + s * y[i];
        }
        return d;
    }

    /** ||U^T V||_F^2 / k, formed naively. */
    private static double explicitOverlap(double[] u, double[] v, int dim, int k) {
        double ssq = 0;
        for (int c = 0; c < k; c++) {
            for (int c2 = 0; c2 < k; c2++) {
                double dot = 0;
                for (int t = 0; t < dim; t++) {
                    dot += u[t * k + c] * v[t * k + c2];
                }
                ssq += dot * dot;
            }
        }
        return ssq / k;
    }

    private static void assertGapAt(double[] descending, int k, String what) {
        double scale = LinalgTestSupport.maxAbs(descending);
        assertTrue(descending[k - 1] - descending[k] > REQUIRED_RELATIVE_GAP * scale,
                what + ": test precondition, eigenvalue gap at k = " + k);
    }

    @Test
    @DisplayName("relative Frobenius error (A 4 x 4, G 3 x 3, random H) = ||H - kron(A,G)||_F / ||H||_F formed explicitly")
    void relativeErrorMatchesExplicitDifference() {
        Random rnd = new Random(41);
        int m = 4;
        int n = 3;
        double[] a = randomPsd(m, 6, rnd);
        double[] g = randomSymmetric(n, rnd);
        double[] h = randomSymmetric(m * n, rnd);
        double[] diff = sub(h, kron(a, m, g, n));
        double expectedDiff = LinalgTestSupport.frobeniusNaive(diff);
        double expected = expectedDiff / LinalgTestSupport.frobeniusNaive(h);
        assertEquals(expected, KfacComparison.relativeFrobeniusError(h, m * n, a, m, g, n), FROBENIUS_TOLERANCE * expected);
        assertEquals(expectedDiff, KfacComparison.frobeniusDifference(h, m * n, a, m, g, n), FROBENIUS_TOLERANCE * expectedDiff);
    }

    @ParameterizedTest(name = "H = kron(A, G) exactly (indefinite G): error 0, top-{0} overlap 1")
    @ValueSource(ints = {1, 3, 6})
    void exactKroneckerGivesZeroErrorAndFullOverlap(int k) {
        Random rnd = new Random(42);
        int m = 5;
        int n = 4;
        double[] a = randomPsd(m, 9, rnd);
        double[] g = randomSymmetric(n, rnd);
        double[] h = kron(a, m, g, n);
        assertGapAt(DenseSymmetricSpectrum.eigenvalues(h, m * n), k, "kron");
        assertEquals(0.0, KfacComparison.relativeFrobeniusError(h, m * n, a, m, g, n), 0.0);
        double overlap = KfacComparison.topEigenspaceOverlap(h, m * n, a, m, g, n, k);
        assertEquals(1.0, overlap, OVERLAP_TOLERANCE);
        assertTrue(overlap <= 1.0);
        KfacComparison.Result r = KfacComparison.compare(h, m * n, a, m, g, n, k);
        assertEquals(0.0, r.relativeFrobeniusError());
        assertEquals(overlap, r.topKOverlap(), 0.0);
        assertEquals(k, r.k());
    }

    @Test
    @DisplayName("perturbed H = kron(A,G) + 0.3 kron(A2,G2): overlap in [0,1], < 1, equals the explicit ||V_H^T V_K||_F^2 / k")
    void overlapForPerturbedHMatchesExplicit() {
        Random rnd = new Random(43);
        int m = 4;
        int n = 4;
        int dim = m * n;
        int k = 4;
        double[] a = randomPsd(m, 6, rnd);
        double[] g = randomPsd(n, 6, rnd);
        double[] h = add(kron(a, m, g, n), kron(randomPsd(m, 6, rnd), m, randomPsd(n, 6, rnd), n), 0.3);
        double[] kExplicit = kron(a, m, g, n);
        DenseSymmetricSpectrum hs = DenseSymmetricSpectrum.of(h, dim, true);
        DenseSymmetricSpectrum ks = DenseSymmetricSpectrum.of(kExplicit, dim, true);
        assertGapAt(hs.eigenvalues(), k, "H");
        assertGapAt(ks.eigenvalues(), k, "kron");
        double expected = explicitOverlap(hs.topEigenvectors(k), ks.topEigenvectors(k), dim, k);

        KfacComparison.Result r = KfacComparison.compare(h, dim, a, m, g, n, k);
        assertEquals(expected, r.topKOverlap(), OVERLAP_TOLERANCE);
        assertTrue(r.topKOverlap() >= 0 && r.topKOverlap() < 1, "overlap " + r.topKOverlap());
        assertTrue(r.relativeFrobeniusError() > 0);
        double viaSpectra = KfacComparison.topEigenspaceOverlap(hs, KroneckerSpectrum.ofFactors(a, m, g, n, true), k);
        assertEquals(expected, viaSpectra, OVERLAP_TOLERANCE);
    }

    @Test
    @DisplayName("unrelated random H (A 3 x 3, G 5 x 5): overlap in [0,1] for every k")
    void overlapInUnitIntervalForUnrelatedH() {
        Random rnd = new Random(44);
        int m = 3;
        int n = 5;
        double[] a = randomPsd(m, 4, rnd);
        double[] g = randomSymmetric(n, rnd);
        double[] h = randomSymmetric(m * n, rnd);
        for (int k = 1; k <= m * n; k++) {
            double o = KfacComparison.topEigenspaceOverlap(h, m * n, a, m, g, n, k);
            assertTrue(o >= 0 && o <= 1, "k = " + k + ": overlap " + o);
        }
        // k = dim: both subspaces are the whole space
        assertEquals(1.0, KfacComparison.topEigenspaceOverlap(h, m * n, a, m, g, n, m * n), OVERLAP_TOLERANCE);
    }

    @Test
    @DisplayName("subspaceOverlap: identical -> 1, rotated within the span -> 1, orthogonal -> 0, half -> 0.5")
    void subspaceOverlapBasics() {
        int dim = 4;
        double[] e12 = {1, 0, 0, 1, 0, 0, 0, 0}; // (4 x 2): columns e1, e2
        double[] e34 = {0, 0, 0, 0, 1, 0, 0, 1};
        double c = Math.cos(0.7);
        double s = Math.sin(0.7);
        double[] rotated = {c, -s, s, c, 0, 0, 0, 0};
        double[] e13 = {1, 0, 0, 0, 0, 1, 0, 0};
        assertEquals(1.0, KfacComparison.subspaceOverlap(e12, e12, dim, 2), 1e-15);
        assertEquals(1.0, KfacComparison.subspaceOverlap(e12, rotated, dim, 2), 1e-15);
        assertEquals(0.0, KfacComparison.subspaceOverlap(e12, e34, dim, 2), 0.0);
        assertEquals(0.5, KfacComparison.subspaceOverlap(e12, e13, dim, 2), 1e-15);
        IllegalArgumentException notOrtho = assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.subspaceOverlap(scaled(e12, 2), e12, dim, 2));
        assertTrue(notOrtho.getMessage().contains("orthonormal"), notOrtho.getMessage());
    }

    @Test
    @DisplayName("shape mismatch messages name both shapes (H vs A ⊗ G, A/G array lengths, spectra, bases)")
    void shapeMismatchMessagesNameBothShapes() {
        double[] a = new double[9];
        double[] g = new double[25];
        IllegalArgumentException h = assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.relativeFrobeniusError(new double[144], 12, a, 3, g, 5));
        assertTrue(h.getMessage().contains("(12 x 12)") && h.getMessage().contains("(15 x 15)")
                && h.getMessage().contains("(3 x 3)") && h.getMessage().contains("(5 x 5)"), h.getMessage());

        IllegalArgumentException hLen = assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.relativeFrobeniusError(new double[144], 15, a, 3, g, 5));
        assertTrue(hLen.getMessage().contains("(15 x 15)") && hLen.getMessage().contains("(12 x 12)"), hLen.getMessage());

        IllegalArgumentException aLen = assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.relativeFrobeniusError(new double[225], 15, new double[16], 3, g, 5));
        assertTrue(aLen.getMessage().contains("(3 x 3)") && aLen.getMessage().contains("(4 x 4)"), aLen.getMessage());

        DenseSymmetricSpectrum hs = DenseSymmetricSpectrum.of(randomSymmetric(6, new Random(1)), 6, true);
        KroneckerSpectrum ks = KroneckerSpectrum.ofFactors(randomPsd(2, 3, new Random(2)), 2,
                randomPsd(2, 3, new Random(3)), 2, true);
        IllegalArgumentException spectra = assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.topEigenspaceOverlap(hs, ks, 1));
        assertTrue(spectra.getMessage().contains("(6 x 6)") && spectra.getMessage().contains("(4 x 4)"), spectra.getMessage());

        IllegalArgumentException basis = assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.subspaceOverlap(new double[8], new double[6], 4, 2));
        assertTrue(basis.getMessage().contains("(4 x 2)") && basis.getMessage().contains("6"), basis.getMessage());

        assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.topEigenspaceOverlap(new double[225], 15, a, 3, g, 5, 16));
    }

    @Test
    @DisplayName("zero H: error 0 when A ⊗ G is zero too, +infinity otherwise")
    void zeroH() {
        assertEquals(0.0, KfacComparison.relativeFrobeniusError(new double[4], 2, new double[1], 1, new double[4], 2));
        assertEquals(Double.POSITIVE_INFINITY,
                KfacComparison.relativeFrobeniusError(new double[4], 2, new double[] {1}, 1, new double[] {1, 0, 0, 1}, 2));
    }

    @ParameterizedTest(name = "extreme magnitudes: A, G x {0}, H x {0}^2 give the unscaled relative error")
    @ValueSource(doubles = {1e150, 1e-150})
    void scaleInvariantAtExtremeMagnitudes(double s) {
        Random rnd = new Random(45);
        int m = 3;
        int n = 4;
        double[] a = randomPsd(m, 5, rnd);
        double[] g = randomSymmetric(n, rnd);
        double[] h = add(kron(a, m, g, n), randomSymmetric(m * n, rnd), 0.1);
        double expected = KfacComparison.relativeFrobeniusError(h, m * n, a, m, g, n);
        double got = KfacComparison.relativeFrobeniusError(scaled(h, s * s), m * n, scaled(a, s), m, scaled(g, s), n);
        assertTrue(Double.isFinite(got) && got > 0, "finite: " + got);
        assertEquals(expected, got, 1e-12 * expected);
    }

    @Test
    @DisplayName("non-finite H entry is rejected with its position")
    void nonFiniteRejected() {
        double[] h = new double[4];
        h[3] = Double.NaN;
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> KfacComparison.relativeFrobeniusError(h, 2, new double[] {1}, 1, new double[4], 2));
        assertTrue(ex.getMessage().contains("H") && ex.getMessage().contains("[1][1]"), ex.getMessage());
    }
}
