package io.hessianatlas.common.spectra;

import java.util.Arrays;

import io.hessianatlas.common.linalg.LinalgSupport;
import io.hessianatlas.common.nd4j.ThetaIndex;

/**
 * Spectrum of a Kronecker product {@code K = A ⊗ G} from the eigen-decompositions of its factors
 * (the {@code kronecker} method of docs/design.md §4).
 *
 * <h2>Formula</h2>
 * If {@code A = sum_j alpha_j a_j a_j^T} ({@code (m x m)}) and {@code G = sum_i gamma_i g_i g_i^T}
 * ({@code (n x n)}), then {@code A ⊗ G} ({@code (mn x mn)}) has the m n eigenpairs
 * {@code (alpha_j gamma_i, a_j ⊗ g_i)}, exactly. G may be indefinite (exact-Hessian mode), so
 * "top" always means the largest <em>values</em> (not magnitudes) and "bottom" the smallest.
 *
 * <h2>Index convention (θ order, {@link ThetaIndex#ofFactors})</h2>
 * A θ-block index {@code t(j, i)} pairs A index j (input side, {@code 0 <= j < m}) with G
 * index i (output side, {@code 0 <= i < n}), i.e. {@code (A ⊗ G)[t(j, i)][t(j', i')] = A[j][j'] G[i][i']}
 * and the eigenvector {@code a ⊗ g} has entry {@code [t(j, i)] = a[j] * g[i]}.
 *
 * <h2>Factor eigenvectors</h2>
 * Given as row-major square arrays whose <em>columns</em> are the unit eigenvectors (the layout of
 * {@link DenseSymmetricSpectrum#eigenvectors()}): column c of
 * {@code vectorsA} ({@code vectorsA[r * m + c]}) belongs to {@code valuesA[c]}. Factor values may
 * come in any order. Instances are immutable (inputs are copied).
 */
public final class KroneckerSpectrum {

    private final int m;
    private final int n;
    private final ThetaIndex theta;
    private final double[] valuesA;
    private final double[] valuesG;
    private final double[] vectorsA;
    private final double[] vectorsG;

    /**
     * @param valuesA  the m eigenvalues of A (any order)
     * @param vectorsA row-major {@code (m x m)}, column c the eigenvector of {@code valuesA[c]}; or null
     *                 (then only eigenvalues are available)
     * @param valuesG  the n eigenvalues of G
     * @param vectorsG row-major {@code (n x n)}, column c the eigenvector of {@code valuesG[c]}; or null
     * @throws IllegalArgumentException if a vector array does not match its values (naming both shapes),
     *                                  only one vector array is given, or a value is not finite
     */
    public KroneckerSpectrum(double[] valuesA, double[] vectorsA, double[] valuesG, double[] vectorsG) {
        if (valuesA == null || valuesA.length == 0 || valuesG == null || valuesG.length == 0) {
            throw new IllegalArgumentException("factor eigenvalues must be non-empty: A has "
                    + (valuesA == null ? "null" : valuesA.length) + ", G has "
                    + (valuesG == null ? "null" : valuesG.length));
        }
        if ((vectorsA == null) != (vectorsG == null)) {
            throw new IllegalArgumentException("give eigenvectors for both factors or for neither");
        }
        this.m = valuesA.length;
        this.n = valuesG.length;
        if ((long) m * n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("A ⊗ G would be " + LinalgSupport.shape((long) m * n, (long) m * n)
                    + ", too large to enumerate");
        }
        checkVectors("A", valuesA.length, vectorsA);
        checkVectors("G", valuesG.length, vectorsG);
        checkFinite("A", valuesA);
        checkFinite("G", valuesG);
        this.theta = ThetaIndex.ofFactors(m, n);
        this.valuesA = valuesA.clone();
        this.valuesG = valuesG.clone();
        this.vectorsA = vectorsA == null ? null : vectorsA.clone();
        this.vectorsG = vectorsG == null ? null : vectorsG.clone();
    }

    /** From the (dense) spectra of A and G; eigenvectors are used when both have them. */
    public static KroneckerSpectrum of(DenseSymmetricSpectrum a, DenseSymmetricSpectrum g) {
        boolean vectors = a.hasEigenvectors() && g.hasEigenvectors();
        return new KroneckerSpectrum(a.eigenvalues(), vectors ? a.eigenvectors() : null,
                g.eigenvalues(), vectors ? g.eigenvectors() : null);
    }

