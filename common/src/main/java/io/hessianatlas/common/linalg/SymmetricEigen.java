package io.hessianatlas.common.linalg;

/**
 * Largest eigenvalue of many small real symmetric matrices (sizes 1 to a few hundred), in plain
 * Java, for the per-sample {@code lambda_max} of docs/design.md §4.6 ({@code SampleScores}: one
 * {@code (k x k)} Gram matrix or one {@code (n x n)} output-side block per sample and layer), where
 * one ND4J call per matrix (20-30 µs of overhead each) would dominate. All eigenvalues of larger
 * or fewer matrices, and eigenvectors, come from {@code DenseSymmetricSpectrum} (LAPACK).
 *
 * <h2>Algorithm</h2>
 * For the {@code (n x n)} input M:
 * <ol>
 *   <li>{@code S = 2^-exp (M + M^T) / 2} with {@code exp = getExponent(max_ij |M_ij|)}, so that
 *       {@code max|M_ij| 2^-exp} lies in [1, 2): an exact power-of-two scaling, which makes the
 *       result free of overflow and underflow for entries from about 1e-300 up to 1e300. Entries of
 *       S below {@link #FLUSH_TO_ZERO} in magnitude are set to zero.</li>
 *   <li>Householder reduction of S to a symmetric tridiagonal {@code T = Q^T S Q} ({@code (n x n)},
 *       diagonal d, subdiagonal e), EISPACK {@code tred1} in JAMA's loop order, Q not formed.</li>
 *   <li>λ_max(T) by Laguerre's iteration on det(T - xI) from the Gershgorin upper bound of T
 *       (a few iterations of one pass over T each, where all eigenvalues by QL cost O(n²)),
 *       until a step is at most {@code n * 2^-52 * ||T||}; the result x is accepted when two Sturm
 *       counts place λ_max(T) in {@code [x - δ, x + δ)} ({@link #CERTIFICATE_FACTOR}).</li>
 *   <li>Otherwise (not observed on random, Gram or clustered matrices, but the guarantee does not
 *       rest on Laguerre's convergence): all n eigenvalues of T by the implicit QL method with
 *       Wilkinson-like shifts (EISPACK {@code tql1}); a subdiagonal entry counts as zero below the
 *       threshold of {@link #CONVERGENCE_EPSILON}; λ_max(T) their maximum.</li>
 *   <li>{@code lambda_max(M) = 2^exp λ_max(T)} (exact rescaling).</li>
 * </ol>
 * The result is accurate to a small multiple of {@code n * 2^-52 * ||S||} (absolute, the usual
 * normwise guarantee); it is stored as {@code lambda_max} in the {@code samples} table, so the
 * order of operations above is part of the output format: changing it changes those values in
 * their last bits.
 *
 * <h2>Matrix layout</h2>
 * A matrix is read from a {@code double[]} in row-major order starting at {@code offset}, with row
 * stride {@code rowStride >= n}: entry (i, j) is {@code a[offset + i * rowStride + j]}. The
 * overload without {@code rowStride} uses {@code rowStride = n} (a dense slice). Only the n x n
 * block is read (padding between rows may hold anything) and the input is never modified.
 *
 * <h2>Threading and allocation</h2>
 * An instance owns its work arrays (sized for {@code maxSize} at construction, about
 * {@code 8 (maxSize^2 + 2 maxSize)} bytes) and is <b>not thread-safe</b>: use one instance per
 * thread (e.g. per Spark partition). Calls allocate nothing, except that a matrix larger than the
 * current size grows the work arrays once.
 */
public final class SymmetricEigen {

    /**
     * Relative convergence threshold of the QL sweep, {@code 2^-52}: for the tridiagonal
     * {@code T} ({@code (n x n)}, diagonal d, subdiagonal e) of the scaled matrix S, a subdiagonal
     * entry is treated as zero when {@code |e_i| <= CONVERGENCE_EPSILON * max_i(|d_i| + |e_i|)}
     * (the maximum taken once, before the sweep), which perturbs the eigenvalues by at most about
     * {@code CONVERGENCE_EPSILON * ||T||}.
     */
    public static final double CONVERGENCE_EPSILON = 0x1p-52;

