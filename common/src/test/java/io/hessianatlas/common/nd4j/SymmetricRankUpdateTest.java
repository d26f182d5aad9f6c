package io.hessianatlas.common.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link SymmetricRankUpdate} against a plain-Java triple loop: C0 + X Xᵀ for X in both orders and
 * both data types, accumulated twice (beta = 1) and once from zero (beta = 0), read through
 * {@code symmetrize}.
 */
class SymmetricRankUpdateTest {
    /** float64: a sum of k products, relative to Σ|x_i x_j|. */
    private static final double TOL64 = 1e-13;
    /** float32 inputs and products. */
    private static final double TOL32 = 1e-5;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    @Test
    void cpuBackendUsesBlasSyrk() {
        // the fast path this class exists for; fails if the OpenBLAS lookup silently broke
        assertTrue(!NativeRuntime.isCpuBackend() || SymmetricRankUpdate.usesSyrk(), "cblas_?syrk found on the CPU backend");
    }

    @ParameterizedTest(name = "{0} {1} ({2} x {3})")
    @CsvSource({"c, DOUBLE, 37, 19", "f, DOUBLE, 37, 19", "c, FLOAT, 23, 40", "f, FLOAT, 23, 40", "c, DOUBLE, 1, 5",
            "f, DOUBLE, 6, 1"})
    void matchesDirectSum(char order, DataType type, int n, int k) {
        Random r = new Random(n * 31L + k);
        double[] x = new double[n * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        double[] c0 = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                c0[i * n + j] = c0[j * n + i] = r.nextGaussian();
            }
        }
        INDArray xs = Nd4j.create(x, new long[] {n, k}, 'c').castTo(type).dup(order);
        INDArray c = Nd4j.create(c0, new long[] {n, n}, 'c').castTo(type);
        SymmetricRankUpdate.update(xs, c, 1.0);
        SymmetricRankUpdate.update(xs, c, 1.0);
        double[] got = c.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        SymmetricRankUpdate.symmetrize(got, n);

        INDArray fresh = Nd4j.zeros(type, n, n);
        SymmetricRankUpdate.update(xs, fresh, 0.0);
        double[] once = fresh.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        SymmetricRankUpdate.symmetrize(once, n);

        double tol = type == DataType.DOUBLE ? TOL64 : TOL32;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                double mag = 0;
                for (int q = 0; q < k; q++) {
                    dot += x[i * k + q] * x[j * k + q];
                    mag += Math.abs(x[i * k + q] * x[j * k + q]);
                }
                String at = order + " " + type + " entry (" + i + ", " + j + ")";
                assertEquals(c0[i * n + j] + 2 * dot, got[i * n + j], tol * (2 * mag + Math.abs(c0[i * n + j]) + 1), at);
                assertEquals(dot, once[i * n + j], tol * (mag + 1), at + " from zero");
            }
        }
    }

    @Test
    void shapeMismatchNamesBothShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SymmetricRankUpdate.update(Nd4j.zeros(DataType.DOUBLE, 4, 3), Nd4j.zeros(DataType.DOUBLE, 3, 3), 1.0));
        assertTrue(e.getMessage().contains("[4, 3]") && e.getMessage().contains("[3, 3]"), e.getMessage());
    }
}
