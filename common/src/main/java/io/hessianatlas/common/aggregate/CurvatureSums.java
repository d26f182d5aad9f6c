package io.hessianatlas.common.aggregate;

import java.io.Serializable;

/**
 * Network-level float64 sums of a set of samples: the count, Σ loss, the samples whose label
 * names a class and how many of those were predicted right, one {@link LayerCurvatureSums} per
 * analysed layer and, with per-class sums ({@link CurvaturePlan#withClasses}), the same sums of
 * each class's samples ({@link #ofClass}). Mergeable in any order.
 */
public final class CurvatureSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private long count;
    private double lossSum;
    private long labelled;
    private long correct;
    private final LayerCurvatureSums[] layers;
    private final CurvatureSums[] classes;   // [class], or null without per-class sums

    CurvatureSums(long count, double lossSum, long labelled, long correct, LayerCurvatureSums[] layers,
                  CurvatureSums[] classes) {
        this.count = count;
        this.lossSum = lossSum;
        this.labelled = labelled;
        this.correct = correct;
        this.layers = layers;
        this.classes = classes;
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
        CurvatureSums[] classes = null;
        if (plan.perClass() != null) {
            classes = new CurvatureSums[plan.classCount()];
            for (int c = 0; c < classes.length; c++) {
                classes[c] = empty(network, plan.perClass());
            }
        }
        return new CurvatureSums(0, 0.0, 0, 0, sums, classes);
    }

    /** Adds other into this; returns this. */
    public CurvatureSums mergeInPlace(CurvatureSums other) {
        if (other.layers.length != layers.length) {
            throw new IllegalArgumentException("cannot merge sums over " + other.layers.length + " layers into sums over "
                    + layers.length + " layers");
        }
        if ((classes == null) != (other.classes == null) || classes != null && classes.length != other.classes.length) {
            throw new IllegalArgumentException("cannot merge sums with different per-class sums");
        }
        count += other.count;
        lossSum += other.lossSum;
        labelled += other.labelled;
        correct += other.correct;
        for (int i = 0; i < layers.length; i++) {
            layers[i].mergeInPlace(other.layers[i]);
        }
        if (classes != null) {
            for (int c = 0; c < classes.length; c++) {
                classes[c].mergeInPlace(other.classes[c]);
            }
        }
        return this;
    }

    public long count() {
        return count;
    }

    public double meanLoss() {
        return count == 0 ? Double.NaN : lossSum / count;
    }

    /** Fraction of the samples whose label names a class that were predicted right (NaN when none has). */
    public double accuracy() {
        return labelled == 0 ? Double.NaN : (double) correct / labelled;
    }

    /** Samples whose label names a class (all of them for softmax; 0/1 labels for binary BCE). */
    public long labelledCount() {
        return labelled;
    }

    public long correctCount() {
        return correct;
    }

    /** Classes with their own sums (0 without per-class sums). */
    public int classCount() {
        return classes == null ? 0 : classes.length;
    }

    /** The sums of the samples labelled {@code c} (count 0 when the data has none). */
    public CurvatureSums ofClass(int c) {
        if (classes == null) {
            throw new IllegalStateException("no per-class sums were accumulated");
        }
        return classes[c];
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