    /**
     * Flush threshold of the scaled input, {@code 2^-600}: an entry of
     * {@code S = 2^-exp (M + M^T) / 2} ({@code (n x n)}, scaled so that {@code max|M_ij| 2^-exp}
     * lies in [1, 2)) with {@code |S_ij| < FLUSH_TO_ZERO} is set to zero before the reduction. This
     * changes {@code lambda_max(M)} by at most {@code n * FLUSH_TO_ZERO * max|M_ij|}.
     */
    public static final double FLUSH_TO_ZERO = 0x1p-600;

    /**
     * QL sweeps allowed per eigenvalue of the {@code (n x n)} tridiagonal before
     * {@link ArithmeticException} (practically never more than ~4 are needed).
     */
    public static final int MAX_QL_ITERATIONS = 60;

    /**
     * Laguerre iterations allowed on the {@code (n x n)} tridiagonal before the QL fallback (from
     * the Gershgorin bound a few suffice; a tight cluster at the top takes more).
     */
    public static final int MAX_LAGUERRE_ITERATIONS = 40;

    /**
     * Half-width of the Sturm certificate of the Laguerre result in units of the convergence
     * threshold {@code n * 2^-52 * ||T||} ({@code (n x n)} T, ||T|| its largest Gershgorin row
     * sum): λ_max must lie in {@code [x - δ, x + δ)}, δ = 4 of those units.
     */
    public static final double CERTIFICATE_FACTOR = 4.0;

    /** Returned by {@link #load} for an all-zero matrix (whose eigenvalues are all 0). */
    private static final int ZERO_MATRIX = Integer.MIN_VALUE;

    /** The lower triangle of S stored transposed: S(k, j), k >= j, at {@code w[j * n + k]}. */
    private double[] w;
    /** Diagonal of T, then the eigenvalues (unsorted). */
    private double[] d;
    /** Subdiagonal of T (work array of the QL sweep). */
    private double[] e;
    /** Calls that fell back to QL (see {@link #qlFallbacks}). */
    private long qlFallbacks;
    /** Laguerre iterations allowed ({@link #MAX_LAGUERRE_ITERATIONS} but in tests). */
    private final int laguerreIterations;

    /**
     * @param maxSize the largest matrix size expected; work arrays are allocated for it now
     * @throws IllegalArgumentException if maxSize &lt; 1 or {@code maxSize^2} does not fit in an array
     */
    public SymmetricEigen(int maxSize) {
        this(maxSize, MAX_LAGUERRE_ITERATIONS);
    }

    /** As {@link #SymmetricEigen(int)} with another Laguerre budget (0: always QL; for tests). */
    SymmetricEigen(int maxSize, int laguerreIterations) {
        this.laguerreIterations = laguerreIterations;
        if (maxSize < 1) {
            throw new IllegalArgumentException("maxSize must be >= 1, got " + maxSize);
        }
        if ((long) maxSize * maxSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxSize " + maxSize + " too large for a dense work array");
        }
        allocate(maxSize);
    }

    /** Largest eigenvalue of the dense {@code (n x n)} matrix at {@code a[offset ..]} (row stride n). */
    public double largestEigenvalue(double[] a, int offset, int n) {
        return largestEigenvalue(a, offset, n, n);
    }

