package io.hessianatlas.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.spectra.DenseSymmetricSpectrum;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Saturated units and confident outputs keep their relative accuracy (issue 5, numerics): the
 * activations' f, f', f'' and the losses' J, δ, Q^L, S and Q^L·r at pre-activations / logits from
 * ±5 to ±1000, against plain-Java references written with different cancellation-free formulas
 * (e^{-|z|} forms instead of 1 − rounded values), to 1e-12 relative. Before the fix, 1 − t² for
 * t = tanh 25 was 0 instead of 7.7e-22, and the exact-mode softmax Q^L of logits (1000, 960, −1000)
 * had an eigenvalue of −0.4 λ_max (1 − a_max was 0 instead of e^{-40}).
 */
class SaturationAccuracyTest {
    private static final double RELATIVE = 1e-12;
    private static final double C = Math.sqrt(2.0 / Math.PI);
    private static final double K = 0.044715;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    private static INDArray column(double[] v) {
        return Nd4j.create(v, new long[] {v.length, 1}, 'c');
    }

    private static void assertRelative(String what, double ref, double actual) {
        if (!(Math.abs(actual - ref) <= RELATIVE * Math.abs(ref))) {
            fail(what + ": " + actual + ", reference " + ref + " (relative error "
                    + Math.abs(actual - ref) / Math.abs(ref) + ")");
        }
    }

    /** e^{-|x|} / (1 + e^{-|x|})² = σ(x) σ(−x). */
    private static double logisticDensity(double x) {
        double e = Math.exp(-Math.abs(x));
        return e / ((1 + e) * (1 + e));
    }

    /** sech² x = 4 e^{-2|x|} / (1 + e^{-2|x|})². */
    private static double sech2(double x) {
        return 4 * logisticDensity(2 * x);
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    private static final double[] Z = {-700, -300, -100, -40, -36, -30, -25, -19, -5, -0.3, 0.3, 5, 19, 25, 30, 36,
        40, 100, 300, 700};

    @Test
    void saturatedActivationsKeepTheirRelativeAccuracy() {
        INDArray z = column(Z);
        double[][] tanh = {Activation.TANH.apply(z).data().asDouble(), Activation.TANH.derivative(z).data().asDouble(),
            Activation.TANH.secondDerivative(z).data().asDouble()};
        double[][] sig = {Activation.SIGMOID.apply(z).data().asDouble(),
            Activation.SIGMOID.derivative(z).data().asDouble(), Activation.SIGMOID.secondDerivative(z).data().asDouble()};
        double[][] sp = {Activation.SOFTPLUS.apply(z).data().asDouble(),
            Activation.SOFTPLUS.derivative(z).data().asDouble(), Activation.SOFTPLUS.secondDerivative(z).data().asDouble()};
        for (int k = 0; k < Z.length; k++) {
            double x = Z[k];
            String at = "(" + x + ")";
            if (Math.abs(x) <= 300) {   // sech² 700 ≈ 1e-608 underflows to 0, as does the reference
                assertRelative("tanh' " + at, sech2(x), tanh[1][k]);
                assertRelative("tanh'' " + at, -2 * Math.tanh(x) * sech2(x), tanh[2][k]);
            } else {
                assertEquals(0.0, tanh[1][k], "tanh' " + at);
                assertEquals(0.0, Math.abs(tanh[2][k]), "tanh'' " + at);
            }
            assertRelative("tanh " + at, Math.tanh(x), tanh[0][k]);
            assertRelative("sigmoid " + at, sigmoid(x), sig[0][k]);
            assertRelative("sigmoid' " + at, logisticDensity(x), sig[1][k]);
            // s (1 − s)(1 − 2s), 1 − 2s = −tanh(x/2); the difference of two values near 1/2 at small |x|
            // is accurate to 1e-16 absolute: compare against the scale of f'' (≤ 0.1) there
            double ref2 = -logisticDensity(x) * Math.tanh(x / 2);
            assertEquals(ref2, sig[2][k], Math.max(RELATIVE * Math.abs(ref2), Math.abs(x) < 1 ? 1e-16 : 0),
                    "sigmoid'' " + at);
            assertRelative("softplus " + at, Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), sp[0][k]);
            assertRelative("softplus' " + at, sigmoid(x), sp[1][k]);
            assertRelative("softplus'' " + at, logisticDensity(x), sp[2][k]);
        }
        double[] zg = {-12, -8, -5, -3, -1, 1, 3, 5, 8, 12};
        INDArray g = column(zg);
        double[] f = Activation.GELU.apply(g).data().asDouble();
        double[] d1 = Activation.GELU.derivative(g).data().asDouble();
        double[] d2 = Activation.GELU.secondDerivative(g).data().asDouble();
        for (int k = 0; k < zg.length; k++) {
            double x = zg[k];
            double u = C * (x + K * x * x * x);
            double du = C * (1 + 3 * K * x * x);
            double ddu = 6 * C * K * x;
            double onePlusT = 2 * sigmoid(2 * u);
            assertRelative("gelu (" + x + ")", x * onePlusT / 2, f[k]);
            double ref1 = onePlusT / 2 + x / 2 * sech2(u) * du;
            // f' of x < 0 is the difference of two tails of the same size: judge it against the larger one
            double scale1 = Math.max(Math.abs(ref1), Math.max(onePlusT / 2, Math.abs(x / 2 * sech2(u) * du)));
            assertEquals(ref1, d1[k], 1e-12 * scale1, "gelu' (" + x + ")");
            assertRelative("gelu'' (" + x + ")", sech2(u) * (du + x / 2 * (ddu - 2 * Math.tanh(u) * du * du)), d2[k]);
        }
    }

