package io.hessianatlas.jobs.analyze.spark;

import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.spectra.SymmetricOperator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The mean curvature of a layer's θ-block (layer ≥ 1) or of the whole network (layer 0) as a
 * matrix-free operator over the persisted input batches: {@code H V = (1/N) Σ_s H_s V} for a block
 * V {@code (d x b)}. Each {@link #apply} is one distributed pass, which the other matrices' iterations
 * of the run may share ({@link SharedPasses}): V is broadcast, every partition adds the products of its
 * mini-batches ({@link io.hessianatlas.common.hessian.CurvatureProducts}, GEMMs over samples and
 * directions), and the partial sums are merged deterministically.
 */
final class DistributedCurvatureOperator implements SymmetricOperator {
    private final SharedPasses.Participant participant;
    private final int layer;
    private final Precision precision;
    private final long dimension;

    /**
     * @param layer     1-based layer, or 0 for the whole network (all layers, cross-layer blocks included)
     * @param precision the executors' compute type of the per-batch products (their sums are float64)
     */
    DistributedCurvatureOperator(SharedPasses.Participant participant, Network net, int layer, Precision precision) {
        this.participant = participant;
        this.layer = layer;
        this.precision = precision;
        this.dimension = SharedPasses.dimension(net, layer);
    }

    /** The same matrix with the per-batch products computed in {@code products}, for the same participant. */
    DistributedCurvatureOperator withPrecision(Precision products) {
        return participant.operator(layer, products);
    }

    @Override
    public long dimension() {
        return dimension;
    }

    @Override
    public INDArray apply(INDArray block) {
        if (block.rows() != dimension) {
            throw new IllegalArgumentException("block has " + block.rows() + " rows, the operator's dimension is " + dimension);
        }
        return participant.product(layer, precision, block);
    }
}
