package io.hessianatlas.common.aggregate;

import java.io.Serializable;

import io.hessianatlas.common.nd4j.ThetaIndex;

/**
 * Float64 sums over samples for one layer l, with fan-in m = n_{l-1}, fan-out n = n_l and the
 * homogeneous input ã = [a^{l-1}; 1] (docs/design.md §3). Serializable and mergeable in any order, so
 * Spark can tree-aggregate them; every reported quantity is a mean (sum / count).
 *
 * <pre>
 *   sumA     Σ ã ãᵀ                      ((m+1) x (m+1)), row-major
 *   sumG     Σ Q^l of the mode           (n x n), row-major
 *   sumH     Σ (ã ãᵀ) ⊗ Q^l              ((m+1)n x (m+1)n), row-major, θ order
 *   sumF     Σ g gᵀ, g = ã ⊗ δ           same shape as sumH (empirical Fisher), optional
 *   sumGrad  Σ g                          ((m+1) n), θ order
 *   sumTrace Σ tr H_θ,s = Σ ||ã_s||² tr Q_s
 * </pre>
 * θ order is that of {@link ThetaIndex} ({@link #theta()}).
 * sumH and sumF are null when not accumulated (over the memory budget, or not asked for).
 */
public final class LayerCurvatureSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int layer;
    private final int fanIn;
    private final int fanOut;
    private long count;
    private final double[] sumA;
    private final double[] sumG;
    private final double[] sumH;
    private final double[] sumF;
    private final double[] sumGrad;
    private double sumTrace;

    LayerCurvatureSums(int layer, int fanIn, int fanOut, long count, double[] sumA, double[] sumG, double[] sumH,
                       double[] sumF, double[] sumGrad, double sumTrace) {
        this.layer = layer;
        this.fanIn = fanIn;
        this.fanOut = fanOut;
        this.count = count;
        this.sumA = sumA;
        this.sumG = sumG;
        this.sumH = sumH;
        this.sumF = sumF;
        this.sumGrad = sumGrad;
        this.sumTrace = sumTrace;
    }

    /** Empty sums (count 0) for a layer of the given shape. */
    public static LayerCurvatureSums empty(int layer, int fanIn, int fanOut, boolean dense, boolean fisher) {
        ThetaIndex theta = ThetaIndex.forLayer(fanOut, fanIn);
        int d = theta.denseDimension();
        int m1 = theta.augmentedFanIn();
        return new LayerCurvatureSums(layer, fanIn, fanOut, 0, new double[m1 * m1],
                new double[fanOut * fanOut], dense ? new double[d * d] : null, fisher ? new double[d * d] : null,
                new double[d], 0.0);
    }

    /**
     * Adds {@code other} into this (element-wise sums); returns this.
     * @throws IllegalArgumentException when the layers or the accumulated parts differ
     */
    public LayerCurvatureSums mergeInPlace(LayerCurvatureSums other) {
        if (other.layer != layer || other.fanIn != fanIn || other.fanOut != fanOut
                || (other.sumH == null) != (sumH == null) || (other.sumF == null) != (sumF == null)) {
            throw new IllegalArgumentException("cannot merge sums of layer " + other.layer + " (" + other.fanOut + " x "
                    + other.fanIn + ", dense=" + (other.sumH != null) + ", fisher=" + (other.sumF != null)
                    + ") into layer " + layer + " (" + fanOut + " x " + fanIn + ", dense=" + (sumH != null)
                    + ", fisher=" + (sumF != null) + ")");
        }
        count += other.count;
        addInto(sumA, other.sumA);
        addInto(sumG, other.sumG);
        addInto(sumH, other.sumH);
        addInto(sumF, other.sumF);
        addInto(sumGrad, other.sumGrad);
        sumTrace += other.sumTrace;
        return this;
    }

    private static void addInto(double[] target, double[] source) {
        if (target == null) {
            return;
        }
        for (int k = 0; k < target.length; k++) {
            target[k] += source[k];
        }
    }

    public int layer() {
        return layer;
    }

    public int fanIn() {
        return fanIn;
    }

    public int fanOut() {
        return fanOut;
    }

    /** The θ index convention of this layer (W (n x m)). */
    public ThetaIndex theta() {
        return ThetaIndex.forLayer(fanOut, fanIn);
    }

    /** Dimension of θ^l: (m+1) n. */
    public int thetaDimension() {
        return theta().denseDimension();
    }

    public long count() {
        return count;
    }

    public boolean hasDenseBlock() {
        return sumH != null;
    }

    public boolean hasEmpiricalFisher() {
        return sumF != null;
    }

    /** A = mean ã ãᵀ, ((m+1) x (m+1)) row-major. */
    public double[] meanA() {
        return mean(sumA);
    }

    /** G = mean Q^l of the mode, (n x n) row-major. */
    public double[] meanG() {
        return mean(sumG);
    }

    /** H = mean (ã ãᵀ) ⊗ Q^l, ((m+1)n x (m+1)n) row-major; null when not accumulated. */
    public double[] meanH() {
        return sumH == null ? null : mean(sumH);
    }

    /** F = mean g gᵀ, ((m+1)n x (m+1)n) row-major; null when not accumulated. */
    public double[] meanF() {
        return sumF == null ? null : mean(sumF);
    }

    /** Gradient of the mean loss w.r.t. θ^l = [vec W; b], length (m+1) n. */
    public double[] meanGradient() {
        return mean(sumGrad);
    }

    /** tr H = mean of the per-sample traces ||ã||² tr Q (exact). */
    public double meanTrace() {
        return count == 0 ? 0.0 : sumTrace / count;
    }

    private double[] mean(double[] sum) {
        double[] out = new double[sum.length];
        if (count == 0) {
            return out;
        }
        for (int k = 0; k < sum.length; k++) {
            out[k] = sum[k] / count;
        }
        return out;
    }
}
