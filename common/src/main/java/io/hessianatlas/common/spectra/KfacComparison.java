package io.hessianatlas.common.spectra;

import io.hessianatlas.common.linalg.LinalgSupport;
import io.hessianatlas.common.nd4j.ThetaIndex;

/**
 * How well the Kronecker factorisation {@code A ⊗ G} approximates a dense θ-block {@code H}
 * (docs/design.md §3: KFAC/KFLR quality per layer).
 *
 * <h2>Shapes and index convention</h2>
 * {@code A} is {@code (m x m)} (m = n_{l-1} + 1, input side incl. bias), {@code G} is {@code (n x n)}
 * (n = n_l, output side) and {@code H} is {@code (mn x mn)}; all are row-major {@code double[]}.
 * θ indices are those of {@link ThetaIndex#ofFactors}: θ index {@code t(j, i)} pairs A index j
 * with G index i, so {@code (A ⊗ G)[t(j, i), t(j', i')] = A[j][j'] G[i][i']}.
 *
 * <h2>Formulas</h2>
 * <ul>
 *   <li>Relative Frobenius error
 *       {@code ||H - A ⊗ G||_F / ||H||_F}, with
 *       {@code ||H - A ⊗ G||_F^2 = sum_{j,j'} sum_{i,i'} (H[j n + i][j' n + i'] - A[j][j'] G[i][i'])^2},
 *       evaluated block by block without forming {@code A ⊗ G} (O((mn)^2) time, O(1) extra
 *       memory), with power-of-two scaling so that squaring neither overflows nor underflows.</li>
 *   <li>Top-k eigenspace overlap
 *       {@code ||V_H^T V_K||_F^2 / k}, where {@code V_H} {@code (mn x k)} holds the eigenvectors
 *       of the k largest eigenvalues of H and {@code V_K} {@code (mn x k)} those of {@code A ⊗ G}
 *       (from {@link KroneckerSpectrum}); it equals the mean squared cosine of the principal
 *       angles between the two subspaces: 1 when they coincide, 0 when orthogonal, {@code k / (mn)}
 *       in expectation for random subspaces. It is only well defined when the k-th and (k+1)-th
 *       eigenvalues of both matrices differ.</li>
 * </ul>
 * Shape errors are {@link IllegalArgumentException}s whose message names both shapes.
 */
public final class KfacComparison {

    /**
     * Rounding slack allowed above 1 (or below 0) for the overlap of orthonormal bases before the
     * inputs are declared not orthonormal; within it the result is clamped to [0, 1].
     */
    public static final double OVERLAP_ROUNDING_SLACK = 1e-8;

    private KfacComparison() {
    }

    /**
     * Result of {@link #compare}.
     *
     * @param relativeFrobeniusError {@code ||H - A ⊗ G||_F / ||H||_F}
     * @param topKOverlap            {@code ||V_H^T V_K||_F^2 / k} in [0, 1]
     * @param k                      the subspace dimension used
     * @param frobeniusH             {@code ||H||_F}
     * @param frobeniusDifference    {@code ||H - A ⊗ G||_F}
     */
    public record Result(double relativeFrobeniusError, double topKOverlap, int k,
                         double frobeniusH, double frobeniusDifference) {
    }

    /**
     * Both measures at once (one dense eigen-decomposition of H with vectors, one of each factor).
     *
     * @param h    row-major {@code (hDim x hDim)}, hDim = m n
     * @param a    row-major {@code (m x m)}
     * @param g    row-major {@code (n x n)}
     * @param k    subspace dimension, 1 &lt;= k &lt;= m n
     * @throws IllegalArgumentException on a shape mismatch (naming both shapes), a bad k, or a
     *                                  non-finite entry
     */
    public static Result compare(double[] h, int hDim, double[] a, int m, double[] g, int n, int k) {
        double[] dn = differenceAndNorm(h, hDim, a, m, g, n);
        double overlap = topEigenspaceOverlap(h, hDim, a, m, g, n, k);
        return new Result(ratio(dn[0], dn[1]), overlap, k, dn[1], dn[0]);
    }

    /**
     * {@code ||H - A ⊗ G||_F}, blockwise (see the class comment).
     *
     * @throws IllegalArgumentException on a shape mismatch (naming both shapes) or a non-finite entry
     */
    public static double frobeniusDifference(double[] h, int hDim, double[] a, int m, double[] g, int n) {
        return differenceAndNorm(h, hDim, a, m, g, n)[0];
    }

