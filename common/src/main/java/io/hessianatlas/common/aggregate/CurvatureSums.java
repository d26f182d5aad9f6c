package io.hessianatlas.common.aggregate;

import java.io.Serializable;

/**
 * Network-level float64 sums of a set of samples: the count, Σ loss, the number of correct
 * predictions (classification), and one {@link LayerCurvatureSums} per analysed layer.
 * Mergeable in any order.
 */
public final class CurvatureSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private long count;
    private double lossSum;
    private long correct;
    private final LayerCurvatureSums[] layers;

    CurvatureSums(long count, double lossSum, long correct, LayerCurvatureSums[] layers) {
        this.count = count;
        this.lossSum = lossSum;
        this.correct = correct;
        this.layers = layers;
    }

    /** Empty sums for a plan. */
    public static CurvatureSums empty(io.hessianatlas.common.model.Network network, CurvaturePlan plan) {
        int[] ls = plan.layers();
        LayerCurvatureSums[] sums = new LayerCurvatureSums[ls.length];
        for (int i = 0; i < ls.length; i++) {
            int l = ls[i];
            sums[i] = LayerCurvatureSums.empty(l, network.layer(l).fanIn(), network.layer(l).fanOut(),
                    plan.isDense(l), plan.empiricalFisher(l));
        }
        return new CurvatureSums(0, 0.0, 0, sums);
    }

    /** Adds other into this; returns this. */
    public CurvatureSums mergeInPlace(CurvatureSums other) {
        if (other.layers.length != layers.length) {
            throw new IllegalArgumentException("cannot merge sums over " + other.layers.length + " layers into sums over "
                    + layers.length + " layers");
        }
        count += other.count;
        lossSum += other.lossSum;
        correct += other.correct;
        for (int i = 0; i < layers.length; i++) {
            layers[i].mergeInPlace(other.layers[i]);
        }
        return this;
    }

    public long count() {
        return count;
    }

    public double meanLoss() {
        return count == 0 ? Double.NaN : lossSum / count;
    }

    /** Fraction of samples whose predicted class equals the label (classification only). */
    public double accuracy() {
        return count == 0 ? Double.NaN : (double) correct / count;
    }

    public long correctCount() {
        return correct;
    }

    /** Sums of the analysed layers, in ascending layer order. */
    public LayerCurvatureSums[] layers() {
        return layers.clone();
    }

    /** Sums of layer l (1-based); throws when l was not analysed. */
    public LayerCurvatureSums layer(int l) {
        for (LayerCurvatureSums s : layers) {
            if (s.layer() == l) {
                return s;
            }
        }
        throw new IllegalArgumentException("layer " + l + " was not analysed");
    }
}