    /**
     * Largest eigenvalue of the symmetric {@code (n x n)} matrix with entry (i, j) at
     * {@code a[offset + i * rowStride + j]} (symmetrised as {@code (M + M^T) / 2}); 0 for the zero
     * matrix.
     *
     * @throws IllegalArgumentException if n &lt; 1, rowStride &lt; n, the matrix does not fit in
     *                                  {@code a}, or an entry is NaN or infinite
     * @throws ArithmeticException      if the QL iteration fails to converge (not observed in practice)
     */
    public double largestEigenvalue(double[] a, int offset, int n, int rowStride) {
        checkInput(a, offset, n, rowStride);
        int exp = load(a, offset, n, rowStride);
        if (exp == ZERO_MATRIX) {
            return 0.0;
        }
        if (n == 1) {
            return Math.scalb(w[0], exp);
        }
        tridiagonalize(n);
        double top = largestOfTridiagonal(n);
        if (Double.isNaN(top)) {
            qlFallbacks++;
            ql(n);
            top = d[0];
            for (int i = 1; i < n; i++) {
                top = Math.max(top, d[i]);
            }
        }
        return Math.scalb(top, exp);
    }

    /** Calls so far whose Laguerre result was not certified and which ran the QL sweep (for tests). */
    long qlFallbacks() {
        return qlFallbacks;
    }

    /**
     * λ_max of the tridiagonal T (diagonal d, subdiagonal e[1..n), unchanged) by Laguerre's iteration
     * on det(T - xI) from the Gershgorin upper bound, or NaN when the result is not certified (the
     * caller then runs QL). Laguerre's iterates from above an all-real-roots polynomial's largest root
     * decrease monotonically to it, cubically for a simple root; the result x is accepted only when
     * two Sturm counts place λ_max in {@code [x - δ, x + δ)}, δ = {@link #CERTIFICATE_FACTOR}
     * {@code * n * 2^-52 * ||T||}, so a slow or failed convergence costs time, never accuracy.
     *
     * <p>With r_i = p_i / p_{i-1} the ratio of consecutive leading principal minors of T - xI,
     * <pre>
     *   r_1 = d_1 - x,  r_i = d_i - x - e_i² / r_{i-1}
     *   G = Σ_i r_i' / r_i = Σ_j 1/(x - λ_j),   H = Σ_i (r_i'/r_i)² - r_i''/r_i = Σ_j 1/(x - λ_j)²
     *   x  <-  x - n / (G + sqrt((n - 1)(n H - G²)))
     * </pre>
     * one division per row and iteration; r_i' and r_i'' follow from the recurrence's derivatives.
     */
    private double largestOfTridiagonal(int n) {
        final double[] d = this.d;
        final double[] e = this.e;
        double upper = Double.NEGATIVE_INFINITY;
        double norm = 0.0;
        double maxE2 = 0.0;
        for (int i = 0; i < n; i++) {
            double off = Math.abs(e[i]) + (i + 1 < n ? Math.abs(e[i + 1]) : 0.0);
            upper = Math.max(upper, d[i] + off);
            norm = Math.max(norm, Math.abs(d[i]) + off);
            maxE2 = Math.max(maxE2, e[i] * e[i]);
        }
        if (norm == 0.0) {
            return 0.0;
        }
        final double tol = CONVERGENCE_EPSILON * n * norm;
        double x = upper;
        boolean converged = false;
        for (int iter = 0; iter < laguerreIterations && !converged; iter++) {
            double r = d[0] - x;
            if (r == 0.0) {          // x is an eigenvalue of a leading block, so (being >= λ_max) λ_max itself
                converged = true;
                break;
            }
            double inv = 1.0 / r;
            double rp = -1.0;
            double rpp = 0.0;
            double g = rp * inv;
            double h = g * g - rpp * inv;
            for (int i = 1; i < n; i++) {
                double t = e[i] * e[i] * inv;
                double ti = t * inv;
                double rpNext = -1.0 + ti * rp;
                rpp = ti * (rpp - 2.0 * rp * rp * inv);
                rp = rpNext;
                r = d[i] - x - t;
                if (r == 0.0) {
                    converged = true;
                    break;
                }
                inv = 1.0 / r;
                double q = rp * inv;
                g += q;
                h += q * q - rpp * inv;
            }
            if (converged) {
                break;
            }
            if (!(g > 0.0)) {        // x fell below λ_max by rounding: the certificate decides
                break;
            }
            double disc = (n - 1) * (n * h - g * g);
            double step = n / (g + Math.sqrt(Math.max(disc, 0.0)));
            x -= step;
            converged = step <= tol;
        }
        double delta = CERTIFICATE_FACTOR * tol;
        double pivmin = Double.MIN_NORMAL * Math.max(1.0, maxE2);
        if (eigenvaluesBelow(x + delta, n, pivmin) == n && eigenvaluesBelow(x - delta, n, pivmin) < n) {
            return x;
        }
        return Double.NaN;
    }

