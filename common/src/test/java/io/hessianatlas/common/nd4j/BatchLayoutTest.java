package io.hessianatlas.common.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link BatchLayout#columnSquaredNorms(INDArray)} against a plain loop over the values in the
 * same memory order: bit for bit (the chunked bulk reads must sum in the order one loop would), for
 * both orders and data types, with shapes smaller than one chunk, spanning several chunks with
 * lines split across chunk borders, and with one line longer than a chunk.
 */
class BatchLayoutTest {

    @BeforeAll
    static void nd4j() {
        NativeRuntime.configure();
    }

    @ParameterizedTest(name = "{0} {1} ({2} x {3})")
    @CsvSource({"c, DOUBLE, 7, 5", "f, DOUBLE, 7, 5", "c, FLOAT, 7, 5", "f, FLOAT, 7, 5",
        "c, DOUBLE, 785, 256", "f, DOUBLE, 785, 256", "c, FLOAT, 785, 256", "f, FLOAT, 785, 256",
        "c, DOUBLE, 3, 20001", "f, DOUBLE, 20001, 3", "c, FLOAT, 3, 20001", "f, FLOAT, 20001, 3",
        "c, DOUBLE, 1, 1", "f, FLOAT, 1, 9"})
    void columnSquaredNormsMatchAPlainLoop(char order, DataType type, int rows, int cols) {
        Random r = new Random(rows * 31L + cols);
        double[][] v = new double[rows][cols];
        INDArray x = Nd4j.createUninitialized(type, new long[] {rows, cols}, order);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double e = r.nextGaussian() * Math.exp(3 * r.nextGaussian());
                v[i][j] = type == DataType.FLOAT ? (float) e : e;
                x.putScalar(i, j, v[i][j]);
            }
        }
        double[] expected = new double[cols];
        for (int j = 0; j < cols; j++) {
            if (order == 'f') {
                double t = 0;
                for (int i = 0; i < rows; i++) {
                    t += v[i][j] * v[i][j];
                }
                expected[j] = t;
            }
        }
        if (order == 'c') {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    expected[j] += v[i][j] * v[i][j];
                }
            }
        }
        assertArrayEquals(expected, BatchLayout.columnSquaredNorms(x), 0.0);
    }

    @Test
    void aViewIsReadThroughACopy() {
        INDArray x = Nd4j.rand(DataType.DOUBLE, 9, 6);
        INDArray view = x.get(NDArrayIndex.interval(2, 7), NDArrayIndex.interval(1, 5));
        double[] expected = new double[4];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 4; j++) {
                double e = view.getDouble(i, j);
                expected[j] += e * e;
            }
        }
        assertArrayEquals(expected, BatchLayout.columnSquaredNorms(view), 0.0);
    }
}
