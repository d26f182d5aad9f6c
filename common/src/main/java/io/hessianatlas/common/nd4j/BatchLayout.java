package io.hessianatlas.common.nd4j;

import java.nio.ByteBuffer;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Index helpers for the "sample-major" batch layout used everywhere in the engine: a batch of B
 * per-sample {@code (n x k)} matrices M_s is one {@code (n x kB)} matrix {@code [M_0 | M_1 | ... ]},
 * so that column {@code s*k + j} is column j of sample s. One ND4J op each, never a per-sample loop.
 */
public final class BatchLayout {
    private BatchLayout() {
    }

    /** {@code (n x kB)} with entry {@code [i, s*k+j] = x[i, s]}: each column of x repeated k times. */
    public static INDArray repeatColumns(INDArray x, int k) {
        if (k == 1) {
            return x.dup();
        }
        return x.repeat(1, k);
    }

    /**
     * Scales per-sample blocks in place: {@code x[i, s*k + j] *= d[i, s]} for x {@code (n x kB)}
     * sample-major and d {@code (n x B)} — that is D_s X_s for every sample, as one broadcast op
     * on the {@code (n, B, k)} view (no {@code (n x kB)} copy of d). Returns x's values (a new
     * array when x's layout does not allow a view).
     */
    public static INDArray scaleSampleMajor(INDArray x, INDArray d, int k) {
        long n = x.rows();
        long b = d.columns();
        INDArray x3 = x.reshape('c', n, b, k);
        x3.muli(d.reshape('c', n, b, 1));
        return x3.reshape('c', n, b * k);
    }

    /**
     * Scales per-sample columns of a direction-major block in place: {@code x[i, c*B + s] *= d[i, s]}
     * for x {@code (n x bB)} ("vector-major": direction c of sample s) and d {@code (n x B)}.
     */
    public static INDArray scaleVectorMajor(INDArray x, INDArray d, int b) {
        long n = x.rows();
        long bs = d.columns();
        INDArray x3 = x.reshape('c', n, b, bs);
        x3.muli(d.reshape('c', n, 1, bs));
        return x3.reshape('c', n, b * bs);
    }

    /** {@code (1 x kB)} with entry {@code [s*k+j] = x[j, s]}: x {@code (k x B)} flattened sample by sample. */
    public static INDArray sampleMajorRow(INDArray x) {
        return x.transpose().dup('c').reshape('c', 1, x.length());
    }

    /** {@code (n x nB)} with entry {@code [i, s*n+j] = (i == j)}: B identities side by side. */
    public static INDArray tiledIdentity(int n, int b, DataType type) {
        INDArray eye = Nd4j.eye(n).castTo(type);
        return b == 1 ? eye : Nd4j.tile(eye, 1, b);
    }

    /**
     * The per-sample Kronecker products {@code u_s = x_s ⊗ c_s} for column-major vec, as one matrix:
     * given X {@code (m x B)} and C {@code (n x kB)} sample-major, returns U {@code (mn x kB)} with
     * {@code U[j*n+i, s*k+q] = X[j, s] C[i, s*k+q]}. Used for θ-block factors ã ⊗ C and gradients ã ⊗ δ.
     */
    public static INDArray columnKron(INDArray x, INDArray c, int k) {
        long m = x.rows();
        long n = c.rows();
        long cols = c.columns();
        if (x.columns() * k != cols) {
            throw new IllegalArgumentException("columnKron: x (" + m + " x " + x.columns() + ") does not match c ("
                    + n + " x " + cols + ") with " + k + " columns per sample");
        }
        INDArray xr = repeatColumns(x, k).reshape('c', m, 1, cols);
        INDArray cr = c.dup('c').reshape('c', 1, n, cols);
        return xr.mul(cr).reshape('c', m * n, cols);
    }

    /**
     * The values of a rank-2 x {@code (n x k)} as a row-major float64 Java array (entry (i, j) at
     * {@code i*k + j}): one bulk copy (with conversion for FLOAT), so the reductions that follow are
     * plain loops rather than one ND4J op each.
     */
    public static double[] rowMajorValues(INDArray x) {
        INDArray p = HostBuffers.isPacked(x) && x.ordering() == 'c' ? x : x.dup('c');
        if (p.dataType() != DataType.DOUBLE && p.dataType() != DataType.FLOAT) {
            return p.data().asDouble();
        }
        // one bulk read of the buffer, several times faster than asDouble()
        ByteBuffer bytes = HostBuffers.bytes(p);
        int len = (int) p.length();
        double[] out = new double[len];
        if (p.dataType() == DataType.DOUBLE) {
            bytes.asDoubleBuffer().get(out);
        } else {
            float[] f = new float[len];
            bytes.asFloatBuffer().get(f);
            for (int i = 0; i < len; i++) {
                out[i] = f[i];
            }
        }
        return out;
    }

