package io.hessianatlas.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.nd4j.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Shape and value errors of the model classes and the batch kernel: each asserts its message. */
class NetworkShapeTest {

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    private static DenseLayer layer(String name, int out, int in, Activation f) {
        return new DenseLayer(name, out, in, new double[out * in], new double[out], f);
    }

    @Test
    void layersThatDoNotChainNameBothLayersAndShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Network(
                List.of(layer("fc1", 5, 4, Activation.RELU), layer("fc2", 3, 6, Activation.IDENTITY)),
                Loss.SOFTMAX_CROSS_ENTROPY));
        assertTrue(e.getMessage().contains("layer 2 'fc2' has weight (3 x 6)"), e.getMessage());
        assertTrue(e.getMessage().contains("layer 1 'fc1' of weight (5 x 4)"), e.getMessage());
        assertTrue(e.getMessage().contains("expected fan-in 5"), e.getMessage());
    }

    @Test
    void biasOfTheWrongLengthNamesBothShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DenseLayer("fc1", 3, 2, new double[6], new double[4], Activation.TANH));
        assertTrue(e.getMessage().contains("bias has shape (4), expected (3) to match weight (3 x 2)"), e.getMessage());
    }

    @Test
    void weightOfTheWrongLengthStatesTheExpectedShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DenseLayer("fc1", 3, 2, new double[5], null, Activation.TANH));
        assertTrue(e.getMessage().contains("weight has 5 values, expected (3 x 2) = 6"), e.getMessage());
    }

    @Test
    void nonFiniteWeightNamesTheEntry() {
        double[] w = new double[6];
        w[4] = Double.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DenseLayer("fc1", 3, 2, w, null, Activation.TANH));
        assertTrue(e.getMessage().contains("weight[2][0] is NaN"), e.getMessage());
    }

    @Test
    void lastLayerMustBeIdentity() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Network(List.of(layer("out", 2, 3, Activation.SIGMOID)), Loss.MSE));
        assertTrue(e.getMessage().contains("last layer 'out' has activation sigmoid, expected identity"), e.getMessage());
    }

    @Test
    void batchShapesAreChecked() {
        Network net = new Network(List.of(layer("fc1", 4, 3, Activation.TANH), layer("fc2", 2, 4, Activation.IDENTITY)),
                Loss.MSE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchCurvature.compute(net,
                Nd4j.zeros(DataType.DOUBLE, 5, 7), Nd4j.zeros(DataType.DOUBLE, 2, 7), CurvatureMode.GGN, 1));
        assertTrue(e.getMessage().contains("inputs have shape [5, 7], expected (3 x B)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BatchCurvature.compute(net,
                Nd4j.zeros(DataType.DOUBLE, 3, 7), Nd4j.zeros(DataType.DOUBLE, 2, 6), CurvatureMode.GGN, 1));
        assertTrue(e.getMessage().contains("targets have shape [2, 6], expected (2 x 7)"), e.getMessage());
        assertEquals(2, net.outputSize());
    }
}
