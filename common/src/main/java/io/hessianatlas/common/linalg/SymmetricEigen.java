package io.hessianatlas.common.linalg;

/**
 * Plain-Java eigen-solver for many small real symmetric matrices (sizes 1 to a few hundred), for
 * hot loops such as the per-sample scores of DESIGN.md section 4, where one ND4J call per matrix
 * (20-30 µs of overhead each) would dominate.
 *
 * <h2>Algorithm</h2>
 * Householder reduction to tridiagonal form followed by the implicit QL method with Wilkinson-like
 * shifts: the EISPACK {@code tred1/tql1} pair for eigenvalues only and {@code tred2/tql2} (as in
 * JAMA) when eigenvectors are wanted. The input is symmetrised, {@code S = (M + M^T) / 2}, and
 * scaled by an exact power of two so that {@code max|S_ij|} lies in [1, 2) before the reduction,
 * which makes the result free of overflow and underflow for entries from about 1e-300 up to 1e300
 * (entries below {@link #FLUSH_TO_ZERO} times the largest one are set to zero; they cannot change
 * any eigenvalue by more than {@code n * FLUSH_TO_ZERO * max|S_ij|}). A subdiagonal entry of the
 * tridiagonal matrix T is treated as zero when {@code |e_i| <= } {@link #CONVERGENCE_EPSILON}
 * {@code * max_i(|d_i| + |e_i|)}, so eigenvalues are accurate to a small multiple of
 * {@code n * 2^-52 * ||S||} (absolute, the usual normwise guarantee).
 *
 * <h2>Matrix layout</h2>
 * A matrix is read from a {@code double[]} in row-major order starting at {@code offset}, with row
 * stride {@code rowStride >= n}: entry (i, j) is {@code a[offset + i * rowStride + j]}. The
 * overloads without {@code rowStride} use {@code rowStride = n} (a dense slice). The input is never
 * modified. Eigenvalues are returned in ascending order; eigenvectors (from
 * {@link #decompose}) are the <em>columns</em> of a row-major {@code (n x n)} block, column c
 * belonging to eigenvalue c, so that {@code S = V diag(values) V^T} and {@code V^T V = I}.
 *
 * <h2>Threading and allocation</h2>
 * An instance owns its work arrays (sized for {@code maxSize} at construction, about
 * {@code 8 (maxSize^2 + 2 maxSize)} bytes) and is <b>not thread-safe</b>: use one instance per
 * thread (e.g. per Spark partition). Calls allocate nothing, except that a matrix larger than the
 * current capacity grows the work arrays once.
 */
public final class SymmetricEigen {

    /** Relative threshold below which a subdiagonal entry of T counts as zero: 2^-52. */
    public static final double CONVERGENCE_EPSILON = 0x1p-52;

    /** Entries smaller than this times the largest entry are set to zero before the reduction: 2^-600. */
    public static final double FLUSH_TO_ZERO = 0x1p-600;

    /** QL sweeps allowed per eigenvalue before {@link ArithmeticException} (practically never more than ~4 are needed). */
    public static final int MAX_QL_ITERATIONS = 60;

    private double[] w;
    private double[] d;
    private double[] e;
    private int capacity;

    /**
     * @param maxSize the largest matrix size expected; work arrays are allocated for it now
     * @throws IllegalArgumentException if maxSize &lt; 1
     */
    public SymmetricEigen(int maxSize) {
        if (maxSize < 1) {
            throw new IllegalArgumentException("maxSize must be >= 1, got " + maxSize);
        }
        if ((long) maxSize * maxSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxSize " + maxSize + " too large for a dense work array");
        }
        allocate(maxSize);
    }

    /** The size the work arrays currently accommodate without growing. */
    public int capacity() {
        return capacity;
    }

    // ------------------------------------------------------------------------------------------
    // Public API
    // ------------------------------------------------------------------------------------------

    /**
     * Eigenvalues of the symmetric {@code (n x n)} matrix stored densely (row stride n) at
     * {@code a[offset ..]}, ascending, into {@code out[outOffset .. outOffset + n)}.
     *
     * @see #eigenvalues(double[], int, int, int, double[], int)
     */
    public void eigenvalues(double[] a, int offset, int n, double[] out, int outOffset) {
        eigenvalues(a, offset, n, n, out, outOffset);
    }