    /**
     * {@code ||H - A ⊗ G||_F / ||H||_F}; 0 when both H and {@code A ⊗ G} are zero,
     * {@link Double#POSITIVE_INFINITY} when only H is zero.
     *
     * @throws IllegalArgumentException on a shape mismatch (naming both shapes) or a non-finite entry
     */
    public static double relativeFrobeniusError(double[] h, int hDim, double[] a, int m, double[] g, int n) {
        double[] dn = differenceAndNorm(h, hDim, a, m, g, n);
        return ratio(dn[0], dn[1]);
    }

    /**
     * Top-k eigenspace overlap of H and {@code A ⊗ G}: decomposes H densely (LAPACK, with vectors)
     * and A, G via {@link KroneckerSpectrum#ofFactors}.
     *
     * @throws IllegalArgumentException on a shape mismatch (naming both shapes) or k not in [1, m n]
     */
    public static double topEigenspaceOverlap(double[] h, int hDim, double[] a, int m, double[] g, int n, int k) {
        checkShapes(h, hDim, a, m, g, n);
        checkK(k, hDim);
        DenseSymmetricSpectrum hs = DenseSymmetricSpectrum.of(h, hDim, true);
        KroneckerSpectrum ks = KroneckerSpectrum.ofFactors(a, m, g, n, true);
        return topEigenspaceOverlap(hs, ks, k);
    }

    /**
     * Top-k eigenspace overlap from precomputed spectra (both with eigenvectors).
     *
     * @throws IllegalArgumentException if {@code hSpectrum.size() != kron.dimension()} (naming both
     *                                  shapes), k is not in [1, dimension], or vectors are missing
     */
    public static double topEigenspaceOverlap(DenseSymmetricSpectrum hSpectrum, KroneckerSpectrum kron, int k) {
        int dim = hSpectrum.size();
        if (dim != kron.dimension()) {
            throw new IllegalArgumentException("H is " + LinalgSupport.shape(dim, dim) + " but A "
                    + LinalgSupport.shape(kron.sizeA(), kron.sizeA()) + " ⊗ G "
                    + LinalgSupport.shape(kron.sizeG(), kron.sizeG()) + " is "
                    + LinalgSupport.shape(kron.dimension(), kron.dimension()));
        }
        checkK(k, dim);
        if (!hSpectrum.hasEigenvectors() || !kron.hasEigenvectors()) {
            throw new IllegalArgumentException("the overlap needs eigenvectors of both H and A ⊗ G");
        }
        return subspaceOverlap(hSpectrum.topEigenvectors(k), kron.top(k).vectors(), dim, k);
    }

    /**
     * {@code ||U^T V||_F^2 / k} for two {@code (dim x k)} row-major arrays with orthonormal columns
     * (entry {@code [t * k + c]} = component t of column c), clamped to [0, 1].
     *
     * @throws IllegalArgumentException if an array is not {@code (dim x k)} (naming both shapes) or the
     *                                  raw value exceeds 1 by more than {@link #OVERLAP_ROUNDING_SLACK}
     *                                  (columns not orthonormal)
     */
    public static double subspaceOverlap(double[] u, double[] v, int dim, int k) {
        if (dim < 1 || k < 1) {
            throw new IllegalArgumentException("bases must be (dim x k) with dim, k >= 1, got "
                    + LinalgSupport.shape(dim, k));
        }
        for (double[] x : new double[][] {u, v}) {
            if (x == null || x.length != (long) dim * k) {
                throw new IllegalArgumentException("basis " + (x == u ? "U" : "V") + " has "
                        + (x == null ? "no" : String.valueOf(x.length)) + " entries but must be "
                        + LinalgSupport.shape(dim, k) + " = " + (long) dim * k + " entries");
            }
        }
        double[] mtx = new double[k * k];
        for (int t = 0; t < dim; t++) {
            int base = t * k;
            for (int c = 0; c < k; c++) {
                double uc = u[base + c];
                if (uc == 0.0) {
                    continue;
                }
                int row = c * k;
                for (int c2 = 0; c2 < k; c2++) {
                    mtx[row + c2] += uc * v[base + c2];
                }
            }
        }
        double ssq = 0.0;
        for (double x : mtx) {
            ssq += x * x;
        }
        double overlap = ssq / k;
        if (!(overlap <= 1.0 + OVERLAP_ROUNDING_SLACK)) {
            throw new IllegalArgumentException("subspace overlap " + overlap
                    + " > 1: the columns of the (" + dim + " x " + k + ") bases are not orthonormal");
        }
        return Math.min(1.0, Math.max(0.0, overlap));
    }

