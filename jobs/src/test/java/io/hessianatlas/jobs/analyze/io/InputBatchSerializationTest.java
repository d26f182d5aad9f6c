package io.hessianatlas.jobs.analyze.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * An {@link InputBatch} survives Java serialization (how Spark persists the batches that every
 * matrix-free pass reads back) unchanged: every input, target, id, class, width and skip count,
 * bit for bit — including values whose bytes are not a double's usual ones (−0.0, subnormals,
 * NaN, infinities) and both id kinds (Long ids go as a long[], others as objects).
 */
class InputBatchSerializationTest {

    @Test
    void longIdsClassesAndSkipsRoundTripBitForBit() throws Exception {
        double[] x = {1.5, -0.0, Double.MIN_VALUE, 1, -3.25e300, Double.POSITIVE_INFINITY, 7, 1};
        double[] y = {1, 0, 0, 0, 1, 0};
        InputBatch in = new InputBatch(new Object[] {41L, -7L}, x, y, new int[] {0, 1}, 3, 3, 2,
                List.of("row 5: feature 2 is NaN", "row 9: label is missing"));
        InputBatch out = roundTrip(in);
        assertArrayEquals(new Object[] {41L, -7L}, out.ids);
        assertBitsEqual(x, out.xAug);
        assertBitsEqual(y, out.y);
        assertArrayEquals(new int[] {0, 1}, out.classes);
        assertEquals(3, out.inputWidth);
        assertEquals(3, out.outputWidth);
        assertEquals(2, out.skipped);
        assertEquals(in.skipReasons, out.skipReasons);
    }

    @Test
    void stringIdsWithoutClassesAndAnEmptyBatchRoundTrip() throws Exception {
        double[] x = {Double.NaN, 2, 1};
        InputBatch in = new InputBatch(new Object[] {"a-1"}, x, new double[] {0.25}, null, 2, 1, 0, List.of());
        InputBatch out = roundTrip(in);
        assertArrayEquals(new Object[] {"a-1"}, out.ids);
        assertBitsEqual(x, out.xAug);
        assertBitsEqual(new double[] {0.25}, out.y);
        assertNull(out.classes);

        InputBatch empty = roundTrip(new InputBatch(new Object[0], new double[0], new double[0], new int[0], 4, 2, 3,
                List.of("row 1: too few features")));
        assertEquals(0, empty.size());
        assertEquals(3, empty.skipped);
        assertEquals(4, empty.inputWidth);
    }

    private static InputBatch roundTrip(InputBatch b) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(b);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (InputBatch) in.readObject();
        }
    }

    private static void assertBitsEqual(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]), "value " + i);
        }
    }
}
