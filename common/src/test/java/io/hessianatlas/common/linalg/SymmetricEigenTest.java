package io.hessianatlas.common.linalg;

import static io.hessianatlas.common.testing.LinalgTestSupport.maxAbs;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomOrthogonal;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomSymmetric;
import static io.hessianatlas.common.testing.LinalgTestSupport.reversed;
import static io.hessianatlas.common.testing.LinalgTestSupport.scaled;
import static io.hessianatlas.common.testing.LinalgTestSupport.withSpectrum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import io.hessianatlas.common.spectra.DenseSymmetricSpectrum;
import io.hessianatlas.common.testing.LinalgTestSupport;

class SymmetricEigenTest {

    /** Agreement with LAPACK dsyev, relative to max|lambda| (the brief's 1e-10). */
    static final double LAPACK_AGREEMENT = 1e-10;
    /** |tr A - sum lambda| relative to n * max|lambda|. */
    static final double TRACE_TOLERANCE = 1e-13;
    /** max |V D V^T - A|_ij relative to max|lambda|. */
    static final double RECONSTRUCTION_TOLERANCE = 1e-12;
    /** max |V^T V - I|_ij. */
    static final double ORTHONORMALITY_TOLERANCE = 1e-12;
    /** Relative error for matrices whose eigenvalues are known in closed form. */
    static final double EXACT_TOLERANCE = 1e-14;

    private static double[] ascending(double[] a, int n) {
        double[] out = new double[n];
        new SymmetricEigen(n).eigenvalues(a, 0, n, out, 0);
        return out;
    }