    /**
     * Values per bulk read in {@link #columnSquaredNorms(INDArray)}: 8,192 (64 KB of doubles), so the
     * per-thread scratch stays small and in L2 whatever the batch size.
     */
    static final int NORM_CHUNK = 8192;

    private static final ThreadLocal<double[]> DOUBLE_CHUNK = ThreadLocal.withInitial(() -> new double[NORM_CHUNK]);
    private static final ThreadLocal<float[]> FLOAT_CHUNK = ThreadLocal.withInitial(() -> new float[NORM_CHUNK]);

    /**
     * Σ_i x[i, j]² per column j of a rank-2 x {@code (n x cols)}, DOUBLE or FLOAT, summed in float64
     * in memory order (down each column for 'f', along each row for 'c'). A packed x is read from its
     * buffer in bulk chunks of {@link #NORM_CHUNK} values into a per-thread scratch array and summed
     * there: no Java copy of the whole of x (it may be megabytes per batch) and no per-element buffer
     * call (slow under the launchers' C1 JIT; an ND4J reduction along the strided dimension was no
     * faster, docs/performance.md).
     */
    public static double[] columnSquaredNorms(INDArray x) {
        int rows = (int) x.rows();
        int cols = (int) x.columns();
        DataType type = x.dataType();
        if (!HostBuffers.isPacked(x) || (type != DataType.DOUBLE && type != DataType.FLOAT)) {
            return columnSquaredNorms(rowMajorValues(x), cols);
        }
        ByteBuffer bytes = HostBuffers.bytes(x);
        double[] out = new double[cols];
        boolean columnMajor = x.ordering() == 'f';
        int line = columnMajor ? rows : cols;                 // contiguous run: a column ('f') or a row ('c')
        long total = (long) rows * cols;
        java.nio.DoubleBuffer doubles = type == DataType.DOUBLE ? bytes.asDoubleBuffer() : null;
        java.nio.FloatBuffer floats = doubles == null ? bytes.asFloatBuffer() : null;
        double[] chunk = DOUBLE_CHUNK.get();
        float[] fChunk = floats != null ? FLOAT_CHUNK.get() : null;
        int lineIndex = 0;
        int pos = 0;                                         // position within the current line
        for (long start = 0; start < total; start += NORM_CHUNK) {
            int len = (int) Math.min(NORM_CHUNK, total - start);
            if (doubles != null) {
                doubles.get((int) start, chunk, 0, len);
            } else {
                // widened once here, so one summation loop serves both types (the same float64 sums)
                floats.get((int) start, fChunk, 0, len);
                for (int q = 0; q < len; q++) {
                    chunk[q] = fChunk[q];
                }
            }
            for (int k = 0; k < len; ) {
                int run = Math.min(len - k, line - pos);
                accumulate(chunk, k, run, out, columnMajor ? lineIndex : -1, pos);
                k += run;
                pos += run;
                if (pos == line) {
                    pos = 0;
                    lineIndex++;
                }
            }
        }
        return out;
    }

    /**
     * Adds the squares of {@code v[from .. from+run)} to out: all to {@code out[column]} (a piece of
     * one column, column &gt;= 0), or element q to {@code out[firstColumn + q]} (a piece of one row,
     * column &lt; 0). Sequential, so a sum split over chunks rounds as one loop would.
     */
    private static void accumulate(double[] v, int from, int run, double[] out, int column, int firstColumn) {
        if (column >= 0) {
            double t = out[column];
            for (int q = from, end = from + run; q < end; q++) {
                double e = v[q];
                t += e * e;
            }
            out[column] = t;
        } else {
            for (int q = 0; q < run; q++) {
                double e = v[from + q];
                out[firstColumn + q] += e * e;
            }
        }
    }

    /** Σ_i x[i, j]² per column j of row-major values of an {@code (n x cols)} matrix. */
    public static double[] columnSquaredNorms(double[] x, int cols) {
        double[] out = new double[cols];
        for (int o = 0; o < x.length; o += cols) {
            for (int j = 0; j < cols; j++) {
                double v = x[o + j];
                out[j] += v * v;
            }
        }
        return out;
    }
}
