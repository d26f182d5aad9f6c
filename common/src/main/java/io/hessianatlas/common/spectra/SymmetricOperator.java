package io.hessianatlas.common.spectra;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A symmetric linear operator known only through products: the matrix-free H of a layer or of the
 * whole network. One call applies it to a block of vectors at once, because on a cluster each
 * call is one pass over the data and the block shares that pass.
 */
public interface SymmetricOperator {
    /** The dimension d of the operator. */
    long dimension();

    /**
     * H V for a block V {@code (d x b)}, float64; returns {@code (d x b)}. Must not modify V.
     */
    INDArray apply(INDArray block);
}
