package io.hessianatlas.common.spectra;

import java.util.Random;

import io.hessianatlas.common.linalg.LinalgSupport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Spectral density of a symmetric operator by stochastic Lanczos quadrature (Ubaru, Chen and
 * Saad 2017; Ghorbani, Krishnan and Xiao 2019): P Rademacher probes v_p (normalised), each
 * running m Lanczos steps with full reorthogonalisation; the tridiagonal T_p = S Θ Sᵀ gives nodes
 * θ_{p,i} and weights τ_{p,i}² = (S_{0,i})², and
 * <pre>
 *   ρ(x) = (1/P) Σ_p Σ_i τ_{p,i}² · N(x; θ_{p,i}, σ²)         ∫ρ = 1,  ∫xρ ≈ tr(H)/d,  ∫x²ρ ≈ ||H||_F²/d + σ²
 * </pre>
 * All probes advance together: each Lanczos step is ONE call of the operator on the
 * {@code (d x P)} block (one pass over the data for every probe). A probe whose Krylov space
 * becomes invariant stops early (its β vanishes); its quadrature is then exact.
 */
public final class StochasticLanczosQuadrature {
    /** A probe stops when β falls below this fraction of the largest |α| seen. */
    static final double BREAKDOWN = 1e-12;
    /** Gaussians are evaluated out to this many σ beyond the extreme nodes. */
    public static final double GRID_PADDING_SIGMAS = 5.0;

    private StochasticLanczosQuadrature() {
    }

    /** Nodes and weights per probe, and the cost. */
    public static final class Quadrature {
        private final double[][] nodes;
        private final double[][] weights;
        private final int passes;

        Quadrature(double[][] nodes, double[][] weights, int passes) {
            this.nodes = nodes;
            this.weights = weights;
            this.passes = passes;
        }

        public int probes() {
            return nodes.length;
        }

        public double[] nodes(int probe) {
            return nodes[probe].clone();
        }

        /** τ² per node; they sum to 1 for each probe. */
        public double[] weights(int probe) {
            return weights[probe].clone();
        }

        /** Operator calls = passes over the data. */
        public int passes() {
            return passes;
        }

        public double minNode() {
            double v = Double.POSITIVE_INFINITY;
            for (double[] n : nodes) {
                for (double x : n) {
                    v = Math.min(v, x);
                }
            }
            return v;
        }

        public double maxNode() {
            double v = Double.NEGATIVE_INFINITY;
            for (double[] n : nodes) {
                for (double x : n) {
                    v = Math.max(v, x);
                }
            }
            return v;
        }

        /** Σ_p Σ_i τ² θ^k / P, the quadrature estimate of tr(H^k)/d. */
        public double moment(int k) {
            double s = 0;
            for (int p = 0; p < nodes.length; p++) {
                for (int i = 0; i < nodes[p].length; i++) {
                    s += weights[p][i] * Math.pow(nodes[p][i], k);
                }
            }
            return s / nodes.length;
        }

        /**
         * The Gaussian-broadened density on {@code points} equally spaced grid points spanning
         * [min node − 5σ, max node + 5σ], with σ = {@code relativeWidth} · (max node − min node)
         * (or relativeWidth · max(|node|, 1) when all nodes coincide; when the range is so small,
         * below about 1e-298, that the density's peak would overflow: relativeWidth · max|node|, or
         * relativeWidth when that is as small). Every value is finite.
         * @return {x[], density[]}
         */
        public double[][] density(int points, double relativeWidth) {
            if (points < 2) {
                throw new IllegalArgumentException("a density grid needs at least 2 points, got " + points);
            }
            if (!(relativeWidth > 0)) {
                throw new IllegalArgumentException("the broadening width must be positive, got " + relativeWidth);
            }
            double lo = minNode();
            double hi = maxNode();
            double range = hi - lo;
            double sigma = relativeWidth * (range > 0 ? range : Math.max(Math.abs(hi), 1.0));
            if (!representable(sigma)) {
                // a range below ~1e-300 (nodes that differ only by rounding of a vanishing H): the peak
                // 1/(σ√(2π)) would overflow; broaden by the nodes' magnitude instead, or as for nodes at 0
                sigma = relativeWidth * Math.max(Math.abs(lo), Math.abs(hi));
                if (!representable(sigma)) {
                    sigma = relativeWidth;
                }
            }
            double a = lo - GRID_PADDING_SIGMAS * sigma;
            double bEnd = hi + GRID_PADDING_SIGMAS * sigma;
            double[] x = new double[points];
            double[] rho = new double[points];
            double norm = 1.0 / (nodes.length * sigma * Math.sqrt(2 * Math.PI));
            for (int g = 0; g < points; g++) {
                x[g] = a + (bEnd - a) * g / (points - 1);
                double s = 0;
                for (int p = 0; p < nodes.length; p++) {
                    for (int i = 0; i < nodes[p].length; i++) {
                        double u = (x[g] - nodes[p][i]) / sigma;
                        s += weights[p][i] * Math.exp(-0.5 * u * u);
                    }
                }
                rho[g] = s * norm;
            }
            return new double[][] {x, rho};
        }
    }

