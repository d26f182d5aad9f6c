package io.hessianatlas.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import io.hessianatlas.common.nd4j.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** f' and f'' of every activation against central finite differences of f and f'. */
class ActivationFiniteDifferenceTest {
    /** Central-difference step. */
    private static final double H = 1e-5;
    /** Truncation O(h²·f''') plus round-off O(eps/h): 1e-7 absolute covers both for |z| ≤ 6. */
    private static final double FD_TOLERANCE = 1e-7;
    /** Points away from the relu/leaky_relu kink at 0. */
    private static final double[] Z = {-6.0, -3.1, -1.7, -0.9, -0.35, -0.01, 0.02, 0.4, 0.77, 1.3, 2.2, 4.5, 6.0};

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    static Stream<Activation> activations() {
        return Stream.of(Activation.RELU, Activation.leakyRelu(0.1), Activation.TANH, Activation.SIGMOID,
                Activation.IDENTITY, Activation.SOFTPLUS, Activation.GELU);
    }

    private static INDArray column(double[] v) {
        return Nd4j.create(v, new long[] {v.length, 1}, 'c');
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void derivativesMatchFiniteDifferences(Activation f) {
        INDArray z = column(Z);
        INDArray zp = z.add(H);
        INDArray zm = z.sub(H);
        double[] d1 = f.derivative(z).data().asDouble();
        double[] d2 = f.secondDerivative(z).data().asDouble();
        double[] fdD1 = f.apply(zp).sub(f.apply(zm)).divi(2 * H).data().asDouble();
        double[] fdD2 = f.derivative(zp).sub(f.derivative(zm)).divi(2 * H).data().asDouble();
        for (int k = 0; k < Z.length; k++) {
            assertEquals(fdD1[k], d1[k], FD_TOLERANCE, f + " f'(" + Z[k] + ")");
            assertEquals(fdD2[k], d2[k], FD_TOLERANCE, f + " f''(" + Z[k] + ")");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void finiteAtExtremeInputs(Activation f) {
        INDArray z = column(new double[] {-1000, -50, 0, 50, 1000});
        for (INDArray out : new INDArray[] {f.apply(z), f.derivative(z), f.secondDerivative(z)}) {
            for (double v : out.data().asDouble()) {
                assertTrue(Double.isFinite(v), f + " gave " + v + " at an extreme input");
            }
        }
    }

    @Test
    void knownValues() {
        INDArray z = column(new double[] {-2.0, 3.0});
        assertEquals(-0.02, Activation.leakyRelu(0.01).apply(z).getDouble(0), 1e-15, "leaky_relu(-2) with slope 0.01");
        assertEquals(Math.log1p(Math.exp(3.0)), Activation.SOFTPLUS.apply(z).getDouble(1), 1e-14, "softplus(3)");
        // gelu(1) with the tanh approximation: 0.5 (1 + tanh(sqrt(2/pi)(1 + 0.044715)))
        double expected = 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (1 + 0.044715)));
        assertEquals(expected, Activation.GELU.apply(column(new double[] {1.0})).getDouble(0), 1e-15, "gelu(1)");
    }

    @Test
    void parseNamesAndErrors() {
        assertEquals(Activation.Kind.GELU, Activation.parse("gelu", null).kind());
        assertEquals(0.2, Activation.parse("leaky_relu", 0.2).negativeSlope());
        assertEquals(Activation.DEFAULT_LEAKY_SLOPE, Activation.parse("leaky_relu", null).negativeSlope());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.parse("swish", null));
        assertTrue(e.getMessage().contains("unknown activation 'swish'"), e.getMessage());
    }
}
