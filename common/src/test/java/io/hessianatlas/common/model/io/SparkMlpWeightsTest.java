package io.hessianatlas.common.model.io;

import static io.hessianatlas.common.model.io.SafetensorsReaderTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import org.junit.jupiter.api.Test;

class SparkMlpWeightsTest {

    private static double[] oneTo(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i + 1;
        }
        return v;
    }

    /**
     * sizes [2, 3, 2], weights 1..17 (length 3*(2+1) + 2*(3+1) = 9 + 8 = 17).
     * <pre>
     * layer 1 (nIn 2, nOut 3): data 1..6 is W (3 x 2) column-major: column 0 = (1,2,3), column 1 = (4,5,6)
     *     W1 = [[1,4],[2,5],[3,6]]  (row-major 1,4,2,5,3,6);  b1 = (7,8,9)
     * layer 2 (nIn 3, nOut 2): data 10..15 is W (2 x 3) column-major: columns (10,11), (12,13), (14,15)
     *     W2 = [[10,12,14],[11,13,15]]  (row-major 10,12,14,11,13,15);  b2 = (16,17)
     * </pre>
     */
    @Test
    void decodesColumnMajorWeightsThenBiases() {
        Network net = SparkMlpWeights.decode(new int[] {2, 3, 2}, oneTo(17));
        assertEquals(2, net.depth());
        assertEquals(Loss.SOFTMAX_CROSS_ENTROPY, net.loss());
        assertArrayEquals(new int[] {2, 3, 2}, net.widths());

        assertEquals("fc1", net.layer(1).name());
        assertEquals(Activation.SIGMOID, net.layer(1).activation());
        assertEquals(3, net.layer(1).fanOut());
        assertEquals(2, net.layer(1).fanIn());
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, net.layer(1).weightsRowMajor(), 0.0);
        assertArrayEquals(new double[] {7, 8, 9}, net.layer(1).biasValues(), 0.0);

        assertEquals("fc2", net.layer(2).name());
        assertEquals(Activation.IDENTITY, net.layer(2).activation());
        assertArrayEquals(new double[] {10, 12, 14, 11, 13, 15}, net.layer(2).weightsRowMajor(), 0.0);
        assertArrayEquals(new double[] {16, 17}, net.layer(2).biasValues(), 0.0);
    }

    /** sizes [3, 2] (logistic regression): W (2 x 3) from 1..6 column-major = [[1,3,5],[2,4,6]], b = (7,8). */
    @Test
    void singleLayerIsIdentityOutput() {
        Network net = SparkMlpWeights.decode(new int[] {3, 2}, oneTo(8));
        assertEquals(1, net.depth());
        assertEquals(Activation.IDENTITY, net.layer(1).activation());
        assertArrayEquals(new double[] {1, 3, 5, 2, 4, 6}, net.layer(1).weightsRowMajor(), 0.0);
        assertArrayEquals(new double[] {7, 8}, net.layer(1).biasValues(), 0.0);
    }

    @Test
    void deeperNetworkUsesSigmoidHiddenLayers() {
        // [4, 3, 3, 2]: 3*5 + 3*4 + 2*4 = 15 + 12 + 8 = 35
        Network net = SparkMlpWeights.decode(new int[] {4, 3, 3, 2}, oneTo(35));
        assertEquals(Activation.SIGMOID, net.layer(1).activation());
        assertEquals(Activation.SIGMOID, net.layer(2).activation());
        assertEquals(Activation.IDENTITY, net.layer(3).activation());
        assertEquals("fc3", net.layer(3).name());
        // layer 2 starts at offset 15: W2[i][j] = 16 + j*3 + i; b2 = (25, 26, 27)
        assertArrayEquals(new double[] {16, 19, 22, 17, 20, 23, 18, 21, 24}, net.layer(2).weightsRowMajor(), 0.0);
        assertArrayEquals(new double[] {25, 26, 27}, net.layer(2).biasValues(), 0.0);
    }

    @Test
    void lengthMismatchStatesBothNumbers() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> SparkMlpWeights.decode(new int[] {2, 3, 2}, oneTo(16)));
        assertMessage(e, "16 values", "expected 17", "[2, 3, 2]");
        ModelFormatException e2 = assertThrows(ModelFormatException.class,
                () -> SparkMlpWeights.decode(new int[] {2, 3, 2}, oneTo(18), "/models/spark-mlp"));
        assertMessage(e2, "/models/spark-mlp", "18 values", "expected 17");
    }

    @Test
    void invalidLayerSizes() {
        assertMessage(assertThrows(ModelFormatException.class, () -> SparkMlpWeights.decode(new int[] {4}, oneTo(4))),
                "[4]", "at least 2 sizes");
        assertMessage(assertThrows(ModelFormatException.class, () -> SparkMlpWeights.decode(null, oneTo(4))),
                "at least 2 sizes");
        assertMessage(assertThrows(ModelFormatException.class, () -> SparkMlpWeights.decode(new int[] {2, 0, 2}, new double[0])),
                "[2, 0, 2]", "positive");
        assertMessage(assertThrows(ModelFormatException.class, () -> SparkMlpWeights.decode(new int[] {2, -3, 2}, new double[0])),
                "positive");
        assertMessage(assertThrows(ModelFormatException.class, () -> SparkMlpWeights.decode(new int[] {2, 2}, null)),
                "0 values", "expected 6");
    }

    @Test
    void nonFiniteWeightIsReported() {
        double[] w = oneTo(17);
        w[2] = Double.NaN; // layer 1, column 0, row 2 -> W1[2][0]
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> SparkMlpWeights.decode(new int[] {2, 3, 2}, w, "spark-dir"));
        assertMessage(e, "spark-dir", "layer 'fc1'", "weight[2][0] is NaN");
    }
}