    /** Whether a Gaussian of width σ has a finite peak 1/(σ√(2π)) and a grid of distinct points. */
    private static boolean representable(double sigma) {
        return sigma >= 0x1p-990 && Double.isFinite(sigma);
    }

    /**
     * @param probes number of Rademacher probes P (≥ 1)
     * @param steps  Lanczos steps m per probe (capped at d)
     */
    public static Quadrature run(SymmetricOperator op, int probes, int steps, long seed) {
        long dl = op.dimension();
        if (dl > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("dimension " + dl + " is too large");
        }
        if (probes < 1 || steps < 1) {
            throw new IllegalArgumentException("probes and steps must be positive, got " + probes + " and " + steps);
        }
        int d = (int) dl;
        int m = Math.min(steps, d);
        Random rnd = new Random(seed);
        double[] v0 = new double[d * probes];
        double inv = 1.0 / Math.sqrt(d);
        for (int i = 0; i < v0.length; i++) {
            v0[i] = rnd.nextBoolean() ? inv : -inv;
        }
        INDArray q = Nd4j.create(v0, new long[] {d, probes}, 'f');
        INDArray[] bases = new INDArray[probes];
        for (int p = 0; p < probes; p++) {
            bases[p] = Nd4j.create(DataType.DOUBLE, new long[] {d, m}, 'f');
        }
        double[][] alpha = new double[probes][m];
        double[][] beta = new double[probes][m];
        int[] len = new int[probes];
        boolean[] active = new boolean[probes];
        java.util.Arrays.fill(active, true);
        double[] maxAlpha = new double[probes];
        int passes = 0;
        // as in BlockLanczos: products of an operator of extreme scale are multiplied by an exact power of
        // two (so that norms do not underflow or overflow), and the nodes divided back
        double scale = 1.0;
        for (int j = 0; j < m; j++) {
            boolean any = false;
            for (int p = 0; p < probes; p++) {
                if (active[p]) {
                    bases[p].getColumn(j, true).assign(q.getColumn(p, true));
                    any = true;
                }
            }
            if (!any) {
                break;
            }
            INDArray w = op.apply(q);
            if (passes == 0) {
                scale = LinalgSupport.powerOfTwoScale(w);
            }
            if (scale != 1.0) {
                w.muli(scale);
            }
            passes++;
            for (int p = 0; p < probes; p++) {
                if (!active[p]) {
                    continue;
                }
                INDArray wp = w.getColumn(p, true);
                INDArray qp = q.getColumn(p, true);
                double a = Nd4j.getBlasWrapper().dot(qp, wp);
                alpha[p][j] = a;
                maxAlpha[p] = Math.max(maxAlpha[p], Math.abs(a));
                len[p] = j + 1;
                INDArray basis = bases[p].get(NDArrayIndex.all(), NDArrayIndex.interval(0, j + 1));
                INDArray r = wp.dup();
                for (int round = 0; round < 2; round++) {
                    r.subi(basis.mmul(basis.transpose().mmul(r)));
                }
                double bnorm = r.norm2Number().doubleValue();
                if (j + 1 == m || bnorm <= BREAKDOWN * Math.max(maxAlpha[p], Double.MIN_NORMAL)) {
                    active[p] = false;
                    qp.assign(0.0);
                    continue;
                }
                beta[p][j] = bnorm;
                qp.assign(r.divi(bnorm));
            }
        }
        double[][] nodes = new double[probes][];
        double[][] weights = new double[probes][];
        for (int p = 0; p < probes; p++) {
            int k = len[p];
            double[] t = new double[k * k];
            for (int i = 0; i < k; i++) {
                t[i * k + i] = alpha[p][i];
                if (i + 1 < k) {
                    t[i * k + i + 1] = beta[p][i];
                    t[(i + 1) * k + i] = beta[p][i];
                }
            }
            DenseSymmetricSpectrum s = DenseSymmetricSpectrum.of(t, k, true);
            nodes[p] = s.eigenvalues();
            for (int i = 0; i < k; i++) {
                nodes[p][i] /= scale;
            }
            weights[p] = new double[k];
            for (int i = 0; i < k; i++) {
                double first = s.eigenvector(i)[0];
                weights[p][i] = first * first;
            }
        }
        return new Quadrature(nodes, weights, passes);
    }
}
