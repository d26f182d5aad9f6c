package io.hessianatlas.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hessianatlas.common.nd4j.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * delta^L against finite differences of J, Q^L against finite differences of delta^L, and
 * Q^L = S Sᵀ, for every loss on a batch of 3 samples with 4 outputs.
 */
class LossFiniteDifferenceTest {
    private static final double H = 1e-5;
    /** Central differences of smooth functions of O(1) logits: truncation + round-off below 1e-8. */
    private static final double FD_TOLERANCE = 1e-8;
    /** Q^L and S Sᵀ agree to rounding. */
    private static final double FACTOR_TOLERANCE = 1e-14;
    private static final int P = 4;
    private static final int B = 3;

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    private static INDArray logits() {
        return Nd4j.create(new double[] {0.3, -1.2, 2.0, 0.5, 0.0, -0.7, 1.1, -2.3, 0.9, 0.4, 0.25, -0.15}, new long[] {P, B}, 'c');
    }

    private static INDArray targets(Loss loss) {
        switch (loss) {
            case SOFTMAX_CROSS_ENTROPY:
                return Loss.oneHot(new int[] {2, 0, 3}, P);
            case SIGMOID_BINARY_CROSS_ENTROPY:
                return Nd4j.create(new double[] {1, 0, 1, 0, 0, 1, 1, 1, 0, 0.5, 1, 0}, new long[] {P, B}, 'c');
            default:
                return Nd4j.create(new double[] {0.1, 2, -1, 0.3, 0.3, 0.3, -0.5, 1, 2, 0, 0, 1}, new long[] {P, B}, 'c');
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void deltaAndHessianMatchFiniteDifferences(Loss loss) {
        INDArray z = logits();
        INDArray y = targets(loss);
        INDArray delta = loss.delta(z, y);
        INDArray q = loss.hessian(z);             // (P x P B) sample-major
        for (int i = 0; i < P; i++) {
            INDArray zp = z.dup();
            INDArray zm = z.dup();
            zp.getRow(i).addi(H);
            zm.getRow(i).addi(-H);
            double[] dJ = loss.value(zp, y).sub(loss.value(zm, y)).divi(2 * H).data().asDouble();
            INDArray dDelta = loss.delta(zp, y).sub(loss.delta(zm, y)).divi(2 * H);
            for (int s = 0; s < B; s++) {
                assertEquals(dJ[s], delta.getDouble(i, s), FD_TOLERANCE, loss + " delta[" + i + "] sample " + s);
                for (int k = 0; k < P; k++) {
                    assertEquals(dDelta.getDouble(k, s), q.getDouble(k, (long) s * P + i), FD_TOLERANCE,
                            loss + " Q[" + k + "][" + i + "] sample " + s);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void hessianEqualsFactorTimesTranspose(Loss loss) {
        INDArray z = logits();
        INDArray s = loss.hessianFactor(z);
        INDArray q = loss.hessian(z);
        for (int b = 0; b < B; b++) {
            INDArray sb = s.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval((long) b * P, (long) (b + 1) * P));
            INDArray qb = q.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval((long) b * P, (long) (b + 1) * P));
            double err = sb.mmul(sb.transpose()).sub(qb).amaxNumber().doubleValue();
            assertTrue(err <= FACTOR_TOLERANCE, loss + " sample " + b + ": |S Sᵀ - Q| = " + err);
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void finiteForLogitsOfPlusMinus1000(Loss loss) {
        INDArray z = Nd4j.create(new double[] {1000, -1000, 0, 999, -1000, 1000, -999, 0, 0, -1000, 1000, 5}, new long[] {P, B}, 'c');
        INDArray y = targets(loss);
        for (INDArray out : new INDArray[] {loss.value(z, y), loss.delta(z, y), loss.hessian(z), loss.hessianFactor(z), loss.output(z)}) {
            for (double v : out.data().asDouble()) {
                assertTrue(Double.isFinite(v), loss + " gave " + v + " for logits of ±1000");
            }
        }
        if (loss == Loss.SOFTMAX_CROSS_ENTROPY) {
            // sample 0: z = (1000, 999, -999, -1000), label 2: J = logsumexp(z) - z_2 = 1999 + log1p(e^-1)
            assertEquals(1999.0 + Math.log1p(Math.exp(-1.0)), loss.value(z, y).getDouble(0), 1e-9,
                    "softmax CE with a dominant wrong logit");
        }
    }

    @Test
    void oneHotRejectsOutOfRangeClass() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Loss.oneHot(new int[] {0, 3}, 3));
        assertTrue(e.getMessage().contains("class index 3 of sample 1"), e.getMessage());
    }

    @Test
    void parseAcceptsProductAndOracleNames() {
        assertEquals(Loss.SOFTMAX_CROSS_ENTROPY, Loss.parse("softmax_ce"));
        assertEquals(Loss.SIGMOID_BINARY_CROSS_ENTROPY, Loss.parse("sigmoid_binary_cross_entropy"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Loss.parse("hinge"));
        assertTrue(e.getMessage().contains("unknown loss 'hinge'"), e.getMessage());
    }
}
