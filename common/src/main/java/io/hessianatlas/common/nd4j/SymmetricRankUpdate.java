package io.hessianatlas.common.nd4j;

import java.util.Arrays;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The symmetric rank-k update {@code C = beta C + X Xᵀ} for X {@code (n x k)} and C {@code (n x n)},
 * the shape of the factor sums Σ ã ãᵀ and Σ C Cᵀ. BLAS {@code ?syrk} does half the flops of a GEMM
 * but only updates one triangle: callers update through here and call {@link #symmetrize} once when
 * they read C.
 *
 * <p>ND4J's own {@code Level3.syrk} passes k = 1 (a rank-1 update) in 1.0.0-M2.1, so on the CPU
 * backend this calls OpenBLAS's {@code cblas_?syrk} through {@link OpenBlas}; on any other backend,
 * or without the bytedeco OpenBLAS preset, it falls back to one ND4J GEMM, which fills both
 * triangles ({@link #symmetrize} is then a no-op in effect).
 */
public final class SymmetricRankUpdate {
    private SymmetricRankUpdate() {
    }

    /** Whether updates run as BLAS syrk (one triangle) rather than the GEMM fallback. */
    public static boolean usesSyrk() {
        return OpenBlas.available() && NativeRuntime.isCpuBackend();
    }

    /**
     * {@code C = beta C + X Xᵀ}, X {@code (n x k)} packed ('c' or 'f'), C {@code (n x n)} packed, both
     * of one data type (DOUBLE or FLOAT). Only one triangle of C is guaranteed: read it through
     * {@link #symmetrize}.
     *
     * @throws IllegalArgumentException naming both shapes when they do not fit
     */
    public static void update(INDArray x, INDArray c, double beta) {
        long n = x.rows();
        long k = x.columns();
        if (x.rank() != 2 || c.rank() != 2 || c.rows() != n || c.columns() != n) {
            throw new IllegalArgumentException("syrk: X has shape " + Arrays.toString(x.shape()) + ", C has shape "
                    + Arrays.toString(c.shape()) + ", expected (n x k) and (n x n)");
        }
        if (!usesSyrk() || !HostBuffers.isPacked(x) || !HostBuffers.isPacked(c) || x.dataType() != c.dataType()
                || (x.dataType() != DataType.DOUBLE && x.dataType() != DataType.FLOAT)) {
            Nd4j.gemm(x, x, c, false, true, 1.0, beta);
            return;
        }
        // C is symmetric in value, so its buffer can be taken as column-major whatever its order.
        // X 'f' is (n x k) column-major: C = X Xᵀ, no transpose, lda = n. X 'c' is the column-major
        // (k x n) matrix Xᵀ: C = (Xᵀ)ᵀ Xᵀ, transposed, lda = k.
        boolean columnMajor = x.ordering() == 'f';
        int trans = columnMajor ? OpenBlas.NO_TRANS : OpenBlas.TRANS;
        int lda = (int) (columnMajor ? n : k);
        if (x.dataType() == DataType.DOUBLE) {
            OpenBlas.dsyrk(OpenBlas.UPPER, trans, (int) n, (int) k, 1.0, new DoublePointer(x.data().addressPointer()),
                    lda, beta, new DoublePointer(c.data().addressPointer()), (int) n);
        } else {
            OpenBlas.ssyrk(OpenBlas.UPPER, trans, (int) n, (int) k, 1.0f, new FloatPointer(x.data().addressPointer()),
                    lda, (float) beta, new FloatPointer(c.data().addressPointer()), (int) n);
        }
    }

    /**
     * Makes the row-major values of an {@code (n x n)} matrix updated by {@link #update} symmetric:
     * the column-major upper triangle syrk fills is the row-major lower one, copied to the upper.
     */
    public static void symmetrize(double[] c, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                c[i * n + j] = c[j * n + i];
            }
        }
    }
}