    /**
     * Decomposes the (symmetrised) factors with {@link DenseSymmetricSpectrum} and combines them.
     *
     * @param a row-major {@code (m x m)}
     * @param g row-major {@code (n x n)}
     * @param computeVectors whether {@link #top}/{@link #bottom} eigenvectors will be needed
     */
    public static KroneckerSpectrum ofFactors(double[] a, int m, double[] g, int n, boolean computeVectors) {
        LinalgSupport.requireSquare("A", a, m);
        LinalgSupport.requireSquare("G", g, n);
        return of(DenseSymmetricSpectrum.of(a, m, computeVectors), DenseSymmetricSpectrum.of(g, n, computeVectors));
    }

    /**
     * All m n eigenvalues {@code alpha_j gamma_i} of {@code A ⊗ G}, sorted descending (each is one
     * rounded product, so exact to half an ulp). Zero products are returned as +0.0.
     */
    public static double[] eigenvalues(double[] valuesA, double[] valuesG) {
        int m = valuesA.length;
        int n = valuesG.length;
        double[] p = new double[Math.multiplyExact(m, n)];
        ThetaIndex theta = ThetaIndex.ofFactors(m, n);
        for (int j = 0; j < m; j++) {
            double aj = valuesA[j];
            for (int i = 0; i < n; i++) {
                p[theta.index(j, i)] = aj * valuesG[i] + 0.0; // + 0.0 turns -0.0 into 0.0
            }
        }
        Arrays.sort(p);
        for (int lo = 0, hi = p.length - 1; lo < hi; lo++, hi--) {
            double t = p[lo];
            p[lo] = p[hi];
            p[hi] = t;
        }
        return p;
    }

    /** m, the size of A. */
    public int sizeA() {
        return m;
    }

    /** n, the size of G. */
    public int sizeG() {
        return n;
    }

    /** m n, the size of {@code A ⊗ G}. */
    public int dimension() {
        return theta.denseDimension();
    }

    /** Whether eigenvectors are available. */
    public boolean hasEigenvectors() {
        return vectorsA != null;
    }

    /** All m n eigenvalues of {@code A ⊗ G}, descending. */
    public double[] eigenvalues() {
        return eigenvalues(valuesA, valuesG);
    }

    /**
     * The k largest eigenvalues of {@code A ⊗ G} with their eigenvectors, in descending order
     * (ranks 1..k). Ties are broken by the smaller θ index {@code t(j, i)}.
     *
     * @throws IllegalArgumentException if k is not in [1, m n]
     */
    public Eigenpairs top(int k) {
        return select(k, true);
    }

    /**
     * The k smallest eigenvalues of {@code A ⊗ G} with their eigenvectors, in <b>ascending</b> order
     * (smallest first; ranks m n, m n - 1, ..., m n - k + 1 in the descending order of docs/design.md §6).
     *
     * @throws IllegalArgumentException if k is not in [1, m n]
     */
    public Eigenpairs bottom(int k) {
        return select(k, false);
    }

    /**
     * k eigenpairs of {@code A ⊗ G}.
     * {@link #vectors()} is row-major {@code (mn x k)}: column c (entries {@code [t * k + c]}) is the
     * unit eigenvector {@code a_{indexA[c]} ⊗ g_{indexG[c]}} of {@code values[c]}; it is null when the
     * spectrum was built without eigenvectors.
     */
    public static final class Eigenpairs {
        private final int dimension;
        private final double[] values;
        private final double[] vectors;
        private final int[] indexA;
        private final int[] indexG;
        private final int[] ranks;

        Eigenpairs(int dimension, double[] values, double[] vectors, int[] indexA, int[] indexG, int[] ranks) {
            this.dimension = dimension;
            this.values = values;
            this.vectors = vectors;
            this.indexA = indexA;
            this.indexG = indexG;
            this.ranks = ranks;
        }

        /** Number of pairs k. */
        public int count() {
            return values.length;
        }

        /** m n, the length of each eigenvector. */
        public int dimension() {
            return dimension;
        }

        /** The k eigenvalues (a copy). */
        public double[] values() {
            return values.clone();
        }

        /** Row-major {@code (mn x k)}, eigenvectors as columns (a copy), or null without vectors. */
        public double[] vectors() {
            return vectors == null ? null : vectors.clone();
        }

        /** Eigenvector c as a length-mn array (a copy). */
        public double[] vector(int c) {
            if (vectors == null) {
                throw new IllegalStateException("Kronecker spectrum was built without eigenvectors");
            }
            int k = values.length;
            double[] v = new double[dimension];
            for (int t = 0; t < dimension; t++) {
                v[t] = vectors[t * k + c];
            }
            return v;
        }

