package io.hessianatlas.common.spectra;

import io.hessianatlas.common.linalg.LinalgSupport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A {@link SymmetricOperator} backed by a dense symmetric matrix (tests, small blocks); counts its calls. */
public final class DenseOperator implements SymmetricOperator {
    private final INDArray matrix;
    private int calls;

    /** @param matrix row-major {@code (d x d)} */
    public DenseOperator(double[] matrix, int d) {
        LinalgSupport.requireSquare("matrix", matrix, d);
        this.matrix = Nd4j.create(matrix, new long[] {d, d}, 'c');
    }

    public DenseOperator(INDArray matrix) {
        this.matrix = matrix.castTo(DataType.DOUBLE);
    }

    @Override
    public long dimension() {
        return matrix.rows();
    }

    @Override
    public INDArray apply(INDArray block) {
        calls++;
        return matrix.mmul(block);
    }

    /** How many times {@link #apply} was called (passes, on a cluster). */
    public int calls() {
        return calls;
    }
}
