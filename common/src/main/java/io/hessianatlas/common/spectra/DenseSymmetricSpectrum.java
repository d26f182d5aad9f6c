package io.hessianatlas.common.spectra;

import io.hessianatlas.common.linalg.LinalgSupport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Eigen-decomposition of a dense real symmetric matrix (dimension up to a few thousand) by LAPACK
 * {@code dsyev} through ND4J, on a float64 copy of the symmetrised input {@code S = (M + M^T) / 2}.
 * This is the {@code dense} spectrum method of docs/design.md §4; the largest eigenvalue of many
 * tiny matrices comes from {@link SymmetricEigen} instead (each ND4J call costs 20-30 µs).
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>Input: a row-major {@code double[]} of length {@code n * n} ({@code m[i * n + j] = M_ij}),
 *       or a rank-2 {@link INDArray} of any floating type and ordering (views are fine). The input
 *       is never modified.</li>
 *   <li>Eigenvalues are sorted <b>descending</b>: {@code eigenvalue(0)} is {@code lambda_max},
 *       {@code eigenvalue(n - 1)} is {@code lambda_min} (rank r in docs/design.md §6 = index r - 1).</li>
 *   <li>Eigenvectors (only when requested) are unit vectors, mutually orthogonal, with arbitrary
 *       sign. {@link #eigenvectors()} returns them as the <b>columns</b> of a row-major
 *       {@code (n x n)} {@code double[]} V (column c belongs to {@code eigenvalue(c)}), so that
 *       {@code S = V diag(lambda) V^T}; {@link #eigenvectorMatrix()} is the same V as an
 *       {@code (n x n)} float64 INDArray; {@link #topEigenvectors(int)} the first k columns.</li>
 * </ul>
 * Eigenvalues only use LAPACK {@code dsyev} with {@code jobz = 'N'} (about 10 times faster for
 * large n); with vectors {@link Eigen#symmetricGeneralizedEigenvalues(INDArray, boolean)} (which
 * returns ascending eigenvalues and overwrites its argument with the eigenvectors as columns).
 * Instances are immutable.
 */
public final class DenseSymmetricSpectrum {

    private final int n;
    /** Descending. */
    private final double[] values;
    /** Eigenvector c (of values[c]) at vectorRows[c * n .. c * n + n), or null. */
    private final double[] vectorRows;

    private DenseSymmetricSpectrum(int n, double[] values, double[] vectorRows) {
        this.n = n;
        this.values = values;
        this.vectorRows = vectorRows;
    }

    // ------------------------------------------------------------------------------------------
    // Factories
    // ------------------------------------------------------------------------------------------

    /**
     * Decomposes the symmetrised row-major {@code (n x n)} matrix {@code m}.
     *
     * @param computeVectors whether eigenvectors are wanted (n^2 more memory, several times slower)
     * @throws IllegalArgumentException if {@code m.length != n * n} (naming both shapes), n &lt; 1,
     *                                  or an entry is NaN or infinite
     * @throws ArithmeticException      if LAPACK reports failure to converge
     */
    public static DenseSymmetricSpectrum of(double[] m, int n, boolean computeVectors) {
        LinalgSupport.requireSquare("matrix", m, n);
        if (n < 1) {
            throw new IllegalArgumentException("matrix size must be >= 1, got " + LinalgSupport.shape(n, n));
        }
        LinalgSupport.requireFinite("matrix " + LinalgSupport.shape(n, n), m, n);
        return decompose(symmetrised(m, n), n, computeVectors);
    }

    /**
     * Decomposes the symmetrised square matrix {@code m} (any floating data type and ordering;
     * it is copied to float64 first).
     *
     * @throws IllegalArgumentException if {@code m} is not a square matrix (naming its shape) or
     *                                  has a NaN or infinite entry
     */
    public static DenseSymmetricSpectrum of(INDArray m, boolean computeVectors) {
        int n = requireSquare(m);
        double[] flat = toRowMajor(m, n);
        LinalgSupport.requireFinite("matrix " + LinalgSupport.shape(n, n), flat, n);
        return decompose(symmetrised(flat, n), n, computeVectors);
    }

    /** Eigenvalues only, descending, of the symmetrised row-major {@code (n x n)} matrix. */
    public static double[] eigenvalues(double[] m, int n) {
        return of(m, n, false).values;
    }

    /** Eigenvalues only, descending, of the symmetrised square matrix. */
    public static double[] eigenvalues(INDArray m) {
        return of(m, false).values;
    }

    // ------------------------------------------------------------------------------------------
    // Accessors
    // ------------------------------------------------------------------------------------------

    /** The matrix dimension n. */
    public int size() {
        return n;
    }

    /** All n eigenvalues, descending (a copy). */
    public double[] eigenvalues() {
        return values.clone();
    }

    /** The eigenvalue of (0-based) descending position c; {@code eigenvalue(0)} is the largest. */
    public double eigenvalue(int c) {
        return values[c];
    }

    /** Largest eigenvalue. */
    public double largest() {
        return values[0];
    }

    /** Smallest eigenvalue. */
    public double smallest() {
        return values[n - 1];
    }

    /** Whether eigenvectors were computed. */
    public boolean hasEigenvectors() {
        return vectorRows != null;
    }

    /**
     * The unit eigenvector of {@code eigenvalue(c)} (length n, a copy).
     *
     * @throws IllegalStateException if the spectrum was computed without eigenvectors
     */
    public double[] eigenvector(int c) {
        requireVectors();
        if (c < 0 || c >= n) {
            throw new IndexOutOfBoundsException("eigenvector " + c + " of a " + LinalgSupport.shape(n, n) + " matrix");
        }
        double[] v = new double[n];
        System.arraycopy(vectorRows, c * n, v, 0, n);
        return v;
    }

    /**
     * V as a row-major {@code (n x n)} array: {@code V[r * n + c]} is component r of the eigenvector
     * of {@code eigenvalue(c)} (eigenvectors are the columns).
     */
    public double[] eigenvectors() {
        return topEigenvectors(n);
    }

    /**
     * The first k columns of V (eigenvectors of the k largest eigenvalues) as a row-major
     * {@code (n x k)} array: entry {@code [r * k + c]} is component r of eigenvector c.
     *
     * @throws IllegalArgumentException if k is not in [1, n]
     */
    public double[] topEigenvectors(int k) {
        requireVectors();
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("k = " + k + " eigenvectors requested from a "
                    + LinalgSupport.shape(n, n) + " matrix");
        }
        double[] out = new double[n * k];
        for (int c = 0; c < k; c++) {
            int src = c * n;
            for (int r = 0; r < n; r++) {
                out[r * k + c] = vectorRows[src + r];
            }
        }
        return out;
    }

    /** V as an {@code (n x n)} float64 INDArray whose column c is the eigenvector of {@code eigenvalue(c)}. */
    public INDArray eigenvectorMatrix() {
        requireVectors();
        // vectorRows is V stored column-major
        return Nd4j.create(vectorRows.clone(), new long[] {n, n}, 'f');
    }

    /** The eigenvalues as a float64 vector of length n, descending. */
    public INDArray eigenvalueVector() {
        return Nd4j.create(values.clone(), new long[] {n}, DataType.DOUBLE);
    }

    private void requireVectors() {
        if (vectorRows == null) {
            throw new IllegalStateException("spectrum was computed without eigenvectors (computeVectors = false)");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Trace and Frobenius norm
    // ------------------------------------------------------------------------------------------

    /** {@code tr M = sum_i M_ii} of the row-major {@code (n x n)} matrix. */
    public static double trace(double[] m, int n) {
        LinalgSupport.requireSquare("matrix", m, n);
        double t = 0.0;
        for (int i = 0; i < n; i++) {
            t += m[i * n + i];
        }
        return t;
    }

    /** {@code tr M} of a square INDArray. */
    public static double trace(INDArray m) {
        int n = requireSquare(m);
        double t = 0.0;
        for (int i = 0; i < n; i++) {
            t += m.getDouble(i, i);
        }
        return t;
    }

    /**
     * {@code ||M||_F = sqrt(sum_ij M_ij^2)} of the row-major {@code (n x n)} matrix, computed with
     * power-of-two scaling so that entries up to 1e300 or down to 1e-300 neither overflow nor
     * underflow.
     */
    public static double frobeniusNorm(double[] m, int n) {
        LinalgSupport.requireSquare("matrix", m, n);
        return LinalgSupport.frobenius(m, 0, m.length);
    }

    /** {@code ||M||_F} of an INDArray of any shape (overflow-safe, as the double[] version). */
    public static double frobeniusNorm(INDArray m) {
        double[] flat = m.dup('c').castTo(DataType.DOUBLE).data().asDouble();
        return LinalgSupport.frobenius(flat, 0, (int) m.length());
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    private static int requireSquare(INDArray m) {
        if (m == null) {
            throw new IllegalArgumentException("matrix is null");
        }
        long[] s = m.shape();
        if (m.rank() != 2 || s[0] != s[1] || s[0] < 1) {
            throw new IllegalArgumentException("expected a square matrix (n x n) with n >= 1, got shape "
                    + java.util.Arrays.toString(s));
        }
        if (s[0] * s[0] > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("matrix " + LinalgSupport.shape(s[0], s[1]) + " too large");
        }
        return (int) s[0];
    }

    /** Row-major float64 copy of a square INDArray (handles views, 'f' order and other types). */
    private static double[] toRowMajor(INDArray m, int n) {
        INDArray c = m.dup('c');
        if (c.dataType() != DataType.DOUBLE) {
            c = c.castTo(DataType.DOUBLE);
        }
        double[] flat = c.data().asDouble();
        if (flat.length != n * n) {
            double[] exact = new double[n * n];
            System.arraycopy(flat, 0, exact, 0, n * n);
            flat = exact;
        }
        return flat;
    }

    /** (M + M^T)/2, written as 0.5 a + 0.5 b so that entries near Double.MAX_VALUE do not overflow. */
    private static double[] symmetrised(double[] m, int n) {
        double[] s = new double[n * n];
        for (int i = 0; i < n; i++) {
            s[i * n + i] = m[i * n + i];
            for (int j = 0; j < i; j++) {
                double v = 0.5 * m[i * n + j] + 0.5 * m[j * n + i];
                s[i * n + j] = v;
                s[j * n + i] = v;
            }
        }
        return s;
    }

    private static DenseSymmetricSpectrum decompose(double[] sym, int n, boolean computeVectors) {
        // sym is symmetric, so its row-major data is also its column-major data: build an 'f' array
        // so that LAPACK works in place (no transposition) and the eigenvectors come back contiguous.
        INDArray a = Nd4j.create(sym, new long[] {n, n}, 'f');
        double[] asc;
        double[] rows = null;
        if (computeVectors) {
            INDArray ev = Eigen.symmetricGeneralizedEigenvalues(a, true);
            asc = ev.toDoubleVector();
            // 'a' now holds the eigenvectors as its columns; in 'f' order column k is contiguous.
            double[] mem = a.ordering() == 'f' ? a.data().asDouble() : a.dup('f').data().asDouble();
            rows = new double[n * n];
            for (int c = 0; c < n; c++) {
                System.arraycopy(mem, (n - 1 - c) * n, rows, c * n, n); // descending order
            }
            checkFinite(rows, "eigenvectors", n);
        } else {
            INDArray ev = Nd4j.create(DataType.DOUBLE, n);
            int info = Nd4j.getBlasWrapper().lapack().syev('N', 'L', a, ev);
            if (info != 0) {
                throw new ArithmeticException("LAPACK dsyev failed with info = " + info + " for a "
                        + LinalgSupport.shape(n, n) + " matrix");
            }
            asc = ev.toDoubleVector();
        }
        if (asc.length != n) {
            throw new IllegalStateException("LAPACK returned " + asc.length + " eigenvalues for a "
                    + LinalgSupport.shape(n, n) + " matrix");
        }
        checkFinite(asc, "eigenvalues", n);
        double[] desc = new double[n];
        for (int i = 0; i < n; i++) {
            desc[i] = asc[n - 1 - i];
        }
        // dsyev returns ascending values; guard against an unsorted result all the same
        for (int i = 1; i < n; i++) {
            if (desc[i] > desc[i - 1]) {
                throw new IllegalStateException("LAPACK eigenvalues not sorted at " + i + " for a "
                        + LinalgSupport.shape(n, n) + " matrix");
            }
        }
        return new DenseSymmetricSpectrum(n, desc, rows);
    }

    private static void checkFinite(double[] x, String what, int n) {
        for (double v : x) {
            if (!Double.isFinite(v)) {
                throw new ArithmeticException("LAPACK dsyev returned non-finite " + what + " for a "
                        + LinalgSupport.shape(n, n) + " matrix (did not converge)");
            }
        }
    }
}
