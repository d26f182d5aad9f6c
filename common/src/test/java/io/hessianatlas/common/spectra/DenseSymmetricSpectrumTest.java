package io.hessianatlas.common.spectra;

import static io.hessianatlas.common.testing.LinalgTestSupport.column;
import static io.hessianatlas.common.testing.LinalgTestSupport.maxAbs;
import static io.hessianatlas.common.testing.LinalgTestSupport.randomSymmetric;
import static io.hessianatlas.common.testing.LinalgTestSupport.residual;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.hessianatlas.common.testing.LinalgTestSupport;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class DenseSymmetricSpectrumTest {

    /** Eigenvalue agreement relative to max|lambda|. */
    static final double VALUE_TOLERANCE = 1e-12;
    /** ||A v - lambda v|| relative to max|lambda|. */
    static final double RESIDUAL_TOLERANCE = 1e-12;
    /** Agreement of float32 input with its float64-cast copy. */
    static final double FLOAT_INPUT_TOLERANCE = 1e-12;
    /** Trace / Frobenius norm relative error. */
    static final double NORM_TOLERANCE = 1e-14;

    /**
     * A = Q diag(5, 2, -1) Q^T with a non-symmetric orthogonal Q, so that reading the LAPACK output
     * as rows instead of columns would give wrong vectors.
     */
    private static final double[] KNOWN_Q;
    private static final double[] KNOWN_A;
    private static final double[] KNOWN_VALUES = {5, 2, -1};

    static {
        double s = 1 / Math.sqrt(2);
        double t = 1 / Math.sqrt(3);
        double u = 1 / Math.sqrt(6);
        // columns: (1,1,1)/sqrt3, (1,-1,0)/sqrt2, (1,1,-2)/sqrt6
        KNOWN_Q = new double[] {
            t, s, u,
            t, -s, u,
            t, 0, -2 * u};
        KNOWN_A = LinalgTestSupport.withSpectrum(KNOWN_Q, KNOWN_VALUES);
    }

    @Test
    @DisplayName("known 3 x 3: values descending, LAPACK eigenvectors read as columns (rows would be wrong)")
    void knownMatrixEigenvectorsAreColumns() {
        DenseSymmetricSpectrum sp = DenseSymmetricSpectrum.of(KNOWN_A, 3, true);
        assertArrayEquals(KNOWN_VALUES, sp.eigenvalues(), VALUE_TOLERANCE * 5);
        assertEquals(5, sp.largest(), VALUE_TOLERANCE * 5);
        assertEquals(-1, sp.smallest(), VALUE_TOLERANCE * 5);
        double[] v = sp.eigenvectors();
        for (int c = 0; c < 3; c++) {
            double[] col = column(v, 3, 3, c);
            double[] expected = column(KNOWN_Q, 3, 3, c);
            double dot = 0;
            for (int r = 0; r < 3; r++) {
                dot += col[r] * expected[r];
            }
            assertEquals(1.0, Math.abs(dot), 1e-12, "column " + c + " is +-Q[:, " + c + "]");
            assertArrayEquals(col, sp.eigenvector(c), 0.0, "eigenvector(c) = column c");
            assertTrue(residual(KNOWN_A, 3, col, KNOWN_VALUES[c]) < RESIDUAL_TOLERANCE * 5, "A v = lambda v");
        }
        // the transposed reading is not an eigen-basis for this matrix
        boolean rowsAreEigenvectors = true;
        for (int c = 0; c < 3; c++) {
            double[] row = {v[c * 3], v[c * 3 + 1], v[c * 3 + 2]};
            rowsAreEigenvectors &= residual(KNOWN_A, 3, row, KNOWN_VALUES[c]) < 1e-6;
        }
        assertFalse(rowsAreEigenvectors, "rows of V must not be eigenvectors here (test would not detect a transpose)");
    }

    @Test
    @DisplayName("[[2,1],[1,2]] has eigenvalues {3, 1}")
    void twoByTwo() {
        assertArrayEquals(new double[] {3, 1}, DenseSymmetricSpectrum.eigenvalues(new double[] {2, 1, 1, 2}, 2), 1e-14);
    }

    @Test
    @DisplayName("random n = 80: values-only (dsyev 'N') equals the with-vectors path; every column is an eigenvector")
    void valuesOnlyMatchesWithVectors() {
        int n = 80;
        double[] a = randomSymmetric(n, new Random(21));
        DenseSymmetricSpectrum full = DenseSymmetricSpectrum.of(a, n, true);
        double[] valuesOnly = DenseSymmetricSpectrum.eigenvalues(a, n);
        double scale = maxAbs(valuesOnly);
        assertArrayEquals(full.eigenvalues(), valuesOnly, VALUE_TOLERANCE * scale);
        for (int c = 0; c < n; c++) {
            double[] v = full.eigenvector(c);
            assertEquals(1.0, LinalgTestSupport.norm2(v), 1e-12, "unit vector " + c);
            assertTrue(residual(a, n, v, full.eigenvalue(c)) < RESIDUAL_TOLERANCE * scale, "residual " + c);
        }
        double trace = DenseSymmetricSpectrum.trace(a, n);
        double sum = 0;
        for (double x : valuesOnly) {
            sum += x;
        }
        assertEquals(trace, sum, 1e-12 * n * scale, "trace = sum of eigenvalues");
        assertFalse(DenseSymmetricSpectrum.of(a, n, false).hasEigenvectors());
        assertThrows(IllegalStateException.class, () -> DenseSymmetricSpectrum.of(a, n, false).eigenvectors());
    }

    @Test
    @DisplayName("INDArray input: 'c', 'f', float32, transposed and sub-matrix views all give the double[] result")
    void indarrayInputsOfAnyOrderAndType() {
        int n = 7;
        double[] a = randomSymmetric(n, new Random(22));
        double[] expected = DenseSymmetricSpectrum.eigenvalues(a, n);
        double scale = maxAbs(expected);
        INDArray c = Nd4j.create(a, new long[] {n, n}, 'c');
        INDArray f = c.dup('f');
        assertArrayEquals(expected, DenseSymmetricSpectrum.eigenvalues(c), VALUE_TOLERANCE * scale, "'c'");
        assertArrayEquals(expected, DenseSymmetricSpectrum.eigenvalues(f), VALUE_TOLERANCE * scale, "'f'");
        assertArrayEquals(expected, DenseSymmetricSpectrum.eigenvalues(c.transpose()), VALUE_TOLERANCE * scale, "transposed view");
        assertArrayEquals(a, c.data().asDouble(), "input untouched");
        assertArrayEquals(a, f.dup('c').data().asDouble(), "input untouched ('f')");

        INDArray f32 = c.castTo(DataType.FLOAT);
        double[] a32 = f32.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        assertArrayEquals(DenseSymmetricSpectrum.eigenvalues(a32, n), DenseSymmetricSpectrum.eigenvalues(f32),
                FLOAT_INPUT_TOLERANCE * scale, "float32 input is decomposed in float64");

        // the (n x n) block at rows/cols 1..n of a larger (n+2 x n+2) array
        double[] big = randomSymmetric(n + 2, new Random(23));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                big[(i + 1) * (n + 2) + (j + 1)] = a[i * n + j];
            }
        }
        INDArray view = Nd4j.create(big, new long[] {n + 2, n + 2}, 'c')
                .get(NDArrayIndex.interval(1, n + 1), NDArrayIndex.interval(1, n + 1));
        assertArrayEquals(expected, DenseSymmetricSpectrum.eigenvalues(view), VALUE_TOLERANCE * scale, "sub-matrix view");
        assertEquals(DenseSymmetricSpectrum.trace(a, n), DenseSymmetricSpectrum.trace(view), 1e-14 * n * scale);
        assertEquals(DenseSymmetricSpectrum.frobeniusNorm(a, n), DenseSymmetricSpectrum.frobeniusNorm(view), 1e-14 * n * scale);
    }

    @Test
    @DisplayName("eigenvectorMatrix() (INDArray), eigenvectors() and topEigenvectors(k) share one layout: columns")
    void eigenvectorLayoutsAgree() {
        int n = 6;
        double[] a = randomSymmetric(n, new Random(24));
        DenseSymmetricSpectrum sp = DenseSymmetricSpectrum.of(Nd4j.create(a, new long[] {n, n}, 'c'), true);
        double[] v = sp.eigenvectors();
        INDArray vm = sp.eigenvectorMatrix();
        assertEquals(DataType.DOUBLE, vm.dataType());
        assertArrayEquals(new long[] {n, n}, vm.shape());
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                assertEquals(v[r * n + c], vm.getDouble(r, c), 0.0, "V[" + r + "][" + c + "]");
            }
        }
        int k = 3;
        double[] top = sp.topEigenvectors(k);
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                assertEquals(v[r * n + c], top[r * k + c], 0.0);
            }
        }
        assertArrayEquals(sp.eigenvalues(), sp.eigenvalueVector().toDoubleVector(), 0.0);
        assertThrows(IllegalArgumentException.class, () -> sp.topEigenvectors(n + 1));
    }

    @Test
    @DisplayName("non-symmetric input is symmetrised as (M + M^T)/2")
    void symmetrisesInput() {
        int n = 5;
        double[] m = LinalgTestSupport.randomMatrix(n, n, new Random(25));
        double[] sym = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                sym[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]);
            }
        }
        double[] expected = DenseSymmetricSpectrum.eigenvalues(sym, n);
        assertArrayEquals(expected, DenseSymmetricSpectrum.eigenvalues(m, n), VALUE_TOLERANCE * maxAbs(expected));
    }

    @Test
    @DisplayName("trace and Frobenius norm: known values, INDArray = double[], no overflow at 1e300 / underflow at 1e-300")
    void traceAndFrobenius() {
        double[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertEquals(15, DenseSymmetricSpectrum.trace(a, 3));
        assertEquals(Math.sqrt(285), DenseSymmetricSpectrum.frobeniusNorm(a, 3), NORM_TOLERANCE * Math.sqrt(285));
        INDArray ai = Nd4j.create(a, new long[] {3, 3}, 'c');
        assertEquals(15, DenseSymmetricSpectrum.trace(ai));
        assertEquals(Math.sqrt(285), DenseSymmetricSpectrum.frobeniusNorm(ai), NORM_TOLERANCE * Math.sqrt(285));
        assertEquals(Math.sqrt(285), DenseSymmetricSpectrum.frobeniusNorm(ai.transpose()), NORM_TOLERANCE * Math.sqrt(285));
        for (double s : new double[] {1e300, 1e-300}) {
            double[] big = LinalgTestSupport.scaled(a, s);
            double expected = Math.sqrt(285) * s;
            assertEquals(expected, DenseSymmetricSpectrum.frobeniusNorm(big, 3), NORM_TOLERANCE * expected, "scale " + s);
            assertEquals(expected, DenseSymmetricSpectrum.frobeniusNorm(Nd4j.create(big, new long[] {3, 3}, 'c')),
                    NORM_TOLERANCE * expected, "INDArray scale " + s);
        }
        assertEquals(0.0, DenseSymmetricSpectrum.frobeniusNorm(new double[4], 2));
    }

    @Test
    @DisplayName("extreme scale 1e300: LAPACK path stays finite and scales exactly")
    void extremeScaleLapack() {
        int n = 10;
        double[] b = randomSymmetric(n, new Random(26));
        double[] expected = LinalgTestSupport.scaled(DenseSymmetricSpectrum.eigenvalues(b, n), 1e300);
        double[] got = DenseSymmetricSpectrum.eigenvalues(LinalgTestSupport.scaled(b, 1e300), n);
        assertArrayEquals(expected, got, VALUE_TOLERANCE * maxAbs(expected));
    }

    @Test
    @DisplayName("shape errors name the shapes: wrong length, non-square INDArray, NaN entry")
    void shapeErrors() {
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                () -> DenseSymmetricSpectrum.of(new double[16], 3, false));
        assertTrue(len.getMessage().contains("(3 x 3)") && len.getMessage().contains("(4 x 4)"), len.getMessage());
        IllegalArgumentException rect = assertThrows(IllegalArgumentException.class,
                () -> DenseSymmetricSpectrum.of(Nd4j.create(DataType.DOUBLE, 2, 3), false));
        assertTrue(rect.getMessage().contains("[2, 3]"), rect.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> DenseSymmetricSpectrum.of(new double[] {1, 0, 0, Double.NaN}, 2, false));
        assertTrue(nan.getMessage().contains("[1][1]"), nan.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DenseSymmetricSpectrum.trace(new double[5], 2));
    }
}
