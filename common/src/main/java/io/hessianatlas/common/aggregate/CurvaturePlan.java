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

    private CurvaturePlan(CurvatureMode mode, int[] layers, boolean[] dense, boolean empiricalFisher) {
        this.mode = mode;
        this.layers = layers;
        this.dense = dense;
        this.empiricalFisher = empiricalFisher;
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
        return new CurvaturePlan(mode, chosen, dense, empiricalFisher);
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
}
