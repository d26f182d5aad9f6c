package io.hessianatlas.common.linalg;

import static io.hessianatlas.common.testing.LinalgTestSupport.maxAbs;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomOrthogonal;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomSymmetric;
import static io.hessianatlas.common.testing.LinalgTestSupport.scaled;
import static io.hessianatlas.common.testing.LinalgTestSupport.withSpectrum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.spectra.DenseSymmetricSpectrum;
import io.hessianatlas.common.testing.LinalgTestSupport;
import io.hessianatlas.common.testing.Tolerance;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link SymmetricEigen#largestEigenvalue} against independent references: LAPACK {@code dsyev}
 * ({@link DenseSymmetricSpectrum}), matrices built with a known spectrum ({@code Q diag(d) Q^T}),
 * closed forms, and invariants that need no eigen-solver (Rayleigh quotients and Gershgorin discs
 * bound {@code lambda_max}; shifts and power-of-two scalings move it predictably).
 */
class SymmetricEigenTest {

    /**
     * |lambda_max - LAPACK's| relative to max|lambda| of the matrix: the scale term of the tolerance
     * rule (docs/design.md §7) alone, since both solvers are backward stable, i.e. accurate normwise.
     */
    static final double LAPACK_AGREEMENT = Tolerance.SCALE_FACTOR;
    /**
     * |lambda_max - max(d)| relative to max|d| for {@code A = Q diag(d) Q^T} built in floating
     * point (forming A already perturbs its spectrum by about {@code n * 2^-52 * max|d|}).
     */
    static final double KNOWN_SPECTRUM_TOLERANCE = 1e-12;
    /** Relative error for matrices whose largest eigenvalue is known in closed form. */
    static final double EXACT_TOLERANCE = 1e-14;
    /**
     * Slack of the solver-free bounds (Rayleigh quotient {@code <= lambda_max <=} Gershgorin
     * radius), relative to max|A_ij| of an {@code (n x n)} A and per unit of n: the normwise
     * accuracy {@code n * 2^-52 * ||A||} with room for the rounding of the bounds themselves.
     */
    static final double BOUND_SLACK = 1e-14;

    @BeforeAll
    static void nativeRuntime() {
        NativeRuntime.configure(); // the LAPACK references run through ND4J
    }

    private static double largest(double[] a, int n) {
        return new SymmetricEigen(n).largestEigenvalue(a, 0, n);
    }

    /** LAPACK's largest eigenvalue and max|lambda| (DenseSymmetricSpectrum sorts descending). */
    private static double[] lapackLargestAndScale(double[] a, int n) {
        double[] desc = DenseSymmetricSpectrum.eigenvalues(a, n);
        return new double[] {desc[0], Math.max(Math.abs(desc[0]), Math.abs(desc[n - 1]))};
    }

    private static void assertMatchesLapack(double[] a, int n, double actual, String what) {
        double[] ref = lapackLargestAndScale(a, n);
        assertTrue(Double.isFinite(actual), what + ": non-finite " + actual);
        assertEquals(ref[0], actual, LAPACK_AGREEMENT * Math.max(ref[1], Double.MIN_NORMAL),
                what + ": lambda_max vs LAPACK dsyev");
    }