    /** Logits (p = 3, B = 4): confident (gaps 40, 300), a tie at the top, and logits of ±1000. */
    private static final double[][] LOGITS = {{1000, 960, -1000}, {-5, 295, 0}, {7, 7, -1}, {1000, -1000, 0}};

    private static INDArray batch(double[][] cols) {
        int p = cols[0].length;
        double[] v = new double[p * cols.length];
        for (int s = 0; s < cols.length; s++) {
            System.arraycopy(cols[s], 0, v, s * p, p);
        }
        return Nd4j.create(v, new long[] {p, cols.length}, 'f');
    }

    @Test
    void confidentSoftmaxKeepsItsNullVectorAndRelativeAccuracy() {
        Loss loss = Loss.SOFTMAX_CROSS_ENTROPY;
        INDArray z = batch(LOGITS);
        int p = 3;
        int b = LOGITS.length;
        int[] labels = {0, 0, 1, 2};
        INDArray y = Loss.oneHot(labels, p);
        INDArray q = loss.hessian(z);
        INDArray s = loss.hessianFactor(z);
        double[] value = loss.value(z, y).data().asDouble();
        INDArray delta = loss.delta(z, y);
        for (int c = 0; c < b; c++) {
            double[] zc = LOGITS[c];
            int top = 0;
            for (int k = 1; k < p; k++) {
                top = zc[k] > zc[top] ? k : top;
            }
            double[] e = new double[p];
            double rest = 0;
            for (int k = 0; k < p; k++) {
                e[k] = Math.exp(zc[k] - zc[top]);
                rest += k == top ? 0 : e[k];
            }
            double[] a = new double[p];
            double[] oneMinus = new double[p];
            for (int k = 0; k < p; k++) {
                a[k] = e[k] / (1 + rest);
                double others = 0;
                for (int j = 0; j < p; j++) {
                    others += j == k ? 0 : e[j];
                }
                oneMinus[k] = others / (1 + rest);
            }
            String at = "sample " + c + " " + java.util.Arrays.toString(zc);
            assertRelative(at + " J", (zc[top] - zc[labels[c]]) + Math.log1p(rest), value[c]);
            double[] qc = new double[p * p];
            double norm = 0;
            for (int i = 0; i < p; i++) {
                double d = i == labels[c] ? -oneMinus[i] : a[i];
                if (d == 0) {
                    assertEquals(0.0, delta.getDouble(i, c), at + " δ[" + i + "]");
                } else {
                    assertRelative(at + " δ[" + i + "]", d, delta.getDouble(i, c));
                }
                for (int j = 0; j < p; j++) {
                    double ref = i == j ? a[i] * oneMinus[i] : -a[i] * a[j];
                    qc[i * p + j] = q.getDouble(i, (long) c * p + j);
                    norm = Math.max(norm, Math.abs(ref));
                    if (ref == 0) {
                        assertEquals(0.0, Math.abs(qc[i * p + j]), at + " Q[" + i + "][" + j + "]");
                    } else {
                        assertRelative(at + " Q[" + i + "][" + j + "]", ref, qc[i * p + j]);
                    }
                }
            }
            // Q 1 = 0 and Q ⪰ 0, relative to the size of Q
            for (int i = 0; i < p; i++) {
                double row = 0;
                for (int j = 0; j < p; j++) {
                    row += qc[i * p + j];
                }
                assertTrue(Math.abs(row) <= 1e-15 * norm, at + ": (Q 1)[" + i + "] = " + row + ", ||Q|| " + norm);
            }
            double lambdaMin = DenseSymmetricSpectrum.of(qc, p, false).smallest(); // LAPACK dsyev
            assertTrue(lambdaMin >= -1e-15 * norm, at + ": λ_min(Q) " + lambdaMin + " < 0, ||Q|| " + norm);
            // S Sᵀ = Q
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    double ss = 0;
                    for (int k = 0; k < p; k++) {
                        ss += s.getDouble(i, (long) c * p + k) * s.getDouble(j, (long) c * p + k);
                    }
                    assertEquals(qc[i * p + j], ss, 1e-14 * norm, at + " (S Sᵀ)[" + i + "][" + j + "]");
                }
            }
        }
        // Q r for two directions per sample (column d·B + c): a general r, and r = 1 (Q 1 = 0)
        double[] r = new double[p * 2 * b];
        for (int k = 0; k < b * p; k++) {
            r[k] = Math.sin(1 + 3 * k);
            r[b * p + k] = 1.0;
        }
        INDArray rr = Nd4j.create(r, new long[] {p, 2L * b}, 'f');
        INDArray qr = loss.hessianTimes(z, rr);
        for (int c = 0; c < b; c++) {
            double norm = 0;
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    norm = Math.max(norm, Math.abs(q.getDouble(i, (long) c * p + j)));
                }
            }
            for (int i = 0; i < p; i++) {
                double ref = 0;
                for (int j = 0; j < p; j++) {
                    ref += q.getDouble(i, (long) c * p + j) * r[c * p + j];
                }
                assertEquals(ref, qr.getDouble(i, c), 1e-14 * norm, "sample " + c + " (Q r)[" + i + "]");
                assertEquals(0.0, qr.getDouble(i, b + c), 1e-15 * norm, "sample " + c + " (Q 1)[" + i + "]");
            }
        }
    }

    @Test
    void confidentSigmoidCrossEntropyKeepsItsRelativeAccuracy() {
        Loss loss = Loss.SIGMOID_BINARY_CROSS_ENTROPY;
        double[][] logits = {{20, 30, 36}, {-20, -30, -36}, {40, 100, 700}, {0.5, -1000, 1000}};
        double[][] labels = {{1, 1, 0}, {0, 1, 0}, {1, 0, 1}, {1, 0, 1}};
        INDArray z = batch(logits);
        INDArray y = batch(labels);
        double[] value = loss.value(z, y).data().asDouble();
        INDArray delta = loss.delta(z, y);
        INDArray q = loss.hessian(z);
        INDArray s = loss.hessianFactor(z);
        int p = 3;
        for (int c = 0; c < logits.length; c++) {
            double j = 0;
            for (int k = 0; k < p; k++) {
                double x = logits[c][k];
                double t = labels[c][k];
                String at = "sample " + c + " z = " + x + " y = " + t;
                double sp = Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
                double sn = Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
                j += (1 - t) * sp + t * sn;
                double ref = (1 - t) * sigmoid(x) - t * sigmoid(-x);
                double var = logisticDensity(x);
                if (ref == 0) {
                    assertEquals(0.0, Math.abs(delta.getDouble(k, c)), at + " δ");
                } else {
                    assertRelative(at + " δ", ref, delta.getDouble(k, c));
                }
                if (var == 0) {
                    assertEquals(0.0, q.getDouble(k, (long) c * p + k), at + " Q");
                } else {
                    assertRelative(at + " Q", var, q.getDouble(k, (long) c * p + k));
                    assertRelative(at + " S", Math.sqrt(var), s.getDouble(k, (long) c * p + k));
                }
            }
            assertRelative("sample " + c + " J", j, value[c]);
        }
    }
}