        /** For each pair, the column of the A-eigenvector used (index into the factor's values). */
        public int[] indexA() {
            return indexA.clone();
        }

        /** For each pair, the column of the G-eigenvector used. */
        public int[] indexG() {
            return indexG.clone();
        }

        /** For each pair, its 1-based rank in the full descending order of the m n eigenvalues. */
        public int[] ranks() {
            return ranks.clone();
        }
    }

    // ------------------------------------------------------------------------------------------

    private static final int INSERTION_SORT_MAX = 64;

    private Eigenpairs select(int k, boolean top) {
        final int dim = theta.denseDimension();
        if (k < 1 || k > dim) {
            throw new IllegalArgumentException("k = " + k + " must be in [1, " + dim + "] for A "
                    + LinalgSupport.shape(m, m) + " ⊗ G " + LinalgSupport.shape(n, n));
        }
        double[] p = new double[dim];
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < n; i++) {
                p[theta.index(j, i)] = valuesA[j] * valuesG[i] + 0.0;
            }
        }
        // threshold = k-th largest (top) or k-th smallest (bottom) value
        double[] sorted = p.clone();
        Arrays.sort(sorted);
        double threshold = top ? sorted[dim - k] : sorted[k - 1];
        int[] chosen = new int[k];
        int count = 0;
        for (int t = 0; t < dim; t++) {
            if (top ? p[t] > threshold : p[t] < threshold) {
                chosen[count++] = t;
            }
        }
        // fill with ties at the threshold: ascending index (top), descending index (bottom), so that
        // both agree with one descending order broken by ascending index
        if (top) {
            for (int t = 0; t < dim && count < k; t++) {
                if (p[t] == threshold) {
                    chosen[count++] = t;
                }
            }
        } else {
            for (int t = dim - 1; t >= 0 && count < k; t--) {
                if (p[t] == threshold) {
                    chosen[count++] = t;
                }
            }
        }
        // order the k chosen: (value desc, index asc) for top; (value asc, index desc) for bottom
        if (k <= INSERTION_SORT_MAX) {
            for (int a = 1; a < k; a++) {
                int t = chosen[a];
                int b = a - 1;
                while (b >= 0 && before(p, t, chosen[b], top)) {
                    chosen[b + 1] = chosen[b];
                    b--;
                }
                chosen[b + 1] = t;
            }
        } else {
            Integer[] boxed = new Integer[k];
            for (int a = 0; a < k; a++) {
                boxed[a] = chosen[a];
            }
            Arrays.sort(boxed, (t, u) -> t.equals(u) ? 0 : before(p, t, u, top) ? -1 : 1);
            for (int a = 0; a < k; a++) {
                chosen[a] = boxed[a];
            }
        }
        double[] values = new double[k];
        int[] ia = new int[k];
        int[] ig = new int[k];
        int[] ranks = new int[k];
        for (int c = 0; c < k; c++) {
            int t = chosen[c];
            values[c] = p[t];
            ia[c] = theta.inputSideOf(t);
            ig[c] = theta.outputSideOf(t);
            ranks[c] = top ? c + 1 : dim - c;
        }
        double[] vectors = null;
        if (vectorsA != null) {
            vectors = new double[Math.multiplyExact(dim, k)];
            for (int c = 0; c < k; c++) {
                int ca = ia[c];
                int cg = ig[c];
                for (int j = 0; j < m; j++) {
                    double aj = vectorsA[j * m + ca];
                    for (int i = 0; i < n; i++) {
                        vectors[theta.index(j, i) * k + c] = aj * vectorsG[i * n + cg];
                    }
                }
            }
        }
        return new Eigenpairs(dim, values, vectors, ia, ig, ranks);
    }

    /** Whether index t comes strictly before index u in the requested order. */
    private static boolean before(double[] p, int t, int u, boolean top) {
        if (p[t] != p[u]) {
            return top ? p[t] > p[u] : p[t] < p[u];
        }
        return top ? t < u : t > u;
    }

    private static void checkVectors(String name, int size, double[] vectors) {
        if (vectors != null && vectors.length != (long) size * size) {
            throw new IllegalArgumentException(name + ": " + size + " eigenvalues need a "
                    + LinalgSupport.shape(size, size) + " eigenvector array (" + (long) size * size
                    + " entries), but it has " + vectors.length + " entries"
                    + LinalgSupport.squareHint(vectors.length));
        }
    }

    private static void checkFinite(String name, double[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(name + ": non-finite eigenvalue " + values[i] + " at " + i);
            }
        }
    }
}
