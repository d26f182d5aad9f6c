package io.hessianatlas.jobs.analyze.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import io.hessianatlas.common.model.Loss;
import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.junit.jupiter.api.Test;

/**
 * {@link InputBatcher} on the rows of a columnar batch, as the vectorized Parquet reader hands them
 * over (feature arrays are {@link ColumnarArray}s): values are read exactly, a null element is
 * reported by sample_id and position, and a zero in a batch that also holds a null is not one.
 */
class InputBatcherColumnarTest {
    private static final int WIDTH = 4;
    private static final int CLASSES = 3;

    /** Rows (id, features array&lt;double&gt;, label array&lt;double&gt;); a null feature value is a null element. */
    private static Iterator<InternalRow> rows(Double[][] features) {
        int n = features.length;
        OnHeapColumnVector ids = new OnHeapColumnVector(n, DataTypes.LongType);
        OnHeapColumnVector x = new OnHeapColumnVector(n, DataTypes.createArrayType(DataTypes.DoubleType));
        OnHeapColumnVector y = new OnHeapColumnVector(n, DataTypes.createArrayType(DataTypes.DoubleType));
        ColumnVector xValues = x.getChild(0);
        ((OnHeapColumnVector) xValues).reserve(n * WIDTH);
        ((OnHeapColumnVector) y.getChild(0)).reserve(n);
        for (int s = 0; s < n; s++) {
            ids.putLong(s, 100 + s);
            x.putArray(s, s * WIDTH, WIDTH);
            for (int j = 0; j < WIDTH; j++) {
                Double v = features[s][j];
                if (v == null) {
                    ((OnHeapColumnVector) xValues).putNull(s * WIDTH + j);
                } else {
                    ((OnHeapColumnVector) xValues).putDouble(s * WIDTH + j, v);
                }
            }
            y.putArray(s, s, 1);
            ((OnHeapColumnVector) y.getChild(0)).putDouble(s, s % CLASSES);
        }
        ColumnarBatch batch = new ColumnarBatch(new ColumnVector[] {ids, x, y}, n);
        return batch.rowIterator();
    }

    private static InputBatcher batcher() {
        return new InputBatcher(WIDTH, CLASSES, Loss.SOFTMAX_CROSS_ENTROPY, 16, false, false, false, null);
    }

    @Test
    void featureArraysAreColumnarAndReadExactly() {
        Double[][] f = {{0.0, 2.5, 0.0, -1.0}, {3.0, 0.0, 0.0, 7.25}, {1e-300, -0.0, 4.0, 0.0}};
        Iterator<InternalRow> it = rows(f);
        List<InternalRow> copy = new ArrayList<>();
        it.forEachRemaining(copy::add);
        assertTrue(copy.get(0).getArray(1) instanceof ColumnarArray, "the rows hand out ColumnarArrays");
        InputBatch b = batcher().call(rows(f)).next();
        double[] expected = new double[f.length * (WIDTH + 1)];
        for (int s = 0; s < f.length; s++) {
            for (int j = 0; j < WIDTH; j++) {
                expected[s * (WIDTH + 1) + j] = f[s][j];
            }
            expected[s * (WIDTH + 1) + WIDTH] = 1.0;
        }
        assertArrayEquals(expected, b.xAug, 0.0);
        assertEquals(3, b.size());
    }

    @Test
    void aNullElementIsNamedAndZerosBesideItAreNot() {
        // rows 0 and 2 have zeros; row 1 the null, in a batch whose column vector therefore holds a null
        Double[][] f = {{0.0, 1.0, 0.0, 2.0}, {1.0, 0.0, null, 4.0}, {0.0, 0.0, 0.0, 0.0}};
        InputException e = assertThrows(InputException.class, () -> batcher().call(rows(f)).next());
        assertTrue(e.getMessage().contains("sample_id 101: feature 2 is null"), e.getMessage());
        Double[][] g = {{0.0, 1.0, 0.0, 2.0}, {0.0, 0.0, 0.0, 0.0}, {1.0, 0.0, null, 4.0}};
        InputException e2 = assertThrows(InputException.class, () -> batcher().call(rows(g)).next());
        assertTrue(e2.getMessage().contains("sample_id 102: feature 2 is null"), e2.getMessage());
    }

    @Test
    void aNonFiniteElementIsNamed() {
        Double[][] f = {{0.0, 1.0, 0.0, 2.0}, {1.0, Double.POSITIVE_INFINITY, 3.0, 4.0}};
        InputException e = assertThrows(InputException.class, () -> batcher().call(rows(f)).next());
        assertTrue(e.getMessage().contains("sample_id 101: feature 1 is Infinity"), e.getMessage());
    }
}
