package io.hessianatlas.common.hessian;

import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The floating-point type of the per-sample pass (forward, back-propagation, curvature factors,
 * per-batch products). Sums over batches, spectra and matrix-free products are always float64.
 * <ul>
 *   <li>{@link #FLOAT64}: everything in float64 (the reference).</li>
 *   <li>{@link #FLOAT32}: the batch arrays and their GEMMs in float32 (twice the GEMM peak on CPUs),
 *       each batch's products added to float64 sums; loss terms and per-sample eigenproblems are
 *       evaluated in float64 from the float32 values.</li>
 * </ul>
 */
public enum Precision {
    FLOAT64(DataType.DOUBLE), FLOAT32(DataType.FLOAT);

    private final DataType dataType;

    Precision(DataType dataType) {
        this.dataType = dataType;
    }

    /** The ND4J compute type of the batch arrays. */
    public DataType dataType() {
        return dataType;
    }

    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
