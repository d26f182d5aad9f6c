package io.hessianatlas.common.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one tolerance rule of docs/design.md §7: |x − ref| ≤ 1e-8·|ref| + 1e-10·scale, where scale is
 * max|λ| of that matrix for eigenvalues, and the Frobenius norm of the reference for entries and
 * scalars (for per-sample score lists: the Euclidean norm of the list over samples).
 */
public final class Tolerance {
    public static final double RELATIVE = 1e-8;
    public static final double SCALE_FACTOR = 1e-10;

    private Tolerance() {
    }

    /** Entries or scalars: scale = Frobenius norm of the reference. */
    public static void assertEntries(String what, double[] ref, double[] actual) {
        assertClose(what, ref, actual, norm(ref));
    }

    /** Eigenvalues (both sorted the same way): scale = max|λ| of the reference. */
    public static void assertEigenvalues(String what, double[] ref, double[] actual) {
        double scale = 0;
        for (double v : ref) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertClose(what, ref, actual, scale);
    }

    public static void assertScalar(String what, double ref, double actual) {
        assertClose(what, new double[] {ref}, new double[] {actual}, Math.abs(ref));
    }

    public static void assertClose(String what, double[] ref, double[] actual, double scale) {
        assertClose(what, ref, actual, scale, RELATIVE, SCALE_FACTOR);
    }

    /** The same rule with other constants: |x − ref| ≤ relative·|ref| + scaleFactor·scale. */
    public static void assertClose(String what, double[] ref, double[] actual, double scale, double relative,
                                   double scaleFactor) {
        assertEquals(ref.length, actual.length, what + ": length");
        for (int k = 0; k < ref.length; k++) {
            double bound = relative * Math.abs(ref[k]) + scaleFactor * scale;
            if (!(Math.abs(actual[k] - ref[k]) <= bound)) {
                fail(what + ": entry " + k + " is " + actual[k] + ", reference " + ref[k] + " (|diff| "
                        + Math.abs(actual[k] - ref[k]) + " > " + bound + ")");
            }
        }
    }

    public static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