    // ------------------------------------------------------------------------------------------

    private static double ratio(double num, double den) {
        if (den == 0.0) {
            return num == 0.0 ? 0.0 : Double.POSITIVE_INFINITY;
        }
        return num / den;
    }

    static void checkShapes(double[] h, int hDim, double[] a, int m, double[] g, int n) {
        LinalgSupport.requireSquare("A", a, m);
        LinalgSupport.requireSquare("G", g, n);
        if (m < 1 || n < 1) {
            throw new IllegalArgumentException("A " + LinalgSupport.shape(m, m) + " and G "
                    + LinalgSupport.shape(n, n) + " must be non-empty");
        }
        if ((long) hDim != (long) m * n) {
            throw new IllegalArgumentException("H is " + LinalgSupport.shape(hDim, hDim) + " but A "
                    + LinalgSupport.shape(m, m) + " ⊗ G " + LinalgSupport.shape(n, n) + " is "
                    + LinalgSupport.shape((long) m * n, (long) m * n));
        }
        LinalgSupport.requireSquare("H", h, hDim);
        LinalgSupport.requireFinite("A", a, m);
        LinalgSupport.requireFinite("G", g, n);
        LinalgSupport.requireFinite("H", h, hDim);
    }

    private static void checkK(int k, int dim) {
        if (k < 1 || k > dim) {
            throw new IllegalArgumentException("k = " + k + " must be in [1, " + dim + "] for "
                    + LinalgSupport.shape(dim, dim) + " matrices");
        }
    }

    /**
     * {@code {||H - A ⊗ G||_F, ||H||_F}}: pass 1 finds the largest magnitudes, pass 2 sums squares
     * scaled by a power of two so that the largest term is about 1.
     */
    private static double[] differenceAndNorm(double[] h, int hDim, double[] a, int m, double[] g, int n) {
        checkShapes(h, hDim, a, m, g, n);
        ThetaIndex theta = ThetaIndex.ofFactors(m, n);
        double maxD = 0.0;
        double maxH = 0.0;
        // row t(j, i) of H, then the n consecutive columns t(j2, 0 .. n-1) that meet A[j][j2] G[i][.]
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < n; i++) {
                int hRow = theta.index(j, i) * hDim;
                int gRow = i * n;
                for (int j2 = 0; j2 < m; j2++) {
                    double ajj = a[j * m + j2];
                    int hb = hRow + theta.index(j2, 0);
                    for (int i2 = 0; i2 < n; i2++) {
                        double hv = h[hb + i2];
                        double dv = Math.abs(hv - ajj * g[gRow + i2]);
                        double ah = Math.abs(hv);
                        if (dv > maxD) {
                            maxD = dv;
                        }
                        if (ah > maxH) {
                            maxH = ah;
                        }
                    }
                }
            }
        }
        boolean scaleD = maxD > 0.0 && maxD < Double.POSITIVE_INFINITY;
        boolean scaleH = maxH > 0.0;
        int eD = scaleD ? Math.getExponent(maxD) : 0;
        int eH = scaleH ? Math.getExponent(maxH) : 0;
        double sD = Math.scalb(1.0, -eD);
        double sH = Math.scalb(1.0, -eH);
        double ssqD = 0.0;
        double ssqH = 0.0;
        if (scaleD || scaleH) {
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < n; i++) {
                    int hRow = theta.index(j, i) * hDim;
                    int gRow = i * n;
                    for (int j2 = 0; j2 < m; j2++) {
                        double ajj = a[j * m + j2];
                        int hb = hRow + theta.index(j2, 0);
                        for (int i2 = 0; i2 < n; i2++) {
                            double hv = h[hb + i2];
                            double dv = (hv - ajj * g[gRow + i2]) * sD;
                            double hs = hv * sH;
                            ssqD += dv * dv;
                            ssqH += hs * hs;
                        }
                    }
                }
            }
        }
        double diff = maxD == Double.POSITIVE_INFINITY ? Double.POSITIVE_INFINITY
                : scaleD ? Math.scalb(Math.sqrt(ssqD), eD) : 0.0;
        double norm = scaleH ? Math.scalb(Math.sqrt(ssqH), eH) : 0.0;
        return new double[] {diff, norm};
    }
}
