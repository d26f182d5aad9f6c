package io.hessianatlas.common.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {

    @TempDir
    Path tmp;

    // ---- helpers -------------------------------------------------------------------------

    /** A file with the given (possibly lying) header length, header text and data bytes. */
    private Path raw(String fileName, long headerLength, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(headerLength).put(h).put(data);
        Path f = tmp.resolve(fileName);
        Files.write(f, buf.array());
        return f;
    }

    /** A file whose header length is correct. */
    private Path raw(String fileName, String header, byte[] data) throws IOException {
        return raw(fileName, header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    private Path raw(String fileName, String header, int dataBytes) throws IOException {
        return raw(fileName, header, new byte[dataBytes]);
    }

    private static ModelFormatException assertFormatError(Path file, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> {
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                r.readAll();
            }
        });
        assertMessage(e, file.toString());
        assertMessage(e, fragments);
        return e;
    }

    static void assertMessage(Throwable e, String... fragments) {
        String m = e.getMessage();
        for (String f : fragments) {
            assertTrue(m.contains(f), () -> "message '" + m + "' should contain '" + f + "'");
        }
        assertFalse(m.contains("\n"), () -> "message should be one line: " + m);
    }

    private static double[] seq(int n, double start, double step) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = start + i * step;
        }
        return v;
    }

    // ---- round trips ---------------------------------------------------------------------

    @Test
    void roundTripF64IsExact() {
        double[] w = {Math.PI, -Math.E, 1e-300, -0.0, Double.MAX_VALUE, Double.MIN_VALUE, 1.0 / 3, 42};
        double[] b = {0.1, -0.2};
        Path f = tmp.resolve("f64.safetensors");
        new SafetensorsWriter().add("0.weight", "F64", new long[] {2, 4}, w)
                .add("0.bias", "F64", new long[] {2}, b)
                .metadata("format", "pt").write(f);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(List.of("0.weight", "0.bias"), List.copyOf(r.tensorNames()));
            assertEquals(Map.of("format", "pt"), r.metadata());
            SafetensorsReader.TensorInfo info = r.info("0.weight");
            assertEquals("F64", info.dtype());
            assertArrayEquals(new long[] {2, 4}, info.shape());
            assertEquals(0, info.begin());
            assertEquals(64, info.end());
            SafetensorsReader.Tensor t = r.read("0.weight");
            assertArrayEquals(new long[] {2, 4}, t.shape());
            assertEquals(2, t.rank());
            for (int i = 0; i < w.length; i++) {
                // bit-exact, including -0.0
                assertEquals(Double.doubleToRawLongBits(w[i]), Double.doubleToRawLongBits(t.data()[i]), "element " + i);
            }
            assertArrayEquals(b, r.read("0.bias").data(), 0.0);
        }
    }

    @Test
    void roundTripF32WithinFloatPrecision() throws IOException {
        double[] w = seq(12, -1.7, 0.31);
        w[5] = 123456.789;
        Path f = tmp.resolve("f32.safetensors");
        new SafetensorsWriter().add("w", "F32", new long[] {3, 4}, w).write(f);
        Map<String, SafetensorsReader.Tensor> all = SafetensorsReader.readAll(f);
        SafetensorsReader.Tensor t = all.get("w");
        assertEquals("F32", t.dtype());
        assertArrayEquals(new long[] {3, 4}, t.shape());
        for (int i = 0; i < w.length; i++) {
            assertEquals((double) (float) w[i], t.data()[i], 0.0, "F32 value is the float rounding of the input");
            assertEquals(w[i], t.data()[i], Math.ulp((float) w[i]), "element " + i);
        }
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(f), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void mixedDtypesScalarsEmptyTensorsAndLargeTensorAcrossChunks() {
        double[] big = seq(300_000, 0.5, 0.25); // 2.4 MB: read in several 1 MiB chunks
        Path f = tmp.resolve("mixed.safetensors");
        new SafetensorsWriter()
                .add("scalar", "F64", new long[] {}, new double[] {7.5})
                .add("empty", "F32", new long[] {0, 3}, new double[0])
                .add("big", "F64", new long[] {300_000}, big)
                .add("f32", "F32", new long[] {2, 2, 2}, seq(8, 1, 1))
                .write(f);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertArrayEquals(new double[] {7.5}, r.read("scalar").data(), 0.0);
            assertEquals(0, r.read("scalar").rank());
            assertEquals(0, r.read("empty").data().length);
            assertArrayEquals(big, r.read("big").data(), 0.0);
            assertArrayEquals(seq(8, 1, 1), r.read("f32").data(), 0.0);
            assertTrue(r.contains("big"));
            assertFalse(r.contains("nope"));
            assertTrue(r.metadata().isEmpty());
        }
    }

    @Test
    void headerPaddedWithSpacesAndGapsBetweenTensorsAreAccepted() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        data.putDouble(0, 1.5).putDouble(16, -2.5); // bytes 8..16 are an unused gap
        Path f = raw("gap.safetensors",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,24]}}      ",
                data.array());
        Map<String, SafetensorsReader.Tensor> all = SafetensorsReader.readAll(f);
        assertEquals(1.5, all.get("a").data()[0]);
        assertEquals(-2.5, all.get("b").data()[0]);
    }

    @Test
    void onlyRequestedTensorsAreReadAndUnsupportedDtypeFailsOnlyWhenRead() throws IOException {
        Path f = raw("bf16.safetensors",
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                        + "\"h\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]}}", 16);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(0.0, r.read("w").data()[0]);
            assertEquals("BF16", r.info("h").dtype());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> r.read("h"));
            assertMessage(e, f.toString(), "tensor 'h'", "unsupported dtype BF16", "F64 or F32");
        }
    }

    @Test
    void unsupportedDtypesNameTensorAndDtype() throws IOException {
        for (String dtype : List.of("F16", "I64", "U8", "BOOL")) {
            int size = Map.of("F16", 2, "I64", 8, "U8", 1, "BOOL", 1).get(dtype);
            Path f = raw(dtype + ".safetensors",
                    "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":[3],\"data_offsets\":[0," + 3 * size + "]}}", 3 * size);
            assertFormatError(f, "tensor 't'", "unsupported dtype " + dtype);
        }
    }

    @Test
    void missingTensorIsNamed() {
        Path f = tmp.resolve("one.safetensors");
        new SafetensorsWriter().add("a", "F64", new long[] {1}, new double[] {1}).write(f);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> r.read("b"));
            assertMessage(e, f.toString(), "no tensor named 'b'", "1 tensor: [a]");
        }
    }

    // ---- hostile and truncated files -------------------------------------------------------

    @Test
    void missingFile() {
        Path f = tmp.resolve("absent.safetensors");
        assertFormatError(f, "not found");
    }

    @Test
    void fileShorterThanLengthPrefix() throws IOException {
        Path f = tmp.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertFormatError(f, "3 bytes", "at least the 8-byte header length");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        Path f = raw("long.safetensors", 1000, "{}", new byte[0]);
        assertFormatError(f, "header length 1000", "10 bytes", "truncated");
    }

    @Test
    void headerLengthNear2To63AndAbove() throws IOException {
        assertFormatError(raw("huge1.safetensors", Long.MAX_VALUE, "{}", new byte[0]),
                "header length " + Long.MAX_VALUE);
        // 2^63 and 2^64-1 are negative as a signed long; reported as unsigned
        assertFormatError(raw("huge2.safetensors", Long.MIN_VALUE, "{}", new byte[0]),
                "header length 9223372036854775808");
        assertFormatError(raw("huge3.safetensors", -1L, "{}", new byte[0]),
                "header length 18446744073709551615");
    }

    @Test
    void headerLengthAboveSaneCap() throws IOException {
        Path f = tmp.resolve("cap.safetensors");
        long len = SafetensorsReader.MAX_HEADER_BYTES + 1;
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(prefix);
            ch.write(ByteBuffer.wrap(new byte[] {' '}), 8 + len); // sparse file, large enough
        }
        assertFormatError(f, "header length " + len, "exceeds the limit of " + SafetensorsReader.MAX_HEADER_BYTES);
    }

    @Test
    void headerNotJson() throws IOException {
        assertFormatError(raw("nojson.safetensors", "this is not json", 0), "not valid JSON");
        assertFormatError(raw("trunc.safetensors", "{\"a\":{\"dtype\":", 0), "not valid JSON");
        assertFormatError(raw("trailing.safetensors", "{} {}", 0), "not valid JSON");
        assertFormatError(raw("blank.safetensors", "        ", 0), "not valid JSON");
        assertFormatError(raw("dup.safetensors",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[0],\"data_offsets\":[0,0]},"
                        + "\"a\":{\"dtype\":\"F64\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0),
                "not valid JSON", "Duplicate");
        assertFormatError(raw("deep.safetensors", "[".repeat(100_000), 0), "not valid JSON", "nesting depth");
        byte[] badUtf8 = {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'};
        assertFormatError(raw("utf8.safetensors", 8, "", badUtf8), "not valid JSON");
    }

    @Test
    void headerNotAnObject() throws IOException {
        assertFormatError(raw("array.safetensors", "[1, 2]", 0), "must be a JSON object", "array");
        assertFormatError(raw("entry.safetensors", "{\"a\": 5}", 0), "tensor 'a'", "must be an object");
        assertFormatError(raw("meta.safetensors", "{\"__metadata__\": {\"k\": 1}}", 0),
                "__metadata__", "'k'", "must be a string");
    }

    @Test
    void missingOrMalformedFields() throws IOException {
        assertFormatError(raw("nodtype.safetensors", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,8]}}", 8),
                "tensor 'a'", "\"dtype\"");
        assertFormatError(raw("unknown.safetensors", "{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8),
                "tensor 'a'", "unknown dtype 'Q7'");
        assertFormatError(raw("noshape.safetensors", "{\"a\":{\"dtype\":\"F64\",\"data_offsets\":[0,8]}}", 8),
                "tensor 'a'", "\"shape\"", "non-negative integers");
        assertFormatError(raw("floatshape.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8),
                "tensor 'a'", "\"shape\"", "[1.5]");
        assertFormatError(raw("nooffsets.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1]}}", 8),
                "tensor 'a'", "\"data_offsets\"");
        assertFormatError(raw("threeoffsets.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8,16]}}", 16),
                "tensor 'a'", "[begin, end]");
        assertFormatError(raw("negoffset.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[-8,0]}}", 8),
                "tensor 'a'", "\"data_offsets\"", "[-8,0]");
        assertFormatError(raw("bigint.safetensors",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999999]}}", 8),
                "tensor 'a'", "\"data_offsets\"");
    }

    @Test
    void negativeShapeEntries() throws IOException {
        assertFormatError(raw("negshape.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[-1,-8],\"data_offsets\":[0,64]}}", 64),
                "tensor 'a'", "\"shape\" must be an array of non-negative integers", "[-1,-8]");
    }

    @Test
    void truncatedData() throws IOException {
        Path good = tmp.resolve("good.safetensors");
        new SafetensorsWriter().add("w", "F64", new long[] {4, 4}, seq(16, 0, 1)).write(good);
        byte[] bytes = Files.readAllBytes(good);
        Path f = tmp.resolve("cut.safetensors");
        Files.write(f, Arrays.copyOf(bytes, bytes.length - 3));
        assertFormatError(f, "tensor 'w'", "data_offsets [0, 128]", "data region of 125 bytes", "truncated");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        assertFormatError(raw("range.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[8,24]}}", 16),
                "tensor 'a'", "[8, 24]", "exceed the data region of 16 bytes");
    }

    @Test
    void endBeforeBegin() throws IOException {
        assertFormatError(raw("backwards.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,8]}}", 16),
                "tensor 'a'", "[16, 8]", "begin <= end");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertFormatError(raw("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[8,24]}}", 24),
                "tensors 'a' [0, 16) and 'b' [8, 24) overlap");
        assertFormatError(raw("alias.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8),
                "overlap");
    }

    @Test
    void shapeAndOffsetSizeMismatch() throws IOException {
        assertFormatError(raw("mismatch.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2,3],\"data_offsets\":[0,40]}}", 48),
                "tensor 'a'", "F64 shape [2, 3] needs 48 bytes (6 x 8)", "span 40");
        assertFormatError(raw("mismatch32.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,24]}}", 24),
                "tensor 'a'", "needs 12 bytes", "span 24");
    }

    @Test
    void shapeProductOverflow() throws IOException {
        assertFormatError(raw("overflow.safetensors",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0),
                "tensor 'a'", "more elements than fit in 64 bits");
        // product fits in a long but times 8 bytes does not
        assertFormatError(raw("overflow2.safetensors",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}", 0),
                "tensor 'a'", "more elements than fit in 64 bits");
    }

    /** Every truncation and many random corruptions of a valid file give ModelFormatException or a valid read. */
    @Test
    void truncationsAndCorruptionsNeverEscapeAsOtherExceptions() throws IOException {
        Path good = tmp.resolve("fuzz-src.safetensors");
        new SafetensorsWriter().add("0.weight", "F64", new long[] {3, 2}, seq(6, 1, 1))
                .add("0.bias", "F32", new long[] {3}, seq(3, 1, 1)).metadata("format", "pt").write(good);
        byte[] bytes = Files.readAllBytes(good);
        Path f = tmp.resolve("fuzz.safetensors");
        for (int len = 0; len < bytes.length; len++) {
            Files.write(f, Arrays.copyOf(bytes, len));
            final int cut = len;
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsReader.readAll(f),
                    "truncated to " + cut + " bytes");
            assertMessage(e, f.toString());
        }
        Random rnd = new Random(12345);
        for (int trial = 0; trial < 2000; trial++) {
            byte[] c = bytes.clone();
            int flips = 1 + rnd.nextInt(3);
            for (int k = 0; k < flips; k++) {
                c[rnd.nextInt(c.length)] = (byte) rnd.nextInt(256);
            }
            Files.write(f, c);
            try {
                SafetensorsReader.readAll(f);
            } catch (ModelFormatException e) {
                assertMessage(e, f.toString());
            } catch (Throwable t) {
                fail("trial " + trial + ": corrupted file escaped as " + t, t);
            }
        }
    }
}