    /**
     * Eigenvalues of the symmetric {@code (n x n)} matrix with entry (i, j) at
     * {@code a[offset + i * rowStride + j]}, ascending, into {@code out[outOffset .. outOffset + n)}.
     * Non-symmetric input is symmetrised as {@code (M + M^T) / 2}.
     *
     * @throws IllegalArgumentException if n &lt; 1, rowStride &lt; n, the matrix does not fit in
     *                                  {@code a}, the output does not fit in {@code out}, or an entry
     *                                  is NaN or infinite
     * @throws ArithmeticException      if the QL iteration fails to converge (not observed in practice)
     */
    public void eigenvalues(double[] a, int offset, int n, int rowStride, double[] out, int outOffset) {
        checkInput(a, offset, n, rowStride);
        checkOutput("out", out, outOffset, n);
        int exp = load(a, offset, n, rowStride, false);
        if (exp == ZERO_MATRIX) {
            for (int i = 0; i < n; i++) {
                out[outOffset + i] = 0.0;
            }
            return;
        }
        solveValues(n);
        insertionSort(d, n);
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Math.scalb(d[i], exp);
        }
    }

    /** Largest eigenvalue of the dense {@code (n x n)} matrix at {@code a[offset ..]} (row stride n). */
    public double largestEigenvalue(double[] a, int offset, int n) {
        return largestEigenvalue(a, offset, n, n);
    }

    /**
     * Largest eigenvalue of the symmetric {@code (n x n)} matrix with entry (i, j) at
     * {@code a[offset + i * rowStride + j]} (symmetrised as {@code (M + M^T) / 2}).
     *
     * @throws IllegalArgumentException as {@link #eigenvalues(double[], int, int, int, double[], int)}
     */
    public double largestEigenvalue(double[] a, int offset, int n, int rowStride) {
        return extremeEigenvalue(a, offset, n, rowStride, true);
    }

    /** Smallest eigenvalue of the dense {@code (n x n)} matrix at {@code a[offset ..]} (row stride n). */
    public double smallestEigenvalue(double[] a, int offset, int n) {
        return smallestEigenvalue(a, offset, n, n);
    }

    /** Smallest eigenvalue; layout as {@link #largestEigenvalue(double[], int, int, int)}. */
    public double smallestEigenvalue(double[] a, int offset, int n, int rowStride) {
        return extremeEigenvalue(a, offset, n, rowStride, false);
    }

    /**
     * Full decomposition {@code S = V diag(values) V^T} of the symmetric {@code (n x n)} matrix with
     * entry (i, j) at {@code a[offset + i * rowStride + j]} (symmetrised as {@code (M + M^T) / 2}).
     * Meant for small matrices (the cost is about 9 n^3 flops against 4/3 n^3 for eigenvalues only).
     *
     * @param values        receives the n eigenvalues, ascending, at {@code values[valuesOffset ..]}
     * @param vectors       receives V as a dense row-major {@code (n x n)} block at
     *                      {@code vectors[vectorsOffset ..]}: column c, i.e. entries
     *                      {@code vectors[vectorsOffset + r * n + c]} for r = 0..n-1, is the unit
     *                      eigenvector of {@code values[valuesOffset + c]}; the sign is arbitrary
     * @throws IllegalArgumentException as {@link #eigenvalues(double[], int, int, int, double[], int)},
     *                                  or if {@code vectors} is too short
     */
    public void decompose(double[] a, int offset, int n, int rowStride,
                          double[] values, int valuesOffset, double[] vectors, int vectorsOffset) {
        checkInput(a, offset, n, rowStride);
        checkOutput("values", values, valuesOffset, n);
        checkOutput("vectors", vectors, vectorsOffset, (long) n * n);
        int exp = load(a, offset, n, rowStride, true);
        if (exp == ZERO_MATRIX) {
            for (int i = 0; i < n; i++) {
                values[valuesOffset + i] = 0.0;
                for (int j = 0; j < n; j++) {
                    vectors[vectorsOffset + i * n + j] = i == j ? 1.0 : 0.0;
                }
            }
            return;
        }
        tridiagonalizeWithVectors(n);
        transposeInPlace(w, n); // rows of w are now the (accumulated) eigenvectors
        qlWithVectors(n);
        sortWithVectors(n);
        for (int c = 0; c < n; c++) {
            values[valuesOffset + c] = Math.scalb(d[c], exp);
            int uc = c * n;
            for (int r = 0; r < n; r++) {
                vectors[vectorsOffset + r * n + c] = w[uc + r];
            }
        }
    }

    /** {@link #decompose(double[], int, int, int, double[], int, double[], int)} with row stride n. */
    public void decompose(double[] a, int offset, int n, double[] values, int valuesOffset,
                          double[] vectors, int vectorsOffset) {
        decompose(a, offset, n, n, values, valuesOffset, vectors, vectorsOffset);
    }

    /**
     * Convenience for non-hot code: ascending eigenvalues of the dense row-major {@code (n x n)}
     * matrix {@code a} (allocates a solver and the result).
     *
     * @throws IllegalArgumentException if {@code a.length != n * n} (message names both shapes)
     */
    public static double[] eigenvaluesOf(double[] a, int n) {
        LinalgSupport.requireSquare("matrix", a, n);
        double[] out = new double[n];
        new SymmetricEigen(Math.max(1, n)).eigenvalues(a, 0, n, out, 0);
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Loading, checks
    // ------------------------------------------------------------------------------------------

    private static final int ZERO_MATRIX = Integer.MIN_VALUE;

    private void allocate(int size) {
        w = new double[size * size];
        d = new double[size];
        e = new double[size];
        capacity = size;
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

    private static void checkOutput(String name, double[] out, int outOffset, long len) {
        if (out == null) {
            throw new IllegalArgumentException(name + " array is null");
        }
        if (outOffset < 0 || outOffset + len > out.length) {
            throw new IllegalArgumentException(name + ": " + len + " entries at offset " + outOffset
                    + " do not fit in an array of length " + out.length);
        }
    }

    /**
     * Copies {@code 2^-exp (M + M^T)/2} into the work array and returns exp, or ZERO_MATRIX.
     * {@code full == false}: only the lower triangle (k, j), k >= j, stored transposed at
     * {@code w[j * n + k]} (so that the tred1 inner loops run over contiguous memory).
     * {@code full == true}: the whole symmetric matrix, row-major {@code w[i * n + j]}.
     */
    private int load(double[] a, int offset, int n, int lda, boolean full) {
        if (n > capacity) {
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
                if (full) {
                    w[j * n + k] = v;
                    w[k * n + j] = v;
                } else {
                    w[j * n + k] = v;
                }
            }
        }
        return exp;
    }

    private double extremeEigenvalue(double[] a, int offset, int n, int rowStride, boolean largest) {
        checkInput(a, offset, n, rowStride);
        int exp = load(a, offset, n, rowStride, false);
        if (exp == ZERO_MATRIX) {
            return 0.0;
        }
        solveValues(n);
        double best = d[0];
        for (int i = 1; i < n; i++) {
            double v = d[i];
            if (largest ? v > best : v < best) {
                best = v;
            }
        }
        return Math.scalb(best, exp);
    }

    // ------------------------------------------------------------------------------------------
    // Eigenvalues only: tred1 + tql1
    // ------------------------------------------------------------------------------------------

    /** Eigenvalues (scaled, unsorted) into d[0..n). */
    private void solveValues(int n) {
        if (n == 1) {
            d[0] = w[0];
            return;
        }
        tridiagonalizeValues(n);
        qlValues(n);
    }

    /**
     * Householder reduction (EISPACK tred1, JAMA's loop order) of the lower triangle stored
     * transposed: element (k, j), k >= j, at w[j * n + k]. Leaves the diagonal of T in d and the
     * subdiagonal in e[1..n) (e[i] couples i-1 and i), e[0] = 0.
     */
    private void tridiagonalizeValues(int n) {
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

    /** Implicit QL on (d, e) from {@link #tridiagonalizeValues}; eigenvalues left unsorted in d. */
    private void qlValues(int n) {
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

    private static void insertionSort(double[] x, int n) {
        for (int i = 1; i < n; i++) {
            double v = x[i];
            int j = i - 1;
            while (j >= 0 && x[j] > v) {
                x[j + 1] = x[j];
                j--;
            }
            x[j + 1] = v;
        }
    }

    // ------------------------------------------------------------------------------------------
    // With eigenvectors: tred2 + tql2 (JAMA), V row-major in w
    // ------------------------------------------------------------------------------------------

    /** JAMA tred2 on the full symmetric matrix in w (row-major); leaves the orthogonal Q in w. */
    private void tridiagonalizeWithVectors(int n) {
        final double[] v = this.w;
        final double[] d = this.d;
        final double[] e = this.e;
        final int last = (n - 1) * n;
        for (int j = 0; j < n; j++) {
            d[j] = v[last + j];
        }
        for (int i = n - 1; i > 0; i--) {
            double scale = 0.0;
            double h = 0.0;
            for (int k = 0; k < i; k++) {
                scale += Math.abs(d[k]);
            }
            if (scale == 0.0) {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++) {
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0.0;
                    v[j * n + i] = 0.0;
                }
            } else {
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
                for (int j = 0; j < i; j++) {
                    f = d[j];
                    v[j * n + i] = f;
                    g = e[j] + v[j * n + j] * f;
                    for (int k = j + 1; k <= i - 1; k++) {
                        g += v[k * n + j] * d[k];
                        e[k] += v[k * n + j] * f;
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
                for (int j = 0; j < i; j++) {
                    f = d[j];
                    g = e[j];
                    for (int k = j; k <= i - 1; k++) {
                        v[k * n + j] -= (f * e[k] + g * d[k]);
                    }
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0.0;
                }
            }
            d[i] = h;
        }
        // accumulate transformations
        for (int i = 0; i < n - 1; i++) {
            v[last + i] = v[i * n + i];
            v[i * n + i] = 1.0;
            double h = d[i + 1];
            if (h != 0.0) {
                for (int k = 0; k <= i; k++) {
                    d[k] = v[k * n + i + 1] / h;
                }
                for (int j = 0; j <= i; j++) {
                    double g = 0.0;
                    for (int k = 0; k <= i; k++) {
                        g += v[k * n + i + 1] * v[k * n + j];
                    }
                    for (int k = 0; k <= i; k++) {
                        v[k * n + j] -= g * d[k];
                    }
                }
            }
            for (int k = 0; k <= i; k++) {
                v[k * n + i + 1] = 0.0;
            }
        }
        for (int j = 0; j < n; j++) {
            d[j] = v[last + j];
            v[last + j] = 0.0;
        }
        v[last + n - 1] = 1.0;
        e[0] = 0.0;
    }

    private static void transposeInPlace(double[] m, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double t = m[i * n + j];
                m[i * n + j] = m[j * n + i];
                m[j * n + i] = t;
            }
        }
    }

    /** JAMA tql2 with the eigenvector matrix stored transposed (row c of w = vector c). */
    private void qlWithVectors(int n) {
        final double[] u = this.w;
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
                        int ui = i * n;
                        int ui1 = ui + n;
                        for (int k = 0; k < n; k++) {
                            double hk = u[ui1 + k];
                            double vk = u[ui + k];
                            u[ui1 + k] = s * vk + c * hk;
                            u[ui + k] = c * vk - s * hk;
                        }
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

    /** Selection sort of d ascending, swapping the matching rows of w. */
    private void sortWithVectors(int n) {
        final double[] u = this.w;
        final double[] d = this.d;
        for (int i = 0; i < n - 1; i++) {
            int k = i;
            double p = d[i];
            for (int j = i + 1; j < n; j++) {
                if (d[j] < p) {
                    k = j;
                    p = d[j];
                }
            }
            if (k != i) {
                d[k] = d[i];
                d[i] = p;
                int ri = i * n;
                int rk = k * n;
                for (int j = 0; j < n; j++) {
                    double t = u[ri + j];
                    u[ri + j] = u[rk + j];
                    u[rk + j] = t;
                }
            }
        }
    }
}
