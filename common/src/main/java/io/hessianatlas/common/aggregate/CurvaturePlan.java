package io.hessianatlas.common.aggregate;

import java.io.Serializable;
import java.util.Arrays;

import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.ThetaIndex;

/**
 * What one pass over the data accumulates: the mode, the layers analysed, which of them keep the
 * dense θ-block H (it fits the memory budget), and whether the empirical Fisher F is kept (only for
 * layers with a dense block). Decided once on the driver, then shipped to every task.
 */
public final class CurvaturePlan implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Bytes of one float64. */
    private static final long DOUBLE_BYTES = 8L;

    private final CurvatureMode mode;
    private final int[] layers;
    private final boolean[] dense;   // indexed by layer number (1..L)
    private final boolean empiricalFisher;
    /** The per-class sums' plan (same layers, no F, dense where it fits), or null without --by-class. */
    private final CurvaturePlan perClass;
    private final int classCount;

    private CurvaturePlan(CurvatureMode mode, int[] layers, boolean[] dense, boolean empiricalFisher,
                          CurvaturePlan perClass, int classCount) {
        this.mode = mode;
        this.layers = layers;
        this.dense = dense;
        this.empiricalFisher = empiricalFisher;
        this.perClass = perClass;
        this.classCount = classCount;
    }

    /**
     * @param layers          1-based layer numbers to analyse (null or empty = all)
     * @param denseBudgetBytes a layer keeps its dense θ-block when 8·d² bytes ≤ budget, d = (m+1) n
     *                         (F, when asked for, needs as much again)
     * @param forceDense      keep every dense block regardless of the budget (the caller checked it)
     */
    public static CurvaturePlan of(Network network, CurvatureMode mode, int[] layers, long denseBudgetBytes,
                                   boolean forceDense, boolean empiricalFisher) {
        int depth = network.depth();
        int[] chosen = layers == null || layers.length == 0 ? allLayers(depth) : Arrays.stream(layers).sorted().distinct().toArray();
        boolean[] dense = new boolean[depth + 1];
        for (int l : chosen) {
            if (l < 1 || l > depth) {
                throw new IllegalArgumentException("layer " + l + " does not exist: the network has layers 1.." + depth);
            }
            dense[l] = forceDense || denseBytes(network.layer(l)) <= denseBudgetBytes;
        }
        return new CurvaturePlan(mode, chosen, dense, empiricalFisher, null, 0);
    }

    /**
     * This plan with per-class sums for {@code classCount} classes: every class keeps Σ ã ãᵀ, Σ Q,
     * Σ g and the trace of every layer (their bytes: {@link #perClassFactorBytes}), and a layer's
     * dense block where this plan keeps one and, going up from the lowest layer, the classes'
     * blocks still fit in {@code budgetBytes} beside the factors (C · 8d² bytes each). No F per class.
     *
     * @throws IllegalArgumentException when the factors alone exceed the budget (message names both)
     */
    public CurvaturePlan withClasses(Network network, int classCount, long budgetBytes) {
        if (classCount < 1) {
            throw new IllegalArgumentException("per-class sums need at least one class, got " + classCount);
        }
        long used = perClassFactorBytes(network, layers, classCount);
        if (used > budgetBytes) {
            throw new IllegalArgumentException("the per-class factors of " + classCount + " classes need "
                    + mib(used) + " MiB, over the budget of " + mib(budgetBytes) + " MiB");
        }
        boolean[] classDense = new boolean[dense.length];
        for (int l : layers) {
            long block = classCount * denseBytes(network.layer(l));
            if (dense[l] && used + block <= budgetBytes) {
                classDense[l] = true;
                used += block;
            }
        }
        CurvaturePlan classes = new CurvaturePlan(mode, layers, classDense, false, null, 0);
        return new CurvaturePlan(mode, layers, dense, empiricalFisher, classes, classCount);
    }

    /**
     * Bytes of the per-class sums without dense blocks: C · 8 ((m+1)² + n² + (m+1) n) over the
     * layers, the same again in each task's float64 accumulators and its partition's sums.
     */
    public static long perClassFactorBytes(Network network, int[] layers, int classCount) {
        long bytes = 0;
        for (int l : layers) {
            ThetaIndex theta = ThetaIndex.forLayer(network.layer(l).fanOut(), network.layer(l).fanIn());
            long m1 = theta.augmentedFanIn();
            long n = theta.fanOut();
            bytes += (m1 * m1 + n * n + m1 * n) * DOUBLE_BYTES;
        }
        return bytes * classCount;
    }

    /** Bytes as whole MiB, rounded up (the unit of --dense-budget-mb in messages). */
    public static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    /** Bytes of one float64 dense θ-block of the layer: 8 ((m+1) n)². */
    public static long denseBytes(DenseLayer layer) {
        long d = ThetaIndex.forLayer(layer.fanOut(), layer.fanIn()).dimension();
        return d * d * DOUBLE_BYTES;
    }

    private static int[] allLayers(int depth) {
        int[] all = new int[depth];
        for (int l = 1; l <= depth; l++) {
            all[l - 1] = l;
        }
        return all;
    }

    public CurvatureMode mode() {
        return mode;
    }

    /** Analysed layers, ascending, 1-based. */
    public int[] layers() {
        return layers.clone();
    }

    public int lowestLayer() {
        return layers[0];
    }

    public boolean isDense(int layer) {
        return layer < dense.length && dense[layer];
    }

    public boolean empiricalFisher(int layer) {
        return empiricalFisher && isDense(layer);
    }

    public boolean empiricalFisherRequested() {
        return empiricalFisher;
    }

    /** Classes with per-class sums (0 = none, the default). */
    public int classCount() {
        return classCount;
    }

    /** The plan of each class's sums, or null when there are none. */
    public CurvaturePlan perClass() {
        return perClass;
    }
}
