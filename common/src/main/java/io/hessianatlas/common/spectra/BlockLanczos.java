package io.hessianatlas.common.spectra;

import java.util.Random;

import io.hessianatlas.common.linalg.LinalgSupport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Extreme eigenpairs of a symmetric operator known only through block products, by block Lanczos
 * with full reorthogonalisation (classical Gram-Schmidt against the whole basis, a second round
 * whenever the first removed more than a fraction {@link #SECOND_ROUND} of a column's norm — the
 * Daniel–Gragg–Kaufman–Stewart criterion, under which one round already leaves the column
 * orthogonal to working precision).
 *
 * <pre>
 *   H Q_j = Q_{j-1} B_{j-1}ᵀ + Q_j A_j + Q_{j+1} B_j        Q_j (d x b) orthonormal, A_j, B_j (b x b)
 *   T = block-tridiag(B_{j-1}, A_j, B_jᵀ)                    ((s b) x (s b)) after s steps
 *   Ritz pair (θ, Q s) of T;  ||H y − θ y|| = ||B_s s_last||  (s_last: the last b entries of s)
 * </pre>
 * Each step is ONE call of {@link SymmetricOperator#apply} on a (d x b) block: on a cluster, one
 * pass over the data. The iteration stops when the wanted Ritz pairs (top-k, and bottom-k when
 * asked) have residual ≤ tolerance · max|θ|, when the Krylov space is exhausted (then T is exact),
 * or after {@code maxSteps}. A breakdown (rank-deficient block) is continued with random vectors
 * orthogonal to the basis, so exact invariant subspaces do not stop the search. Operators of extreme
 * scale (a nearly dead layer's H of 1e-200) are rescaled by an exact power of two after the first
 * product, so that vector norms do not underflow (which made the Ritz values of such an H wrong).
 */
public final class BlockLanczos {
    /** Default relative residual tolerance. */
    public static final double DEFAULT_TOLERANCE = 1e-10;
    /** maxBasis of no bound: the basis keeps the whole Krylov space (no restart). */
    public static final int UNBOUNDED_BASIS = 0;
    /** Blocks in {@link #defaultBasis(int, boolean, int)}. */
    public static final int DEFAULT_BASIS_BLOCKS = 20;
    /** Columns whose norm falls below this fraction of the block's norm before orthogonalisation are deflated. */
    static final double DEFLATION = 1e-11;
    /**
     * A Gram-Schmidt round is repeated when it leaves a column with less than this fraction of its norm
     * (η = 1/√2, "twice is enough": Daniel, Gragg, Kaufman and Stewart 1976; Giraud et al. 2005).
     * In Lanczos the three-term recurrence has already removed nearly all of the basis's component, so
     * the second round — half of the driver's reorthogonalisation against a basis of hundreds of
     * blocks — is mostly skipped.
     */
    static final double SECOND_ROUND = 1 / Math.sqrt(2);

    private BlockLanczos() {
    }

    /**
     * The converged (or best) eigenpairs and what they cost.
     *
     * @param topValues       the k largest Ritz values, descending
     * @param topResiduals    ‖H y − θ y‖ of each top Ritz pair
     * @param topVectors      top Ritz vectors as columns {@code (d x k)}, or null when not requested
     * @param bottomValues    the k smallest Ritz values, ascending (empty unless requested)
     * @param bottomVectors   bottom Ritz vectors as columns {@code (d x k)}, or null when not requested
     * @param steps           block steps = calls of the operator = passes over the data
     * @param products        matrix-vector products = steps · block size
     * @param krylovDimension the basis's dimension at the end (with restarts: of the last restarted basis)
     * @param restarts        thick restarts (0 unless the basis was bounded and filled)
     */
    public record Result(double[] topValues, double[] topResiduals, INDArray topVectors, double[] bottomValues,
                         double[] bottomResiduals, INDArray bottomVectors, int steps, int products, int krylovDimension,
                         int restarts, boolean converged) {
        @Override
        public double[] topValues() {
            return topValues.clone();
        }

        @Override
        public double[] topResiduals() {
            return topResiduals.clone();
        }

        @Override
        public double[] bottomValues() {
            return bottomValues.clone();
        }

        @Override
        public double[] bottomResiduals() {
            return bottomResiduals.clone();
        }

        /**
         * This result with the steps and products of an earlier iteration added (a refinement started from
         * that iteration's Ritz vectors: the cost of both, the values and the convergence of this one).
         */
        public Result after(Result earlier) {
            return new Result(topValues, topResiduals, topVectors, bottomValues, bottomResiduals, bottomVectors,
                    earlier.steps + steps, earlier.products + products, krylovDimension, earlier.restarts + restarts,
                    converged);
        }

        /** The largest ‖H y − θ y‖ over the reported Ritz pairs (top and bottom). */
        public double maxResidual() {
            double m = 0;
            for (double r : topResiduals) {
                m = Math.max(m, r);
            }
            for (double r : bottomResiduals) {
                m = Math.max(m, r);
            }
            return m;
        }
    }

    /**
     * @param k            wanted eigenpairs at each requested end (≤ d)
     * @param bottomToo    also converge the k smallest (indefinite H)
     * @param blockSize    vectors per pass (≥ 1)
     * @param maxSteps     at most this many passes
     * @param tolerance    relative residual tolerance
     * @param vectors      compute the top Ritz vectors
     * @param seed         seed of the random start block
     */
    public static Result solve(SymmetricOperator op, int k, boolean bottomToo, int blockSize, int maxSteps,
                               double tolerance, boolean vectors, long seed) {
        return solve(op, k, bottomToo, blockSize, maxSteps, tolerance, vectors, seed, Progress.NONE);
    }

    /**
     * What a caller hears after each block step (= one operator call = one pass over the data in the
     * distributed operator), for progress lines during long runs.
     */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (step, maxSteps, worst, converged, wanted) -> { };

        /**
         * @param step      block steps so far (1-based)
         * @param maxSteps  the step limit
         * @param worst     the largest ‖H y − θ y‖ / max|θ| over the wanted Ritz pairs not yet within the
         *                  tolerance (0 when all are)
         * @param converged wanted Ritz pairs within the tolerance
         * @param wanted    wanted Ritz pairs (k, or 2k with the bottom end)
         */
        void step(int step, int maxSteps, double worst, int converged, int wanted);
    }

    /** As {@link #solve(SymmetricOperator, int, boolean, int, int, double, boolean, long)}, reporting each step. */
    public static Result solve(SymmetricOperator op, int k, boolean bottomToo, int blockSize, int maxSteps,
                               double tolerance, boolean vectors, long seed, Progress progress) {
        return solve(op, k, bottomToo, blockSize, maxSteps, tolerance, vectors, seed, null, progress);
    }

    /**
     * As {@link #solve(SymmetricOperator, int, boolean, int, int, double, boolean, long, Progress)}, from a
     * start block that begins with the columns of {@code start} (a {@code (d x m)} guess of the wanted
     * eigenvectors, e.g. Ritz vectors of an earlier iteration on float32 products; null: none): its
     * first min(m, b) columns, then Gaussian columns from {@code seed} up to the block size b,
     * orthonormalised together. The stopping rule is the same, so the result does not depend on the
     * guess beyond the tolerance. (A start from KFAC's A⊗G eigenvectors was measured on a clustered
     * top-k in issue 14 and barely changed the convergence rate: docs/performance.md.)
     */
    public static Result solve(SymmetricOperator op, int k, boolean bottomToo, int blockSize, int maxSteps,
                               double tolerance, boolean vectors, long seed, INDArray start, Progress progress) {
        return solve(op, k, bottomToo, blockSize, maxSteps, UNBOUNDED_BASIS, tolerance, vectors, seed, start, progress);
    }

    /**
     * As {@link #solve(SymmetricOperator, int, boolean, int, int, double, boolean, long, INDArray, Progress)}
     * with a basis of at most {@code maxBasis} vectors ({@link #UNBOUNDED_BASIS}: the whole Krylov space is
     * kept). When the next block would not fit, the iteration restarts thickly (Krylov–Schur, Stewart 2001):
     * it keeps the wanted Ritz vectors and as many of the next ones as fill half of the free room,
     * {@code Y = Q S (d x m)}, and continues from the next block of the Lanczos relation, on which Y's
     * residuals lie:
     * <pre>
     *   H Y = Y Θ + Q_{s+1} C,   C = B_s S_last (b x m)   S_last: the last b rows of S
     *   T ← [[Θ, Cᵀ], [C, A_{s+1}]],  then block-tridiagonal again
     * </pre>
     * so the relation H Q = Q T + Q_{next} B E_lastᵀ, and with it the residual formula, holds after every
     * restart. The driver then keeps at most {@code maxBasis} vectors of dimension d (briefly up to about 1.5 times
     * that while Y is formed beside the old basis), and its reorthogonalisation and Ritz problem work on at most
     * that many.
     *
     * @param maxBasis at most this many basis vectors (≥ wanted + 2 · block, wanted = k, or 2k with the
     *                 bottom end), or {@link #UNBOUNDED_BASIS}
     */
    public static Result solve(SymmetricOperator op, int k, boolean bottomToo, int blockSize, int maxSteps, int maxBasis,
                               double tolerance, boolean vectors, long seed, INDArray start, Progress progress) {
        long dl = op.dimension();
        if (dl > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("dimension " + dl + " is too large");
        }
        int d = (int) dl;
        if (k < 1 || k > d) {
            throw new IllegalArgumentException("k = " + k + " must be in [1, " + d + "]");
        }
        int b = Math.min(Math.max(1, blockSize), d);
        int wanted = Math.min(d, bottomToo ? 2 * k : k);
        boolean bounded = maxBasis != UNBOUNDED_BASIS && maxBasis < d;
        if (bounded && maxBasis < minimumBasis(k, bottomToo, b)) {
            throw new IllegalArgumentException("a basis of " + maxBasis + " vectors cannot hold the " + wanted
                    + " wanted Ritz vectors and two blocks of " + b + ": at least " + minimumBasis(k, bottomToo, b) + " needed");
        }
        // the projected matrix's capacity: the whole Krylov space the steps can build, or the bounded basis
        int maxDim = (int) Math.min(d, (long) Math.max(1, maxSteps) * b);
        if (bounded) {
            maxDim = Math.min(maxDim, maxBasis);
        }
        // the basis grows block by block (memory: d x Krylov dimension, only as far as the iteration goes)
        java.util.List<INDArray> basis = new java.util.ArrayList<>();
        Random rnd = new Random(seed);
        INDArray first = gaussian(d, b, rnd);
        if (start != null) {
            if (start.rows() != d) {
                throw new IllegalArgumentException("start block has " + start.rows() + " rows but the operator's dimension is " + d);
            }
            int m = (int) Math.min(start.columns(), b);
            first.get(NDArrayIndex.all(), NDArrayIndex.interval(0, m))
                    .assign(start.get(NDArrayIndex.all(), NDArrayIndex.interval(0, m)));
        }
        INDArray q = orthonormalise(first, basis, b, rnd).q;
        double[][] t = new double[maxDim][maxDim];
        INDArray prevBt = null;  // B_{j-1}ᵀ  (b_{j-1} x b_j)
        INDArray prevQ = null;
        int cols = 0;
        int steps = 0;
        int products = 0;
        int restartCount = 0;
        double[] topValues = new double[0];
        double[] topRes = new double[0];
        double[] botValues = new double[0];
        double[] botRes = new double[0];
        DenseSymmetricSpectrum ritz;
        boolean converged;
        // products are multiplied by an exact power of two when H's scale is extreme (|H v| below about
        // 1e-135 or above 1e135), so that norms neither underflow nor overflow; values are divided back
        double productScale = 1.0;
        while (true) {
            int bw = (int) q.columns();
            basis.add(q);
            INDArray w = op.apply(q);
            if (steps == 0) {
                productScale = LinalgSupport.powerOfTwoScale(w);
            }
            if (productScale != 1.0) {
                w.muli(productScale);
            }
            steps++;
            products += bw;
            INDArray a = q.transpose().mmul(w);
            a = a.add(a.transpose()).muli(0.5);
            w.subi(q.mmul(a));
            if (prevQ != null) {
                w.subi(prevQ.mmul(prevBt));
            }
            for (int i = 0; i < bw; i++) {
                for (int j = 0; j < bw; j++) {
                    t[cols + i][cols + j] = a.getDouble(i, j);
                }
            }
            int dim = cols + bw;
            int nextWidth = Math.min(bw, (bounded ? d : maxDim) - dim);
            Qr next = nextWidth > 0 ? orthonormalise(w, basis, nextWidth, rnd) : null;
            double[] tFlat = new double[dim * dim];
            for (int i = 0; i < dim; i++) {
                System.arraycopy(t[i], 0, tFlat, i * dim, dim);
            }
            ritz = DenseSymmetricSpectrum.of(tFlat, dim, true);
            boolean exact = dim == d;   // the Krylov space is the whole space: T is similar to H
            // ||H y - θ y|| = ||B_j s_last|| with B_j the R of the next block (or of the leftover w)
            INDArray bj = exact ? null : next != null ? next.r : residualFactor(w);
            if (w.closeable()) {
                w.close();   // (d x b), a pass's product: freed now, not when the GC finds its handle
            }
            int kk = Math.min(k, dim);
            topValues = new double[kk];
            topRes = new double[kk];
            double scale = Math.max(Math.abs(ritz.largest()), Math.abs(ritz.smallest()));
            boolean ok = true;
            for (int c = 0; c < kk; c++) {
                topValues[c] = ritz.eigenvalue(c);
                topRes[c] = exact ? 0.0 : residual(bj, ritz.eigenvector(c), dim, bw);
                ok &= topRes[c] <= tolerance * scale;
            }
            if (bottomToo) {
                botValues = new double[kk];
                botRes = new double[kk];
                for (int c = 0; c < kk; c++) {
                    botValues[c] = ritz.eigenvalue(dim - 1 - c);
                    botRes[c] = exact ? 0.0 : residual(bj, ritz.eigenvector(dim - 1 - c), dim, bw);
                    ok &= botRes[c] <= tolerance * scale;
                }
            }
            converged = ok && kk == k;
            reportStep(progress, steps, maxSteps, topRes, botRes, scale, tolerance, bottomToo ? 2 * k : k);
            if (converged || next == null || steps >= maxSteps) {
                cols = dim;
                break;
            }
            int bn = (int) next.q.columns();
            if (bounded && dim + bn > maxDim) {
                // thick restart: keep Y = Q S (wanted + half the free room), continue from the next block
                int[] keep = keptRitzIndices(dim, wanted, bottomToo, maxDim - bn);
                INDArray cT = thickRestart(basis, ritz, dim, bw, keep, next.r, t);
                prevQ = basis.get(0);   // Y: the first step after the restart subtracts Y Cᵀ instead of Q_s B_sᵀ
                prevBt = cT;
                q = next.q;
                cols = keep.length;
                restartCount++;
                continue;
            }
            for (int i = 0; i < bn; i++) {
                for (int j = 0; j < bw; j++) {
                    double v = next.r.getDouble(i, j);
                    t[dim + i][cols + j] = v;
                    t[cols + j][dim + i] = v;
                }
            }
            prevQ = q;
            prevBt = next.r.transpose().dup();
            q = next.q;
            cols = dim;
        }
        INDArray topVectors = vectors ? ritzVectors(basis, ritz, cols, endIndices(cols, topValues.length, false)) : null;
        INDArray bottomVectors = vectors && bottomToo ? ritzVectors(basis, ritz, cols, endIndices(cols, botValues.length, true)) : null;
        if (productScale != 1.0) {
            for (double[] v : new double[][] {topValues, topRes, botValues, botRes}) {
                for (int i = 0; i < v.length; i++) {
                    v[i] /= productScale;
                }
            }
        }
        return new Result(topValues, topRes, topVectors, botValues, botRes, bottomVectors, steps, products, cols,
                restartCount, converged);
    }

    /**
     * The default bound of the basis: {@value #DEFAULT_BASIS_BLOCKS} blocks, or the minimum when that is larger —
     * the smallest bound that cost no pass on issue 14's clustered spectrum (docs/performance.md).
     */
    public static int defaultBasis(int k, boolean bottomToo, int blockSize) {
        return Math.max(DEFAULT_BASIS_BLOCKS * blockSize, minimumBasis(k, bottomToo, blockSize));
    }

    /** The smallest basis {@link #solve(SymmetricOperator, int, boolean, int, int, int, double, boolean, long, INDArray, Progress)} restarts in. */
    public static int minimumBasis(int k, boolean bottomToo, int blockSize) {
        return (bottomToo ? 2 * k : k) + 2 * blockSize;
    }

    /**
     * Replaces the basis by the kept Ritz vectors Y = Q S {@code (d x m)} (the old blocks are freed) and T by
     * {@code [[Θ, Cᵀ], [C, 0]]} with C = B_s S_last {@code (bn x m)}: B_s {@code (bn x bw)} the R of the next block,
     * S_last the last bw rows of the kept eigenvectors of T {@code (dim x dim)}. Returns Cᵀ {@code (m x bn)}, the
     * coupling the next step subtracts (H Y = Y Θ + Q_{s+1} C).
     */
    private static INDArray thickRestart(java.util.List<INDArray> basis, DenseSymmetricSpectrum ritz, int dim, int bw,
                                         int[] keep, INDArray bs, double[][] t) {
        int m = keep.length;
        int bn = (int) bs.rows();
        double[] b = bs.dup('c').data().asDouble();   // row-major (bn x bw)
        double[] c = new double[bn * m];               // row-major (bn x m)
        for (int j = 0; j < m; j++) {
            double[] sv = ritz.eigenvector(keep[j]);
            for (int i = 0; i < bn; i++) {
                double v = 0;
                for (int l = 0; l < bw; l++) {
                    v += b[i * bw + l] * sv[dim - bw + l];
                }
                c[i * m + j] = v;
            }
        }
        INDArray y = ritzVectors(basis, ritz, dim, keep);
        for (INDArray blk : basis) {
            if (blk.closeable()) {
                blk.close();
            }
        }
        basis.clear();
        basis.add(y);
        for (double[] row : t) {
            java.util.Arrays.fill(row, 0.0);
        }
        for (int i = 0; i < m; i++) {
            t[i][i] = ritz.eigenvalue(keep[i]);
        }
        for (int i = 0; i < bn; i++) {
            for (int j = 0; j < m; j++) {
                t[m + i][j] = c[i * m + j];
                t[j][m + i] = c[i * m + j];
            }
        }
        return Nd4j.create(c, new long[] {bn, m}, 'c').transpose().dup('c');
    }

    /** Indices (into T's descending eigenvalues) of the kk largest, or the kk smallest ascending. */
    private static int[] endIndices(int cols, int kk, boolean bottom) {
        int[] idx = new int[kk];
        for (int c = 0; c < kk; c++) {
            idx[c] = bottom ? cols - 1 - c : c;
        }
        return idx;
    }

    /**
     * The Ritz pairs a thick restart keeps: the wanted ones and half of the room left beside them,
     * {@code m = wanted + (room − wanted) / 2} (at most dim), from the top end, or split between both
     * ends when the bottom is wanted too.
     */
    private static int[] keptRitzIndices(int dim, int wanted, boolean bottomToo, int room) {
        int m = Math.min(dim, wanted + Math.max(0, room - wanted) / 2);
        if (!bottomToo) {
            return endIndices(dim, m, false);
        }
        int top = (m + 1) / 2;
        int[] idx = new int[m];
        int[] t = endIndices(dim, top, false);
        int[] bt = endIndices(dim, m - top, true);
        System.arraycopy(t, 0, idx, 0, top);
        System.arraycopy(bt, 0, idx, top, m - top);
        return idx;
    }

    /**
     * Ritz vectors Q S as columns {@code (d x kk)}: S the eigenvectors of T {@code (cols x kk)} with the
     * given indices, Q the basis blocks; one GEMM per block accumulated in place.
     */
    private static INDArray ritzVectors(java.util.List<INDArray> basis, DenseSymmetricSpectrum ritz, int cols, int[] which) {
        int kk = which.length;
        double[] s = new double[cols * kk];
        for (int c = 0; c < kk; c++) {
            double[] v = ritz.eigenvector(which[c]);
            for (int r = 0; r < cols; r++) {
                s[r * kk + c] = v[r];
            }
        }
        INDArray sm = Nd4j.create(s, new long[] {cols, kk}, 'c');
        INDArray y = Nd4j.create(DataType.DOUBLE, new long[] {basis.get(0).rows(), kk}, 'f');   // zero-filled
        int row = 0;
        for (INDArray blk : basis) {
            long w = blk.columns();
            Nd4j.gemm(blk, sm.get(NDArrayIndex.interval(row, row + w), NDArrayIndex.all()).dup('f'), y, false, false, 1.0, 1.0);
            row += w;
        }
        return y;
    }

    /** ||B s_last||, B (rows x bw), s_last the last bw entries of s. */
    private static double residual(INDArray bj, double[] s, int dim, int bw) {
        double r2 = 0;
        for (int i = 0; i < bj.rows(); i++) {
            double v = 0;
            for (int j = 0; j < bw; j++) {
                v += bj.getDouble(i, j) * s[dim - bw + j];
            }
            r2 += v * v;
        }
        return Math.sqrt(r2);
    }

    /** The R of w's QR without storing Q (for the last step's residuals). */
    private static INDArray residualFactor(INDArray w) {
        int b = (int) w.columns();
        INDArray r = Nd4j.zeros(DataType.DOUBLE, b, b);
        INDArray x = w.dup('f');
        for (int j = 0; j < b; j++) {
            INDArray col = x.getColumn(j, true);
            for (int i = 0; i < j; i++) {
                INDArray ci = x.getColumn(i, true);
                double ni = ci.norm2Number().doubleValue();
                if (ni > 0) {
                    double proj = dot(ci, col) / ni;
                    r.putScalar(i, j, proj);
                    col.subi(ci.mul(proj / ni));
                }
            }
            r.putScalar(j, j, col.norm2Number().doubleValue());
        }
        return r;
    }

    private record Qr(INDArray q, INDArray r) {
    }

    /** Counts the wanted pairs within the tolerance and the worst relative residual of the others. */
    private static void reportStep(Progress progress, int step, int maxSteps, double[] top, double[] bottom,
                                   double scale, double tolerance, int wanted) {
        if (progress == Progress.NONE) {
            return;
        }
        int ok = 0;
        double worst = 0;
        for (double[] residuals : new double[][] {top, bottom}) {
            for (double r : residuals) {
                double rel = scale > 0 ? r / scale : r;
                if (r <= tolerance * scale) {
                    ok++;
                } else {
                    worst = Math.max(worst, rel);
                }
            }
        }
        progress.step(step, maxSteps, worst, ok, wanted);
    }

    /**
     * Orthogonalises w {@code (d x bw)} against every basis block (twice) and
     * within itself (classical Gram-Schmidt against the kept columns, twice per column), keeping at most
     * {@code width} columns: w = Q R with Q {@code (d x width)}, R {@code (width x bw)}. Columns that
     * vanish (rank deficiency, breakdown) are dropped; free places are filled with random vectors
     * orthogonal to everything, whose rows of R are zero. Works in place on one copy of w: every
     * update is a GEMM into it (β = 1), so a step allocates only (b x b) coefficient blocks besides Q,
     * however large the basis (the per-column temporaries of a d-vector each, and a (d x b) product per
     * basis block, made the driver's off-heap memory grow by gigabytes per pass: issue 14).
     */
    private static Qr orthonormalise(INDArray w, java.util.List<INDArray> basis, int width, Random rnd) {
        int d = (int) w.rows();
        int bw = (int) w.columns();
        INDArray x = w.dup('f');
        projectOut(x, basis);
        INDArray q = Nd4j.create(DataType.DOUBLE, new long[] {d, width}, 'f');
        double[] r = new double[width * bw];   // row-major (width x bw)
        double blockNorm = Math.max(w.norm2Number().doubleValue(), Double.MIN_NORMAL);
        int kept = 0;
        for (int j = 0; j < bw; j++) {
            INDArray col = x.get(NDArrayIndex.all(), NDArrayIndex.point(j)).reshape(d, 1);
            double norm = col.norm2Number().doubleValue();
            if (kept > 0) {
                INDArray qk = q.get(NDArrayIndex.all(), NDArrayIndex.interval(0, kept));
                for (int round = 0; round < 2; round++) {
                    double before = norm;
                    double[] c = subtractProjection(qk, col);
                    for (int i = 0; i < kept; i++) {
                        r[i * bw + j] += c[i];
                    }
                    norm = col.norm2Number().doubleValue();
                    if (norm >= SECOND_ROUND * before) {
                        break;
                    }
                }
            }
            if (norm > DEFLATION * blockNorm && kept < width) {
                r[kept * bw + j] = norm;
                q.get(NDArrayIndex.all(), NDArrayIndex.point(kept)).assign(col.reshape(d).divi(norm));
                kept++;
            }
        }
        for (; kept < width; kept++) {
            // breakdown: continue with a random direction orthogonal to the basis and the kept columns
            INDArray fresh = gaussian(d, 1, rnd);
            for (int round = 0; round < 2; round++) {
                projectOut(fresh, basis);
                if (kept > 0) {
                    subtractProjection(q.get(NDArrayIndex.all(), NDArrayIndex.interval(0, kept)), fresh);
                }
            }
            q.get(NDArrayIndex.all(), NDArrayIndex.point(kept)).assign(fresh.reshape(d).divi(fresh.norm2Number().doubleValue()));
        }
        x.close();
        return new Qr(q, Nd4j.create(r, new long[] {width, bw}, 'c'));
    }

    /**
     * x ← x − Q (Qᵀ x) in place, Q {@code (d x m)} with orthonormal columns, x {@code (d x c)}; returns
     * the coefficients Qᵀ x {@code (m x c)} row-major. Two GEMMs, the second accumulating into x.
     */
    private static double[] subtractProjection(INDArray q, INDArray x) {
        INDArray c = Nd4j.gemm(q, x, true, false);
        Nd4j.gemm(q, c, x, false, false, -1.0, 1.0);
        double[] coefficients = c.dup('c').data().asDouble();
        c.close();
        return coefficients;
    }

    /**
     * x ← (I − Q Qᵀ) x over all basis blocks, in place: one round of block classical Gram-Schmidt, and a
     * second one when the first left some column of x with less than {@link #SECOND_ROUND} of its norm.
     */
    private static void projectOut(INDArray x, java.util.List<INDArray> basis) {
        if (basis.isEmpty()) {
            return;
        }
        double[] before = columnNorms(x);
        for (int round = 0; round < 2; round++) {
            for (INDArray q : basis) {
                subtractProjection(q, x);
            }
            double[] after = columnNorms(x);
            boolean enough = true;
            for (int j = 0; j < after.length; j++) {
                enough &= after[j] >= SECOND_ROUND * before[j];
            }
            if (enough) {
                return;
            }
            before = after;
        }
    }

    /** The 2-norm of each column of x {@code (d x c)}. */
    private static double[] columnNorms(INDArray x) {
        INDArray norms = x.norm2(0);
        double[] out = norms.toDoubleVector();
        norms.close();
        return out;
    }

    private static double dot(INDArray x, INDArray y) {
        return Nd4j.getBlasWrapper().dot(x, y);
    }

    static INDArray gaussian(int d, int b, Random rnd) {
        double[] v = new double[d * b];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextGaussian();
        }
        return Nd4j.create(v, new long[] {d, b}, 'f');
    }

}