    /**
     * Sturm count: the number of eigenvalues of T below y, the number of negative pivots of the LDLᵀ
     * factorisation of T - yI (a pivot smaller than pivmin in magnitude taken as -pivmin, as LAPACK's
     * dstebz does).
     */
    private int eigenvaluesBelow(double y, int n, double pivmin) {
        final double[] d = this.d;
        final double[] e = this.e;
        int count = 0;
        double r = d[0] - y;
        for (int i = 0; ; ) {
            if (Math.abs(r) < pivmin) {
                r = -pivmin;
            }
            if (r < 0) {
                count++;
            }
            if (++i == n) {
                return count;
            }
            r = d[i] - y - e[i] * e[i] / r;
        }
    }

    private void allocate(int size) {
        w = new double[size * size];
        d = new double[size];
        e = new double[size];
    }

    private static void checkInput(double[] a, int offset, int n, int rowStride) {
        if (a == null) {
            throw new IllegalArgumentException("matrix array is null");
        }
        if (n < 1) {
            throw new IllegalArgumentException("matrix size n must be >= 1, got " + n);
        }
        if (rowStride < n) {
            throw new IllegalArgumentException("rowStride " + rowStride + " < n " + n + " for a "
                    + LinalgSupport.shape(n, n) + " matrix");
        }
        long last = (long) offset + (long) (n - 1) * rowStride + n; // exclusive end of the last row
        if (offset < 0 || last > a.length) {
            throw new IllegalArgumentException("a " + LinalgSupport.shape(n, n) + " matrix at offset " + offset
                    + " with row stride " + rowStride + " needs indices up to " + (last - 1)
                    + ", but the array has length " + a.length);
        }
    }

    /**
     * Copies the lower triangle of {@code S = 2^-exp (M + M^T)/2}, (k, j) with k >= j, transposed
     * into {@code w[j * n + k]} (so that the tred1 inner loops run over contiguous memory) and
     * returns exp, or {@link #ZERO_MATRIX}.
     */
    private int load(double[] a, int offset, int n, int lda) {
        if (n > d.length) {
            allocate(n);
        }
        double max = 0.0;
        for (int i = 0; i < n; i++) {
            int row = offset + i * lda;
            for (int j = 0; j < n; j++) {
                double ax = Math.abs(a[row + j]);
                if (!(ax <= max)) {
                    if (!(ax <= Double.MAX_VALUE)) {
                        throw new IllegalArgumentException("matrix " + LinalgSupport.shape(n, n)
                                + ": non-finite entry " + a[row + j] + " at [" + i + "][" + j + "]");
                    }
                    max = ax;
                }
            }
        }
        if (max == 0.0) {
            return ZERO_MATRIX;
        }
        int exp = Math.getExponent(max);
        double s = Math.scalb(1.0, -exp);
        double[] w = this.w;
        for (int j = 0; j < n; j++) {
            int rowJ = offset + j * lda;
            for (int k = j; k < n; k++) {
                double v = 0.5 * (a[rowJ + k] * s + a[offset + k * lda + j] * s);
                if (Math.abs(v) < FLUSH_TO_ZERO) {
                    v = 0.0;
                }
                w[j * n + k] = v;
            }
        }
        return exp;
    }