    private static void assertClose(double[] expected, double[] actual, double relTol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = Math.max(maxAbs(expected), Double.MIN_NORMAL);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Double.isFinite(actual[i]), what + ": non-finite value at " + i);
            assertTrue(Math.abs(expected[i] - actual[i]) <= relTol * scale,
                    what + ": at " + i + " expected " + expected[i] + " got " + actual[i]
                            + " (scale " + scale + ")");
        }
    }

    /** Checks trace, V D V^T = A, V^T V = I and that values are ascending, for the decomposition of a. */
    private static void assertDecompositionInvariants(double[] a, int n, String what) {
        double[] values = new double[n];
        double[] v = new double[n * n];
        new SymmetricEigen(n).decompose(a, 0, n, values, 0, v, 0);
        double scale = Math.max(maxAbs(values), Double.MIN_NORMAL);
        for (int i = 1; i < n; i++) {
            assertTrue(values[i - 1] <= values[i], what + ": not ascending at " + i);
        }
        double trace = 0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            trace += a[i * n + i];
            sum += values[i];
        }
        assertEquals(trace, sum, TRACE_TOLERANCE * n * scale, what + ": trace = sum of eigenvalues");
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double rec = 0;
                double gram = 0;
                for (int k = 0; k < n; k++) {
                    rec += v[i * n + k] * values[k] * v[j * n + k];
                    gram += v[k * n + i] * v[k * n + j];
                }
                assertEquals(0.5 * (a[i * n + j] + a[j * n + i]), rec, RECONSTRUCTION_TOLERANCE * scale,
                        what + ": (V D V^T)[" + i + "][" + j + "]");
                assertEquals(i == j ? 1.0 : 0.0, gram, ORTHONORMALITY_TOLERANCE,
                        what + ": (V^T V)[" + i + "][" + j + "]");
            }
        }
        // the eigenvalues from decompose agree with the values-only path
        assertClose(ascending(a, n), values, LAPACK_AGREEMENT, what + ": decompose vs eigenvalues");
    }

    @ParameterizedTest(name = "random symmetric n = {0} matches LAPACK dsyev")
    @ValueSource(ints = {1, 2, 3, 10, 50, 200})
    void randomSymmetricMatchesLapack(int n) {
        Random rnd = new Random(1000 + n);
        double[] a = randomSymmetric(n, rnd);
        double[] lapackAscending = reversed(DenseSymmetricSpectrum.eigenvalues(a, n));
        double[] ours = ascending(a, n);
        assertClose(lapackAscending, ours, LAPACK_AGREEMENT, "n=" + n);
        SymmetricEigen solver = new SymmetricEigen(n);
        double scale = maxAbs(lapackAscending);
        assertEquals(lapackAscending[n - 1], solver.largestEigenvalue(a, 0, n), LAPACK_AGREEMENT * scale, "largest");
        assertEquals(lapackAscending[0], solver.smallestEigenvalue(a, 0, n), LAPACK_AGREEMENT * scale, "smallest");
    }

    @ParameterizedTest(name = "decomposition invariants (trace, V D V^T = A, V^T V = I) for random n = {0}")
    @ValueSource(ints = {1, 2, 3, 10, 50, 120})
    void decompositionInvariantsOnRandomMatrices(int n) {
        assertDecompositionInvariants(randomSymmetric(n, new Random(2000 + n)), n, "random n=" + n);
    }

    @ParameterizedTest(name = "rank-deficient PSD C C^T (n = {0}, rank 3) matches LAPACK")
    @ValueSource(ints = {3, 10, 64})
    void rankDeficientPsdMatchesLapack(int n) {
        double[] a = LinalgTestSupport.randomPsd(n, 3, new Random(3000 + n));
        assertClose(reversed(DenseSymmetricSpectrum.eigenvalues(a, n)), ascending(a, n), LAPACK_AGREEMENT, "psd n=" + n);
        assertDecompositionInvariants(a, n, "psd n=" + n);
    }

    @Test
    @DisplayName("Wilkinson W21+ (pairs of nearly equal eigenvalues) matches LAPACK")
    void wilkinsonMatrixMatchesLapack() {
        int n = 21;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = Math.abs(10 - i);
            if (i + 1 < n) {
                a[i * n + i + 1] = 1;
                a[(i + 1) * n + i] = 1;
            }
        }
        assertClose(reversed(DenseSymmetricSpectrum.eigenvalues(a, n)), ascending(a, n), LAPACK_AGREEMENT, "W21+");
        assertDecompositionInvariants(a, n, "W21+");
    }

    @Test
    @DisplayName("2 x 2 closed forms: [[2,1],[1,2]] -> {1,3}, [[0,1],[1,0]] -> {-1,1}")
    void twoByTwoClosedForms() {
        assertClose(new double[] {1, 3}, ascending(new double[] {2, 1, 1, 2}, 2), EXACT_TOLERANCE, "[[2,1],[1,2]]");
        assertClose(new double[] {-1, 1}, ascending(new double[] {0, 1, 1, 0}, 2), EXACT_TOLERANCE, "[[0,1],[1,0]]");
    }

    @Test
    @DisplayName("n = 1: the eigenvalue is the entry, the eigenvector is [1]")
    void oneByOne() {
        SymmetricEigen s = new SymmetricEigen(1);
        double[] out = new double[1];
        s.eigenvalues(new double[] {-4.5}, 0, 1, out, 0);
        assertEquals(-4.5, out[0]);
        assertEquals(-4.5, s.largestEigenvalue(new double[] {-4.5}, 0, 1));
        double[] vec = new double[1];
        s.decompose(new double[] {7.0}, 0, 1, out, 0, vec, 0);
        assertEquals(7.0, out[0]);
        assertEquals(1.0, Math.abs(vec[0]));
    }

    @ParameterizedTest(name = "zero matrix n = {0}: all eigenvalues 0, V = I, no NaN")
    @ValueSource(ints = {1, 2, 5, 30})
    void zeroMatrix(int n) {
        double[] a = new double[n * n];
        double[] values = ascending(a, n);
        assertArrayEquals(new double[n], values);
        SymmetricEigen s = new SymmetricEigen(n);
        assertEquals(0.0, s.largestEigenvalue(a, 0, n));
        double[] v = new double[n * n];
        s.decompose(a, 0, n, values, 0, v, 0);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(i == j ? 1.0 : 0.0, v[i * n + j]);
            }
        }
    }

    @Test
    @DisplayName("diagonal matrix: eigenvalues are the sorted diagonal, eigenvectors unit vectors")
    void diagonalMatrix() {
        double[] diag = {3, -1, 7, 0, 2, -1e-3};
        int n = diag.length;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = diag[i];
        }
        double[] sorted = diag.clone();
        Arrays.sort(sorted);
        assertClose(sorted, ascending(a, n), EXACT_TOLERANCE, "diagonal");
        assertDecompositionInvariants(a, n, "diagonal");
    }

    @Test
    @DisplayName("repeated eigenvalues {-1 x3, 2 x3, 5 x2} and c I: values exact, V still orthonormal")
    void repeatedEigenvalues() {
        double[] spectrum = {2, -1, 5, 2, -1, 2, 5, -1};
        int n = spectrum.length;
        double[] a = withSpectrum(randomOrthogonal(n, new Random(7)), spectrum);
        double[] sorted = spectrum.clone();
        Arrays.sort(sorted);
        assertClose(sorted, ascending(a, n), LAPACK_AGREEMENT, "repeated");
        assertDecompositionInvariants(a, n, "repeated");

        double[] identity = new double[n * n];
        for (int i = 0; i < n; i++) {
            identity[i * n + i] = 3.0;
        }
        double[] threes = new double[n];
        Arrays.fill(threes, 3.0);
        assertClose(threes, ascending(identity, n), EXACT_TOLERANCE, "3 I");
        assertDecompositionInvariants(identity, n, "3 I");
    }

    @ParameterizedTest(name = "extreme scale {0}: eigenvalues scale exactly, no overflow/underflow/NaN")
    @ValueSource(doubles = {1e300, 1e-300, 1e-310, 1e307})
    void extremeScales(double scale) {
        int n = 12;
        double[] b = randomSymmetric(n, new Random(11));
        double[] a = scaled(b, scale);
        double[] expected = scaled(ascending(b, n), scale);
        // subnormal inputs carry fewer significant bits: compare relative to what the input holds
        double tol = scale < Double.MIN_NORMAL ? 1e-8 : LAPACK_AGREEMENT;
        assertClose(expected, ascending(a, n), tol, "scale " + scale);
        SymmetricEigen s = new SymmetricEigen(n);
        assertEquals(expected[n - 1], s.largestEigenvalue(a, 0, n), tol * maxAbs(expected), "largest");
        if (scale >= Double.MIN_NORMAL && scale <= 1e300) { // (the naive trace check could overflow at 1e307)
            assertDecompositionInvariants(a, n, "scale " + scale);
        }
    }

    @Test
    @DisplayName("mixed magnitudes 1e300 and 1e-300 in one matrix: finite and correct to the normwise bound")
    void mixedMagnitudes() {
        double[] a = {
            1e300, 1e-300, 0,
            1e-300, 1e-300, 1e-300,
            0, 1e-300, -2e-300};
        double[] values = ascending(a, 3);
        for (double v : values) {
            assertTrue(Double.isFinite(v), "finite");
        }
        assertEquals(1e300, values[2], 1e300 * EXACT_TOLERANCE);
        assertTrue(Math.abs(values[0]) <= 1e300 * 1e-14 && Math.abs(values[1]) <= 1e300 * 1e-14,
                "small eigenvalues within the absolute bound: " + Arrays.toString(values));
        assertDecompositionInvariants(a, 3, "mixed");
    }

    @Test
    @DisplayName("slice of a larger buffer (offset, row stride, NaN padding) equals the dense result")
    void sliceWithOffsetAndStride() {
        int n = 9;
        int stride = n + 4;
        int offset = 7;
        double[] a = randomSymmetric(n, new Random(5));
        double[] buffer = new double[offset + n * stride + 3];
        Arrays.fill(buffer, Double.NaN); // padding must never be read
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n, buffer, offset + i * stride, n);
        }
        SymmetricEigen s = new SymmetricEigen(n);
        double[] out = new double[n + 5];
        s.eigenvalues(buffer, offset, n, stride, out, 5);
        double[] expected = ascending(a, n);
        assertClose(expected, Arrays.copyOfRange(out, 5, 5 + n), 0.0, "strided slice");
        assertEquals(expected[n - 1], s.largestEigenvalue(buffer, offset, n, stride));
        assertEquals(expected[0], s.smallestEigenvalue(buffer, offset, n, stride));
        double[] values = new double[n];
        double[] vectors = new double[2 + n * n];
        s.decompose(buffer, offset, n, stride, values, 0, vectors, 2);
        double[] denseValues = new double[n];
        double[] denseVectors = new double[n * n];
        s.decompose(a, 0, n, denseValues, 0, denseVectors, 0);
        assertArrayEquals(denseValues, values);
        assertArrayEquals(denseVectors, Arrays.copyOfRange(vectors, 2, 2 + n * n));
    }

    @Test
    @DisplayName("one instance reused across sizes (and grown past its capacity) gives fresh-instance results")
    void workspaceReuseAcrossSizes() {
        SymmetricEigen s = new SymmetricEigen(4);
        Random rnd = new Random(9);
        double[] big = randomSymmetric(50, rnd);
        double[] small = randomSymmetric(3, rnd);
        double[] o1 = new double[50];
        double[] o2 = new double[3];
        double[] o3 = new double[50];
        s.eigenvalues(big, 0, 50, o1, 0); // grows
        assertTrue(s.capacity() >= 50);
        s.eigenvalues(small, 0, 3, o2, 0);
        s.eigenvalues(big, 0, 50, o3, 0);
        assertArrayEquals(ascending(big, 50), o1);
        assertArrayEquals(ascending(small, 3), o2);
        assertArrayEquals(o1, o3);
    }

    @Test
    @DisplayName("non-symmetric input is symmetrised as (M + M^T)/2")
    void nonSymmetricInputIsSymmetrised() {
        int n = 6;
        double[] m = LinalgTestSupport.randomMatrix(n, n, new Random(13));
        double[] sym = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                sym[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]);
            }
        }
        assertClose(ascending(sym, n), ascending(m, n), EXACT_TOLERANCE, "symmetrised");
        assertDecompositionInvariants(m, n, "non-symmetric input");
    }

    @Test
    @DisplayName("NaN or infinite entry is rejected with its position")
    void nonFiniteEntryRejected() {
        double[] a = {1, 2, 2, Double.NaN};
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new SymmetricEigen(2).largestEigenvalue(a, 0, 2));
        assertTrue(ex.getMessage().contains("[1][1]"), ex.getMessage());
        double[] b = {1, Double.POSITIVE_INFINITY, 0, 1};
        assertThrows(IllegalArgumentException.class, () -> new SymmetricEigen(2).eigenvalues(b, 0, 2, new double[2], 0));
    }

    @Test
    @DisplayName("bad layout (n < 1, stride < n, out of bounds, short output) is rejected with the shapes")
    void badLayoutRejected() {
        SymmetricEigen s = new SymmetricEigen(3);
        double[] a = new double[9];
        assertThrows(IllegalArgumentException.class, () -> s.largestEigenvalue(a, 0, 0));
        IllegalArgumentException stride = assertThrows(IllegalArgumentException.class,
                () -> s.largestEigenvalue(a, 0, 3, 2));
        assertTrue(stride.getMessage().contains("(3 x 3)"), stride.getMessage());
        IllegalArgumentException bounds = assertThrows(IllegalArgumentException.class,
                () -> s.largestEigenvalue(a, 1, 3));
        assertTrue(bounds.getMessage().contains("(3 x 3)") && bounds.getMessage().contains("length 9"),
                bounds.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.eigenvalues(a, 0, 3, new double[2], 0));
        assertThrows(IllegalArgumentException.class,
                () -> s.decompose(a, 0, 3, new double[3], 0, new double[8], 0));
        IllegalArgumentException conv = assertThrows(IllegalArgumentException.class,
                () -> SymmetricEigen.eigenvaluesOf(new double[8], 3));
        assertTrue(conv.getMessage().contains("(3 x 3)") && conv.getMessage().contains("8"), conv.getMessage());
    }
}
