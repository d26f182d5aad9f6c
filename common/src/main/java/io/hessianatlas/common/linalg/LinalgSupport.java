package io.hessianatlas.common.linalg;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Helpers shared by the dense linear-algebra and spectrum classes: shape messages, argument checks and an
 * overflow/underflow-safe Frobenius norm. Shapes are always written {@code (rows x cols)}.
 */
public final class LinalgSupport {

    private LinalgSupport() {
    }

    public static String shape(long rows, long cols) {
        return "(" + rows + " x " + cols + ")";
    }

    /**
     * Checks that {@code m} holds a square row-major {@code (n x n)} matrix.
     *
     * @throws IllegalArgumentException naming the matrix, the declared shape and the array length
     */
    public static void requireSquare(String name, double[] m, int n) {
        if (m == null) {
            throw new IllegalArgumentException(name + " is null, expected a row-major " + shape(n, n) + " matrix");
        }
        if (n < 0) {
            throw new IllegalArgumentException(name + ": negative dimension " + n);
        }
        if (m.length != (long) n * n) {
            throw new IllegalArgumentException(name + ": declared shape " + shape(n, n) + " needs " + (long) n * n
                    + " entries, but the array has " + m.length + " entries"
                    + squareHint(m.length));
        }
    }

    /** ", i.e. (k x k)" when len is a perfect square, else "". */
    public static String squareHint(long len) {
        long k = (long) Math.sqrt((double) len);
        while (k * k > len) {
            k--;
        }
        while ((k + 1) * (k + 1) <= len) {
            k++;
        }
        return k * k == len ? " " + shape(k, k) : "";
    }

    /** Throws IllegalArgumentException naming the first NaN or infinite entry of a row-major matrix. */
    public static void requireFinite(String name, double[] m, int cols) {
        for (int k = 0; k < m.length; k++) {
            if (!Double.isFinite(m[k])) {
                throw new IllegalArgumentException(name + ": non-finite entry " + m[k] + " at ["
                        + (k / cols) + "][" + (k % cols) + "]");
            }
        }
    }

    /** Magnitudes outside [2^-450, 2^450] (about 1e-135 .. 1e135) are rescaled by {@link #powerOfTwoScale}. */
    private static final double SCALE_LOW = 0x1p-450;
    private static final double SCALE_HIGH = 0x1p450;

    /**
     * An exact power of two s such that s·max|w| is about 1 when max|w| is so small or so large that
     * sums of squares of w's entries (vector norms) would underflow or overflow; 1 otherwise (and for
     * w = 0 or non-finite w). Iterative eigensolvers multiply every operator product by s and divide
     * their eigenvalues by it: the iteration is scale-invariant, and multiplying by a power of two is exact.
     */
    public static double powerOfTwoScale(INDArray w) {
        double amax = w.amaxNumber().doubleValue();
        if (!(amax > 0) || Double.isInfinite(amax) || (amax >= SCALE_LOW && amax <= SCALE_HIGH)) {
            return 1.0;
        }
        return Math.scalb(1.0, -Math.getExponent(amax));
    }

    /**
     * {@code sqrt(sum x_k^2)} over {@code x[from .. from+len)}, safe for entries up to
     * {@link Double#MAX_VALUE} and down to subnormals: the entries are scaled by a power of two
     * (exact) so that the largest is about 1 before squaring.
     */
    public static double frobenius(double[] x, int from, int len) {
        double max = 0;
        for (int k = from, end = from + len; k < end; k++) {
            double ax = Math.abs(x[k]);
            if (ax > max) {
                max = ax;
            } else if (ax != ax) {
                return Double.NaN;
            }
        }
        if (max == 0 || Double.isInfinite(max)) {
            return max;
        }
        int e = Math.getExponent(max);
        double s = Math.scalb(1.0, -e);
        double ssq = 0;
        for (int k = from, end = from + len; k < end; k++) {
            double v = x[k] * s;
            ssq += v * v;
        }
        return Math.scalb(Math.sqrt(ssq), e);
    }
}