    /** Rayleigh quotients of random vectors and unit vectors below, the Gershgorin bound above. */
    private static void assertSolverFreeBounds(double[] a, int n, double lambda, Random rnd, String what) {
        double slack = BOUND_SLACK * n * Math.max(maxAbs(a), Double.MIN_NORMAL);
        double gershgorin = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double radius = 0;
            for (int j = 0; j < n; j++) {
                radius += j == i ? 0 : Math.abs(a[i * n + j]);
            }
            gershgorin = Math.max(gershgorin, a[i * n + i] + radius);
            assertTrue(a[i * n + i] <= lambda + slack, what + ": e_" + i + "^T A e_" + i + " = "
                    + a[i * n + i] + " > lambda_max " + lambda);
        }
        assertTrue(lambda <= gershgorin + slack, what + ": lambda_max " + lambda + " above Gershgorin " + gershgorin);
        for (int t = 0; t < 20; t++) {
            double[] x = LinalgTestSupport.randomMatrix(n, 1, rnd);
            double xx = 0;
            double xax = 0;
            for (int i = 0; i < n; i++) {
                xx += x[i] * x[i];
                for (int j = 0; j < n; j++) {
                    xax += x[i] * a[i * n + j] * x[j];
                }
            }
            assertTrue(xax / xx <= lambda + slack, what + ": Rayleigh quotient " + xax / xx
                    + " > lambda_max " + lambda);
        }
    }

    @ParameterizedTest(name = "random symmetric n = {0}: matches LAPACK dsyev (both overloads) and the bounds")
    @ValueSource(ints = {1, 2, 3, 10, 50, 200})
    void randomSymmetricMatchesLapack(int n) {
        Random rnd = new Random(1000 + n);
        double[] a = randomSymmetric(n, rnd);
        SymmetricEigen solver = new SymmetricEigen(n);
        double dense = solver.largestEigenvalue(a, 0, n);
        assertMatchesLapack(a, n, dense, "n=" + n);
        assertEquals(dense, solver.largestEigenvalue(a, 0, n, n), "rowStride = n overload");
        assertSolverFreeBounds(a, n, dense, rnd, "n=" + n);
    }

    /**
     * |Laguerre's λ_max - QL's| relative to {@code n * max|A_ij|}: both are normwise accurate to a
     * small multiple of {@code n * 2^-52 * ||A||}.
     */
    static final double QL_AGREEMENT = 1e-14;

    /** Random symmetric, full-rank and rank-deficient Gram, and clustered-top matrices of size n. */
    private static List<double[]> laguerreCases(int n, Random rnd) {
        List<double[]> cases = new ArrayList<>();
        for (int t = 0; t < 40; t++) {
            cases.add(randomSymmetric(n, rnd));
            for (int rank : new int[] {n, Math.max(1, n / 3)}) {
                double[] c = new double[n * rank];
                for (int i = 0; i < c.length; i++) {
                    c[i] = rnd.nextGaussian() * Math.exp(2 * rnd.nextGaussian());
                }
                double[] g = new double[n * n];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        for (int q = 0; q < rank; q++) {
                            g[i * n + j] += c[i * rank + q] * c[j * rank + q];
                        }
                    }
                }
                cases.add(g);
            }
            double[] spectrum = new double[n];
            for (int i = 0; i < n; i++) {
                spectrum[i] = i < 3 ? 2 + (rnd.nextDouble() - 0.5) * Math.pow(10, -3 - rnd.nextInt(12)) : rnd.nextDouble();
            }
            cases.add(withSpectrum(randomOrthogonal(n, rnd), spectrum));
        }
        return cases;
    }

    @ParameterizedTest(name = "n = {0}: Laguerre's result is certified (no QL fallback) and matches QL")
    @ValueSource(ints = {2, 3, 10, 64})
    void laguerreIsCertifiedAndMatchesQl(int n) {
        SymmetricEigen laguerre = new SymmetricEigen(n);
        SymmetricEigen qlOnly = new SymmetricEigen(n, 0);
        for (double[] a : laguerreCases(n, new Random(50 + n))) {
            double scale = n * maxAbs(a);
            assertEquals(qlOnly.largestEigenvalue(a, 0, n), laguerre.largestEigenvalue(a, 0, n), QL_AGREEMENT * scale);
        }
        assertEquals(0, laguerre.qlFallbacks(), "calls that fell back to QL");
    }

    @ParameterizedTest(name = "QL fallback (no Laguerre iterations): known spectrum {0}")
    @MethodSource("knownSpectra")
    void qlFallbackMatchesTheKnownSpectrum(String name, double[] spectrum) {
        int n = spectrum.length;
        double[] a = withSpectrum(randomOrthogonal(n, new Random(7 + n)), spectrum);
        SymmetricEigen qlOnly = new SymmetricEigen(n, 0);
        double expected = Arrays.stream(spectrum).max().getAsDouble();
        assertEquals(expected, qlOnly.largestEigenvalue(a, 0, n), KNOWN_SPECTRUM_TOLERANCE * maxAbs(spectrum), name);
    }

    static Stream<Arguments> knownSpectra() {
        return Stream.of(
                Arguments.of("mixed signs", new double[] {5, -1, 2, 2, -1}),
                Arguments.of("all negative: the largest value, not magnitude", new double[] {-3, -1, -7, -2}),
                Arguments.of("dominant negative end", new double[] {-100, 1, 0.5, 0, -40, 0.25}),
                Arguments.of("repeated largest {-1 x3, 2 x3, 5 x2}", new double[] {2, -1, 5, 2, -1, 2, 5, -1}),
                Arguments.of("rank-1 PSD", new double[] {0, 0, 4, 0, 0, 0, 0}),
                Arguments.of("cluster at the top", new double[] {1, 1 + 1e-9, 1 - 1e-9, 0.5, -0.5}),
                Arguments.of("graded 1 .. 1e-12", new double[] {1e-12, 1e-9, 1e-6, 1e-3, 1}),
                Arguments.of("n = 20, 1..20", IntStream.rangeClosed(1, 20).mapToDouble(i -> i).toArray()));
    }

    @ParameterizedTest(name = "known spectrum Q diag(d) Q^T: {0}")
    @MethodSource("knownSpectra")
    void knownSpectrum(String name, double[] spectrum) {
        int n = spectrum.length;
        double[] a = withSpectrum(randomOrthogonal(n, new Random(7 + n)), spectrum);
        double expected = Arrays.stream(spectrum).max().getAsDouble();
        assertEquals(expected, largest(a, n), KNOWN_SPECTRUM_TOLERANCE * maxAbs(spectrum), name);
    }

    @ParameterizedTest(name = "rank-deficient PSD C C^T (n = {0}, rank 3, a Gram matrix as in SampleScores)")
    @ValueSource(ints = {3, 10, 64})
    void rankDeficientPsdMatchesLapack(int n) {
        Random rnd = new Random(3000 + n);
        double[] a = LinalgTestSupport.randomPsd(n, 3, rnd);
        double lambda = largest(a, n);
        assertMatchesLapack(a, n, lambda, "psd n=" + n);
        assertSolverFreeBounds(a, n, lambda, rnd, "psd n=" + n);
    }

    @ParameterizedTest(name = "softmax Hessian diag(p) - p p^T (n = {0}, the exact-Q block of SampleScores)")
    @ValueSource(ints = {2, 3, 10, 100})
    void softmaxHessianMatchesLapack(int n) {
        Random rnd = new Random(4000 + n);
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(4 * rnd.nextGaussian()); // from nearly one-hot to spread out
            sum += p[i];
        }
        double[] q = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                q[i * n + j] = (i == j ? p[i] / sum : 0) - (p[i] / sum) * (p[j] / sum);
            }
        }
        double lambda = largest(q, n);
        assertMatchesLapack(q, n, lambda, "softmax n=" + n);
        assertSolverFreeBounds(q, n, lambda, rnd, "softmax n=" + n);
        // Gershgorin: row i of diag(p) - p p^T has centre + radius 2 p_i (1 - p_i) <= 1/2
        assertTrue(lambda <= 0.5 + BOUND_SLACK * n, "lambda_max(diag(p) - p p^T) <= 1/2, got " + lambda);
    }

    @Test
    @DisplayName("Wilkinson W21+ (pairs of nearly equal eigenvalues at the top): matches LAPACK and its published value")
    void wilkinsonMatrix() {
        int n = 21;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = Math.abs(10 - i);
            if (i + 1 < n) {
                a[i * n + i + 1] = 1;
                a[(i + 1) * n + i] = 1;
            }
        }
        double lambda = largest(a, n);
        assertMatchesLapack(a, n, lambda, "W21+");
        // Wilkinson, The Algebraic Eigenvalue Problem (1965): 10.746194182903...
        assertEquals(10.746194182903, lambda, 1e-12, "W21+ lambda_max");
    }

    @Test
    @DisplayName("2 x 2 closed form (a+c)/2 + sqrt(((a-c)/2)^2 + b^2)")
    void twoByTwoClosedForm() {
        double[][] abc = {{2, 1, 2}, {0, 1, 0}, {1, 0, -3}, {-5, 2, 7}, {1e-3, 1e3, 1e-3}, {4, -1e-8, 4}};
        for (double[] m : abc) {
            double a = m[0];
            double b = m[1];
            double c = m[2];
            double expected = 0.5 * (a + c) + Math.hypot(0.5 * (a - c), b);
            double got = largest(new double[] {a, b, b, c}, 2);
            assertEquals(expected, got, EXACT_TOLERANCE * Math.max(Math.abs(a), Math.max(Math.abs(b), Math.abs(c))),
                    "[[" + a + ", " + b + "], [" + b + ", " + c + "]]");
        }
    }

    @Test
    @DisplayName("n = 1: the eigenvalue is the entry, exactly")
    void oneByOne() {
        SymmetricEigen s = new SymmetricEigen(1);
        for (double v : new double[] {-4.5, 0.1, 1e-300, -7e300, Double.MIN_VALUE}) {
            assertEquals(v, s.largestEigenvalue(new double[] {v}, 0, 1), "[" + v + "]");
        }
    }

    @ParameterizedTest(name = "zero matrix n = {0}: lambda_max = 0, no NaN")
    @ValueSource(ints = {1, 2, 5, 30})
    void zeroMatrix(int n) {
        assertEquals(0.0, largest(new double[n * n], n));
    }

    @Test
    @DisplayName("diagonal matrices and c I: lambda_max is the largest diagonal entry, exactly (no rotation happens)")
    void diagonalMatrices() {
        double[] diag = {3, -1, 7, 0, 2, -1e-3};
        int n = diag.length;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = diag[i];
        }
        assertEquals(7.0, largest(a, n), "diagonal");
        for (int i = 0; i < n; i++) {
            a[i * n + i] = -diag[i] - 10; // all negative: -9.0 is the largest
        }
        assertEquals(-9.0, largest(a, n), "negative diagonal");
        double[] identity = new double[8 * 8];
        for (int i = 0; i < 8; i++) {
            identity[i * 8 + i] = 3.0;
        }
        assertEquals(3.0, largest(identity, 8), "3 I");
    }

    @Test
    @DisplayName("invariants: lambda_max(A + c I) = lambda_max(A) + c, lambda_max(-A) = -lambda_min(A) (LAPACK)")
    void shiftAndNegation() {
        int n = 15;
        Random rnd = new Random(17);
        double[] a = randomSymmetric(n, rnd);
        double[] desc = DenseSymmetricSpectrum.eigenvalues(a, n);
        double scale = Math.max(Math.abs(desc[0]), Math.abs(desc[n - 1]));
        double base = largest(a, n);
        for (double c : new double[] {-10, -0.5, 3, 100}) {
            double[] shifted = a.clone();
            for (int i = 0; i < n; i++) {
                shifted[i * n + i] += c;
            }
            assertEquals(base + c, largest(shifted, n), LAPACK_AGREEMENT * (scale + Math.abs(c)), "shift " + c);
        }
        assertEquals(-desc[n - 1], largest(scaled(a, -1), n), LAPACK_AGREEMENT * scale, "-A");
    }

    @ParameterizedTest(name = "power-of-two scaling 2^{0}: lambda_max scales bit for bit (the input is rescaled exactly)")
    @ValueSource(ints = {-1000, -500, -1, 1, 7, 600, 1000})
    void powerOfTwoScalingIsExact(int k) {
        int n = 12;
        double[] b = randomSymmetric(n, new Random(11));
        double[] a = scaled(b, Math.scalb(1.0, k));
        assertEquals(Math.scalb(largest(b, n), k), largest(a, n));
    }

    @ParameterizedTest(name = "extreme scale {0}: lambda_max scales, no overflow/underflow/NaN")
    @ValueSource(doubles = {1e300, 1e-300, 1e-310, 1e307})
    void extremeScales(double scale) {
        int n = 12;
        double[] b = randomSymmetric(n, new Random(11));
        double[] a = scaled(b, scale);
        double expected = scale * largest(b, n);
        double[] desc = DenseSymmetricSpectrum.eigenvalues(b, n);
        double spread = scale * Math.max(Math.abs(desc[0]), Math.abs(desc[n - 1]));
        // subnormal inputs carry fewer significant bits: compare relative to what the input holds
        double tol = scale < Double.MIN_NORMAL ? 1e-8 : LAPACK_AGREEMENT;
        double got = largest(a, n);
        assertTrue(Double.isFinite(got), "finite: " + got);
        assertEquals(expected, got, tol * spread, "scale " + scale);
    }

    @Test
    @DisplayName("mixed magnitudes 1e300 and 1e-300 in one matrix: finite and correct to the normwise bound")
    void mixedMagnitudes() {
        double[] a = {
            1e300, 1e-300, 0,
            1e-300, 1e-300, 1e-300,
            0, 1e-300, -2e-300};
        assertEquals(1e300, largest(a, 3), 1e300 * EXACT_TOLERANCE);
        double[] b = {
            -1e300, 1e-300, 0,
            1e-300, 1e-300, 1e-300,
            0, 1e-300, -2e-300};
        double small = largest(b, 3); // true value ~1e-300, below the normwise resolution 1e300 * n * 2^-52
        assertTrue(Double.isFinite(small) && Math.abs(small) <= 1e300 * 1e-14, "within the absolute bound: " + small);
    }

    @Test
    @DisplayName("slice of a larger buffer (offset, row stride, NaN padding) gives the dense result bit for bit")
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
        double[] dense = new double[3 + n * n];
        Arrays.fill(dense, Double.NaN);
        System.arraycopy(a, 0, dense, 3, n * n);
        SymmetricEigen s = new SymmetricEigen(n);
        double expected = s.largestEigenvalue(a, 0, n);
        assertEquals(expected, s.largestEigenvalue(buffer, offset, n, stride), "strided");
        assertEquals(expected, s.largestEigenvalue(dense, 3, n), "dense at offset 3");
        assertMatchesLapack(a, n, expected, "slice");
    }

    @Test
    @DisplayName("one instance reused across sizes (and grown past its initial size) gives fresh-instance results")
    void workspaceReuseAcrossSizes() {
        SymmetricEigen s = new SymmetricEigen(4);
        Random rnd = new Random(9);
        double[] big = randomSymmetric(50, rnd);
        double[] small = randomSymmetric(3, rnd);
        double first = s.largestEigenvalue(big, 0, 50); // grows
        assertEquals(largest(small, 3), s.largestEigenvalue(small, 0, 3), "small after big");
        assertEquals(first, s.largestEigenvalue(big, 0, 50), "big again");
        assertEquals(largest(big, 50), first, "fresh instance");
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
        double got = largest(m, n);
        assertEquals(largest(sym, n), got, EXACT_TOLERANCE * maxAbs(sym), "symmetrised");
        assertMatchesLapack(m, n, got, "non-symmetric input"); // DenseSymmetricSpectrum symmetrises too
    }

    @Test
    @DisplayName("NaN or infinite entry is rejected with its position")
    void nonFiniteEntryRejected() {
        double[] a = {1, 2, 2, Double.NaN};
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new SymmetricEigen(2).largestEigenvalue(a, 0, 2));
        assertTrue(ex.getMessage().contains("[1][1]"), ex.getMessage());
        double[] b = {1, Double.POSITIVE_INFINITY, 0, 1};
        IllegalArgumentException inf = assertThrows(IllegalArgumentException.class,
                () -> new SymmetricEigen(2).largestEigenvalue(b, 0, 2, 2));
        assertTrue(inf.getMessage().contains("[0][1]"), inf.getMessage());
    }

    @Test
    @DisplayName("bad layout (n < 1, stride < n, out of bounds) and bad maxSize are rejected with the shapes")
    void badLayoutRejected() {
        SymmetricEigen s = new SymmetricEigen(3);
        double[] a = new double[9];
        assertThrows(IllegalArgumentException.class, () -> s.largestEigenvalue(a, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> s.largestEigenvalue(null, 0, 1));
        IllegalArgumentException stride = assertThrows(IllegalArgumentException.class,
                () -> s.largestEigenvalue(a, 0, 3, 2));
        assertTrue(stride.getMessage().contains("(3 x 3)"), stride.getMessage());
        IllegalArgumentException bounds = assertThrows(IllegalArgumentException.class,
                () -> s.largestEigenvalue(a, 1, 3));
        assertTrue(bounds.getMessage().contains("(3 x 3)") && bounds.getMessage().contains("length 9"),
                bounds.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.largestEigenvalue(a, -1, 2));
        assertThrows(IllegalArgumentException.class, () -> new SymmetricEigen(0));
        assertThrows(IllegalArgumentException.class, () -> new SymmetricEigen(1 << 16));
    }
}
