package io.hessianatlas.common.spectra;

import static io.hessianatlas.common.testing.LinalgTestSupport.kron;
import static io.hessianatlas.common.testing.LinalgTestSupport.kronVector;
import static io.hessianatlas.common.testing.LinalgTestSupport.maxAbs;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomPsd;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomSymmetric;
import static io.hessianatlas.common.testing.LinalgTestSupport.residual;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.hessianatlas.common.nd4j.ThetaIndex;
import io.hessianatlas.common.testing.LinalgTestSupport;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class KroneckerSpectrumTest {

    /** Products vs dense LAPACK eigenvalues of the explicit kron(A, G), relative to max|lambda|. */
    static final double SPECTRUM_TOLERANCE = 1e-10;
    /** ||K v - lambda v|| relative to max|lambda| and |v^T v - delta| for returned eigenpairs. */
    static final double EIGENPAIR_TOLERANCE = 1e-12;

    private static double[] denseKronValues(double[] a, int m, double[] g, int n) {
        return DenseSymmetricSpectrum.eigenvalues(kron(a, m, g, n), m * n);
    }

    private static void assertEigenpairs(double[] k, int dim, KroneckerSpectrum.Eigenpairs pairs, double scale) {
        int count = pairs.count();
        double[] values = pairs.values();
        for (int c = 0; c < count; c++) {
            double[] v = pairs.vector(c);
            assertTrue(residual(k, dim, v, values[c]) <= EIGENPAIR_TOLERANCE * scale, "K v = lambda v for pair " + c);
            for (int c2 = 0; c2 < count; c2++) {
                double dot = 0;
                double[] w = pairs.vector(c2);
                for (int t = 0; t < dim; t++) {
                    dot += v[t] * w[t];
                }
                assertEquals(c == c2 ? 1.0 : 0.0, dot, EIGENPAIR_TOLERANCE, "orthonormal " + c + "," + c2);
            }
        }
    }

    @Test
    @DisplayName("PSD A (4 x 4), PSD G (3 x 3): all 12 products = dense eigenvalues of explicit kron(A, G)")
    void spectrumMatchesDenseKronPsdFactors() {
        Random rnd = new Random(31);
        int m = 4;
        int n = 3;
        double[] a = randomPsd(m, 6, rnd);
        double[] g = randomPsd(n, 5, rnd);
        double[] expected = denseKronValues(a, m, g, n);
        KroneckerSpectrum ks = KroneckerSpectrum.ofFactors(a, m, g, n, false);
        assertEquals(12, ks.dimension());
        assertArrayEquals(expected, ks.eigenvalues(), SPECTRUM_TOLERANCE * maxAbs(expected));
    }

    @Test
    @DisplayName("indefinite G (hessian mode), A 5 x 5, G 4 x 4: products = dense eigenvalues incl. negative ones")
    void spectrumMatchesDenseKronIndefiniteG() {
        Random rnd = new Random(32);
        int m = 5;
        int n = 4;
        double[] a = randomPsd(m, 8, rnd);
        double[] g = randomSymmetric(n, rnd);
        double[] expected = denseKronValues(a, m, g, n);
        assertTrue(expected[expected.length - 1] < 0, "the test needs a negative eigenvalue");
        KroneckerSpectrum ks = KroneckerSpectrum.ofFactors(a, m, g, n, true);
        double[] got = ks.eigenvalues();
        assertArrayEquals(expected, got, SPECTRUM_TOLERANCE * maxAbs(expected));
        for (int i = 1; i < got.length; i++) {
            assertTrue(got[i - 1] >= got[i], "descending at " + i);
        }
    }

    @Test
    @DisplayName("top-k (k = 5) of A ⊗ G with indefinite G: values = dense top-k, vectors are eigenvectors of kron(A, G)")
    void topKEigenpairsAreEigenpairsOfExplicitKron() {
        Random rnd = new Random(33);
        int m = 4;
        int n = 5;
        double[] a = randomPsd(m, 7, rnd);
        double[] g = randomSymmetric(n, rnd);
        double[] k = kron(a, m, g, n);
        double[] dense = DenseSymmetricSpectrum.eigenvalues(k, m * n);
        double scale = maxAbs(dense);
        KroneckerSpectrum ks = KroneckerSpectrum.ofFactors(a, m, g, n, true);
        KroneckerSpectrum.Eigenpairs top = ks.top(5);
        for (int c = 0; c < 5; c++) {
            assertEquals(dense[c], top.values()[c], SPECTRUM_TOLERANCE * scale, "value " + c);
        }
        assertArrayEquals(new int[] {1, 2, 3, 4, 5}, top.ranks());
        assertEigenpairs(k, m * n, top, scale);
        double[] all = top.vectors();
        assertEquals(m * n * 5, all.length);
        for (int c = 0; c < 5; c++) {
            assertArrayEquals(LinalgTestSupport.column(all, m * n, 5, c), top.vector(c), 0.0);
        }
    }

    @Test
    @DisplayName("bottom-k (k = 4) with indefinite G: ascending, = dense bottom-k, ranks dim..dim-3, eigenvectors")
    void bottomKWithIndefiniteG() {
        Random rnd = new Random(34);
        int m = 3;
        int n = 6;
        double[] a = randomPsd(m, 5, rnd);
        double[] g = randomSymmetric(n, rnd);
        double[] k = kron(a, m, g, n);
        int dim = m * n;
        double[] dense = DenseSymmetricSpectrum.eigenvalues(k, dim);
        double scale = maxAbs(dense);
        KroneckerSpectrum.Eigenpairs bottom = KroneckerSpectrum.ofFactors(a, m, g, n, true).bottom(4);
        for (int c = 0; c < 4; c++) {
            assertEquals(dense[dim - 1 - c], bottom.values()[c], SPECTRUM_TOLERANCE * scale, "value " + c);
        }
        assertTrue(bottom.values()[0] < 0, "the smallest is negative");
        assertArrayEquals(new int[] {dim, dim - 1, dim - 2, dim - 3}, bottom.ranks());
        assertEigenpairs(k, dim, bottom, scale);
    }

    @Test
    @DisplayName("vec convention: eigenvector entry [j*n + i] = vA[j] * vG[i] (checked on diagonal and general factors)")
    void vectorEntryConvention() {
        // diagonal factors: the top pair is alpha_max = A[1][1] = 10 and gamma_max = G[2][2] = 3,
        // so its eigenvector is the unit vector at theta index t(1, 2) = 1*3 + 2 = 5
        double[] a = {1, 0, 0, 10};
        double[] g = {2, 0, 0, 0, -1, 0, 0, 0, 3};
        KroneckerSpectrum.Eigenpairs top = KroneckerSpectrum.ofFactors(a, 2, g, 3, true).top(1);
        assertEquals(30, top.values()[0], 1e-14);
        double[] v = top.vector(0);
        for (int t = 0; t < 6; t++) {
            assertEquals(t == ThetaIndex.ofFactors(2, 3).index(1, 2) ? 1.0 : 0.0, Math.abs(v[t]), 1e-15, "entry " + t);
        }
        // factor spectra are descending: 10 is column 0 of A's, 3 is column 0 of G's
        assertEquals(0, top.indexA()[0]);
        assertEquals(0, top.indexG()[0]);
        // general factors: compare with kron(vA, vG) formed here
        Random rnd = new Random(35);
        double[] a2 = randomPsd(3, 4, rnd);
        double[] g2 = randomSymmetric(4, rnd);
        DenseSymmetricSpectrum sa = DenseSymmetricSpectrum.of(a2, 3, true);
        DenseSymmetricSpectrum sg = DenseSymmetricSpectrum.of(g2, 4, true);
        KroneckerSpectrum.Eigenpairs pairs = KroneckerSpectrum.of(sa, sg).top(12);
        for (int c = 0; c < 12; c++) {
            double[] expected = kronVector(sa.eigenvector(pairs.indexA()[c]), sg.eigenvector(pairs.indexG()[c]));
            assertArrayEquals(expected, pairs.vector(c), 0.0, "pair " + c);
            assertEquals(sa.eigenvalue(pairs.indexA()[c]) * sg.eigenvalue(pairs.indexG()[c]), pairs.values()[c], 0.0);
        }
    }

    @Test
    @DisplayName("ties: A = I2, G = I2 -> top(2) takes theta indices 0,1; bottom(2) takes 3,2 with ranks 4,3")
    void tiesBrokenByIndexAndRanksConsistent() {
        double[] i2 = {1, 0, 0, 1};
        KroneckerSpectrum ks = new KroneckerSpectrum(new double[] {1, 1}, i2, new double[] {1, 1}, i2);
        KroneckerSpectrum.Eigenpairs top = ks.top(2);
        assertArrayEquals(new int[] {0, 0}, top.indexA());
        assertArrayEquals(new int[] {0, 1}, top.indexG());
        assertArrayEquals(new int[] {1, 2}, top.ranks());
        KroneckerSpectrum.Eigenpairs bottom = ks.bottom(2);
        assertArrayEquals(new int[] {1, 1}, bottom.indexA());
        assertArrayEquals(new int[] {1, 0}, bottom.indexG());
        assertArrayEquals(new int[] {4, 3}, bottom.ranks());
    }

    @Test
    @DisplayName("large k (k = dim = 120 > insertion-sort limit): same order as the full descending spectrum")
    void largeKOrderMatchesFullSpectrum() {
        Random rnd = new Random(36);
        double[] va = {3, -1, 0.5, 2, 2, 7, 0, 1, 1, 4};
        double[] vg = new double[12];
        for (int i = 0; i < vg.length; i++) {
            vg[i] = rnd.nextGaussian();
        }
        KroneckerSpectrum ks = new KroneckerSpectrum(va, null, vg, null);
        assertArrayEquals(ks.eigenvalues(), ks.top(120).values(), 0.0);
        assertArrayEquals(LinalgTestSupport.reversed(ks.eigenvalues()), ks.bottom(120).values(), 0.0);
        assertNull(ks.top(3).vectors());
    }

    @Test
    @DisplayName("static eigenvalues(): -0.0 products become +0.0, order descending")
    void staticEigenvaluesNormalisesNegativeZero() {
        double[] p = KroneckerSpectrum.eigenvalues(new double[] {0.0, 2.0}, new double[] {-1.0, 3.0});
        assertArrayEquals(new double[] {6.0, 0.0, 0.0, -2.0}, p, 0.0);
        assertEquals(0, Double.compare(0.0, p[1]));
        assertEquals(0, Double.compare(0.0, p[2]));
    }

    @Test
    @DisplayName("errors: k out of range, vector array of the wrong shape (names both shapes), vectors for one factor only")
    void errors() {
        KroneckerSpectrum ks = new KroneckerSpectrum(new double[] {1, 2}, null, new double[] {3}, null);
        assertThrows(IllegalArgumentException.class, () -> ks.top(0));
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> ks.bottom(3));
        assertTrue(big.getMessage().contains("(2 x 2)") && big.getMessage().contains("(1 x 1)"), big.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> new KroneckerSpectrum(new double[] {1, 2}, new double[9], new double[] {3}, new double[1]));
        assertTrue(shape.getMessage().contains("(2 x 2)") && shape.getMessage().contains("(3 x 3)"), shape.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new KroneckerSpectrum(new double[] {1, 2}, new double[4], new double[] {3}, null));
        IllegalArgumentException factor = assertThrows(IllegalArgumentException.class,
                () -> KroneckerSpectrum.ofFactors(new double[5], 2, new double[1], 1, false));
        assertTrue(factor.getMessage().contains("(2 x 2)"), factor.getMessage());
    }
}
