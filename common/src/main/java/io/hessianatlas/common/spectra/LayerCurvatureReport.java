package io.hessianatlas.common.spectra;

import io.hessianatlas.common.aggregate.LayerCurvatureSums;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.nd4j.ThetaIndex;

/**
 * The driver-side result for one layer, computed from its {@link LayerCurvatureSums}
 * (docs/design.md §3-4). H is the mean θ-block of the mode; A = mean ã ãᵀ, G = mean Q^l, all indexed
 * as {@link ThetaIndex} says.
 * <ul>
 *   <li>trace: exact, the mean of the per-sample traces ||ã||² tr Q.</li>
 *   <li>dense layers: all eigenvalues of H (LAPACK), ||H||_F, λ_max, λ_min, the KFAC error
 *       ||H − A⊗G||_F / ||H||_F and the top-k eigenspace overlap of H and A⊗G (both null when
 *       ||H||_F = 0: undefined, 0/0); with the empirical Fisher, all eigenvalues of F.</li>
 *   <li>every layer: all eigenvalues of A and G, and the top-k and bottom-k eigenvalues of A⊗G
 *       (products of eig(A) and eig(G), exact).</li>
 *   <li>gradNorm: ||mean gradient of θ^l||.</li>
 * </ul>
 * Eigenvalue arrays are sorted descending; the values of A⊗G carry their ranks in the full
 * descending order (1 = largest, d = smallest). Fields that do not apply are null.
 */
public final class LayerCurvatureReport {
    private final int layer;
    private final String name;
    private final int fanIn;
    private final int fanOut;
    private final long samples;
    private final CurvatureMode mode;
    private final double trace;
    private final double gradNorm;
    private final double[] meanA;
    private final double[] meanG;
    private final double[] meanH;
    private final double[] meanF;
    private final double[] eigenvaluesH;
    private final double[] eigenvaluesF;
    private final double[] eigenvaluesA;
    private final double[] eigenvaluesG;
    private final double[] kroneckerValues;
    private final int[] kroneckerRanks;
    private final Double frobenius;
    private final Double kfacRelativeError;
    private final Double kfacOverlap;
    private final int overlapK;
    private final DenseSymmetricSpectrum denseSpectrum;   // of H, with vectors; null unless dense
    private final KroneckerSpectrum kronecker;            // of A⊗G, with vectors

    private LayerCurvatureReport(int layer, String name, int fanIn, int fanOut, long samples, CurvatureMode mode,
                                 double trace, double gradNorm, double[] meanA, double[] meanG, double[] meanH,
                                 double[] meanF, double[] eigenvaluesH, double[] eigenvaluesF, double[] eigenvaluesA,
                                 double[] eigenvaluesG, double[] kroneckerValues, int[] kroneckerRanks,
                                 Double frobenius, Double kfacRelativeError, Double kfacOverlap, int overlapK,
                                 DenseSymmetricSpectrum denseSpectrum, KroneckerSpectrum kronecker) {
        this.layer = layer;
        this.name = name;
        this.fanIn = fanIn;
        this.fanOut = fanOut;
        this.samples = samples;
        this.mode = mode;
        this.trace = trace;
        this.gradNorm = gradNorm;
        this.meanA = meanA;
        this.meanG = meanG;
        this.meanH = meanH;
        this.meanF = meanF;
        this.eigenvaluesH = eigenvaluesH;
        this.eigenvaluesF = eigenvaluesF;
        this.eigenvaluesA = eigenvaluesA;
        this.eigenvaluesG = eigenvaluesG;
        this.kroneckerValues = kroneckerValues;
        this.kroneckerRanks = kroneckerRanks;
        this.frobenius = frobenius;
        this.kfacRelativeError = kfacRelativeError;
        this.kfacOverlap = kfacOverlap;
        this.overlapK = overlapK;
        this.denseSpectrum = denseSpectrum;
        this.kronecker = kronecker;
    }