    /**
     * Householder reduction (EISPACK tred1, JAMA's loop order) of the lower triangle stored
     * transposed: element (k, j), k >= j, at w[j * n + k]. Leaves the diagonal of T in d and the
     * subdiagonal in e[1..n) (e[i] couples i-1 and i), e[0] = 0.
     */
    private void tridiagonalize(int n) {
        final double[] w = this.w;
        final double[] d = this.d;
        final double[] e = this.e;
        for (int j = 0; j < n; j++) {
            d[j] = w[j * n + (n - 1)];
        }
        for (int i = n - 1; i > 0; i--) {
            double scale = 0.0;
            double h = 0.0;
            for (int k = 0; k < i; k++) {
                scale += Math.abs(d[k]);
            }
            if (scale == 0.0) {
                e[i] = 0.0;
                for (int j = 0; j < i; j++) {
                    d[j] = w[j * n + (i - 1)];
                }
                continue;
            }
            for (int k = 0; k < i; k++) {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            double f = d[i - 1];
            double g = Math.sqrt(h);
            if (f > 0) {
                g = -g;
            }
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for (int j = 0; j < i; j++) {
                e[j] = 0.0;
            }
            // p = S u (lower triangle only), accumulated into e
            for (int j = 0; j < i; j++) {
                f = d[j];
                int row = j * n;
                g = e[j] + w[row + j] * f;
                for (int k = j + 1; k < i; k++) {
                    double wk = w[row + k];
                    g += wk * d[k];
                    e[k] += wk * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for (int j = 0; j < i; j++) {
                e[j] /= h;
                f += e[j] * d[j];
            }
            double hh = f / (h + h);
            for (int j = 0; j < i; j++) {
                e[j] -= hh * d[j];
            }
            // S <- S - u q^T - q u^T
            for (int j = 0; j < i; j++) {
                f = d[j];
                g = e[j];
                int row = j * n;
                for (int k = j; k < i; k++) {
                    w[row + k] -= (f * e[k] + g * d[k]);
                }
                d[j] = w[row + i - 1];
            }
        }
        for (int i = 0; i < n; i++) {
            d[i] = w[i * n + i];
        }
        e[0] = 0.0;
    }

    /** Implicit QL on (d, e) from {@link #tridiagonalize}; eigenvalues left unsorted in d. */
    private void ql(int n) {
        final double[] d = this.d;
        final double[] e = this.e;
        for (int i = 1; i < n; i++) {
            e[i - 1] = e[i];
        }
        e[n - 1] = 0.0;
        double tst1 = 0.0;
        for (int i = 0; i < n; i++) {
            tst1 = Math.max(tst1, Math.abs(d[i]) + Math.abs(e[i]));
        }
        final double tol = CONVERGENCE_EPSILON * tst1;
        double f = 0.0;
        for (int l = 0; l < n; l++) {
            int m = l;
            while (m < n - 1 && Math.abs(e[m]) > tol) {
                m++;
            }
            if (m > l) {
                int iter = 0;
                do {
                    if (++iter > MAX_QL_ITERATIONS) {
                        throw new ArithmeticException("symmetric QL iteration did not converge for eigenvalue "
                                + l + " of a " + LinalgSupport.shape(n, n) + " matrix");
                    }
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2.0 * e[l]);
                    double r = Math.sqrt(p * p + 1.0);
                    if (p < 0) {
                        r = -r;
                    }
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) {
                        d[i] -= h;
                    }
                    f += h;
                    p = d[m];
                    double c = 1.0;
                    double c2 = 1.0;
                    double c3 = 1.0;
                    double el1 = e[l + 1];
                    double s = 0.0;
                    double s2 = 0.0;
                    for (int i = m - 1; i >= l; i--) {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        double ei = e[i];
                        g = c * ei;
                        h = c * p;
                        r = Math.sqrt(p * p + ei * ei);
                        e[i + 1] = s * r;
                        s = ei / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.abs(e[l]) > tol);
            }
            d[l] += f;
            e[l] = 0.0;
        }
    }
}