    /**
     * @param topK how many eigenvalues of A⊗G to report from each end, and the k of the overlap
     *             (both capped at the dimension)
     */
    public static LayerCurvatureReport of(DenseLayer layer, LayerCurvatureSums sums, CurvatureMode mode, int topK) {
        if (topK < 1) {
            throw new IllegalArgumentException("top-k must be positive, got " + topK);
        }
        ThetaIndex theta = sums.theta();
        int m1 = theta.augmentedFanIn();
        int n = theta.fanOut();
        double[] a = sums.meanA();
        double[] g = sums.meanG();
        double[] grad = sums.meanGradient();
        double gradNorm = 0;
        for (double v : grad) {
            gradNorm += v * v;
        }
        gradNorm = Math.sqrt(gradNorm);

        double[] h = sums.meanH();
        double[] f = sums.meanF();
        KroneckerSpectrum kron = KroneckerSpectrum.ofFactors(a, m1, g, n, true);
        int d = theta.denseDimension();    // fits an int: ofFactors rejects an A⊗G too large to enumerate
        int k = Math.min(topK, d);
        double[] all = kron.eigenvalues();
        double[] kronValues;
        int[] kronRanks;
        if (2 * k >= d) {
            kronValues = all;
            kronRanks = new int[d];
            for (int r = 0; r < d; r++) {
                kronRanks[r] = r + 1;
            }
        } else {
            kronValues = new double[2 * k];
            kronRanks = new int[2 * k];
            for (int r = 0; r < k; r++) {
                kronValues[r] = all[r];
                kronRanks[r] = r + 1;
                kronValues[k + r] = all[d - k + r];
                kronRanks[k + r] = d - k + r + 1;
            }
        }

        double[] eigH = null;
        double[] eigF = null;
        Double fro = null;
        Double kfacError = null;
        Double overlap = null;
        DenseSymmetricSpectrum hs = null;
        if (h != null) {
            hs = DenseSymmetricSpectrum.of(h, d, true);
            eigH = hs.eigenvalues();
            fro = DenseSymmetricSpectrum.frobeniusNorm(h, d);
            if (fro > 0) {
                kfacError = KfacComparison.relativeFrobeniusError(h, d, a, m1, g, n);
                overlap = KfacComparison.topEigenspaceOverlap(hs, kron, k);
            }
            // else H = 0 (e.g. a dead ReLU layer or below it, saturated outputs): ||H − A⊗G|| / ||H|| is
            // 0/0 (G, the bias block of H, vanishes too) and every subspace is a top eigenspace of
            // H, so both measures are undefined and reported as null
        }
        if (f != null) {
            eigF = DenseSymmetricSpectrum.eigenvalues(f, d);
        }
        return new LayerCurvatureReport(sums.layer(), layer.name(), sums.fanIn(), n, sums.count(), mode,
                sums.meanTrace(), gradNorm, a, g, h, f, eigH, eigF, DenseSymmetricSpectrum.eigenvalues(a, m1),
                DenseSymmetricSpectrum.eigenvalues(g, n), kronValues, kronRanks, fro, kfacError, overlap, k, hs, kron);
    }

    public int layer() {
        return layer;
    }

    public String name() {
        return name;
    }

    public int fanIn() {
        return fanIn;
    }

    public int fanOut() {
        return fanOut;
    }

    /** The θ index convention of the layer: the order of H, F, their eigenvectors and the A⊗G eigenvectors. */
    public ThetaIndex theta() {
        return ThetaIndex.forLayer(fanOut, fanIn);
    }

    /** Parameters of θ^l: (fanIn + 1) fanOut. */
    public long params() {
        return theta().dimension();
    }

    public long samples() {
        return samples;
    }

    public CurvatureMode mode() {
        return mode;
    }

    /** "dense" when H was decomposed, else "kronecker". */
    public String spectrumMethod() {
        return meanH != null ? "dense" : "kronecker";
    }

    public boolean isDense() {
        return meanH != null;
    }

    public double trace() {
        return trace;
    }

    public double gradNorm() {
        return gradNorm;
    }

    public Double frobenius() {
        return frobenius;
    }

    public Double lambdaMax() {
        return eigenvaluesH == null ? null : eigenvaluesH[0];
    }

    public Double lambdaMin() {
        return eigenvaluesH == null ? null : eigenvaluesH[eigenvaluesH.length - 1];
    }

    /** ||H − A⊗G||_F / ||H||_F; null unless dense, and null when ||H||_F = 0 (undefined). */
    public Double kfacRelativeError() {
        return kfacRelativeError;
    }

    /** Top-k eigenspace overlap of H and A⊗G; null unless dense, and null when H = 0 (undefined). */
    public Double kfacOverlap() {
        return kfacOverlap;
    }

    /** The k of the eigenspace overlap (top-k capped at the dimension). */
    public int overlapK() {
        return overlapK;
    }

    public double[] meanA() {
        return meanA.clone();
    }

    public double[] meanG() {
        return meanG.clone();
    }

    /** Null unless dense. */
    public double[] meanH() {
        return meanH == null ? null : meanH.clone();
    }

    /** Null unless the empirical Fisher was accumulated. */
    public double[] meanF() {
        return meanF == null ? null : meanF.clone();
    }

    public double[] eigenvaluesH() {
        return eigenvaluesH == null ? null : eigenvaluesH.clone();
    }

    public double[] eigenvaluesF() {
        return eigenvaluesF == null ? null : eigenvaluesF.clone();
    }

    public double[] eigenvaluesA() {
        return eigenvaluesA.clone();
    }

    public double[] eigenvaluesG() {
        return eigenvaluesG.clone();
    }

    /** Reported eigenvalues of A⊗G (top-k then bottom-k, or all), with {@link #kroneckerRanks()}. */
    public double[] kroneckerEigenvalues() {
        return kroneckerValues.clone();
    }

    public int[] kroneckerRanks() {
        return kroneckerRanks.clone();
    }

    /** The k leading eigenvectors of the dense H as a row-major {@code (d x k)} array; null unless dense. */
    public double[] denseTopEigenvectors(int k) {
        return denseSpectrum == null ? null : denseSpectrum.topEigenvectors(Math.min(k, denseSpectrum.size()));
    }

    /** The k leading eigenpairs of A⊗G (vectors row-major {@code (d x k)}, θ order). */
    public KroneckerSpectrum.Eigenpairs kroneckerTop(int k) {
        return kronecker.top(Math.min(k, kronecker.dimension()));
    }
}
