package io.hessianatlas.common.model.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads a safetensors file:
 * <pre>
 *   bytes [0, 8)        N, unsigned 64-bit little-endian: length of the header
 *   bytes [8, 8+N)      UTF-8 JSON object {"name": {"dtype": "F64", "shape": [d0, d1, ...],
 *                       "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value", ...}}
 *                       (trailing spaces allowed)
 *   bytes [8+N, size)   data region; a tensor's bytes are [8+N+begin, 8+N+end), little-endian,
 *                       row-major (C order)
 * </pre>
 * {@link #open} reads and validates the whole header against the file size before anything is
 * allocated: header length at most {@link #MAX_HEADER_BYTES} and at most size - 8; every entry
 * has a known dtype, non-negative integer shape and offsets with begin &le; end &le; data-region
 * size, (end - begin) = product(shape) x dtype size, and no two tensors overlap. Tensor data are
 * read lazily by name ({@link #read}); only F64 and F32 can be read (other dtypes are accepted in
 * the header but reading them fails naming the tensor and dtype). Every failure, including I/O
 * errors and a missing file, is a {@link ModelFormatException} naming the file.
 *
 * <p>Positional reads are used, so one open reader may be shared between threads.
 */
public final class SafetensorsReader implements Closeable {
    /** Largest accepted JSON header (100 MiB). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** Largest number of elements of one tensor read into a Java array. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** The JSON header key holding the optional string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private static final int CHUNK_BYTES = 1 << 20;

    /** Element sizes in bytes of every dtype of the safetensors specification. */
    private static final Map<String, Integer> DTYPE_SIZES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1),
            Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

    /**
     * One header entry: dtype, shape and byte range relative to the data region.
     *
     * @param dtype        as written in the header, e.g. "F64", "F32", "BF16"
     * @param shape        {@code []} is a scalar
     * @param begin        start of the tensor's bytes, relative to the data region
     * @param end          end (exclusive) of the tensor's bytes, relative to the data region
     * @param elementCount product of the shape (1 for a scalar)
     */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end, long elementCount) {
        /** A copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        public int rank() {
            return shape.length;
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
        }
    }

    /**
     * A tensor read into float64: {@code data[k]} is element k in row-major order.
     *
     * @param dtype the dtype in the file ("F64" or "F32"); the values are float64 either way
     * @param data  the values, row-major, owned by the caller (not shared with the reader)
     */
    public record Tensor(String name, String dtype, long[] shape, double[] data) {
        /** A copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        public int rank() {
            return shape.length;
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsReader(Path file, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                              Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens {@code file} and validates its header (no tensor data is read).
     *
     * @throws ModelFormatException naming the file when it is missing, unreadable, truncated or
     *                              its header is malformed or inconsistent with the file size
     */
    public static SafetensorsReader open(Path file) {
        Objects.requireNonNull(file, "file");
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file + ": safetensors file not found", e);
        } catch (AccessDeniedException e) {
            throw new ModelFormatException(file + ": safetensors file is not readable (access denied)", e);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot open safetensors file: " + ioMessage(e), e);
        }
        try {
            SafetensorsReader reader = readHeader(file, channel);
            channel = null; // owned by the reader now
            return reader;
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read safetensors file: " + ioMessage(e), e);
        } finally {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }

    /** Opens {@code file}, reads every tensor (header order) and closes it. */
    public static Map<String, Tensor> readAll(Path file) {
        try (SafetensorsReader reader = open(file)) {
            return reader.readAll();
        }
    }

    private static SafetensorsReader readHeader(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new ModelFormatException(file + ": not a safetensors file: " + size
                    + " bytes, expected at least the 8-byte header length");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, channel, prefix, 0, "the 8-byte header length");
        long headerLength = prefix.getLong(0);
        if (headerLength < 0 || headerLength > size - 8) {
            throw new ModelFormatException(file + ": safetensors header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the file: " + size + " bytes leave at most " + (size - 8)
                    + " after the 8-byte length (truncated or not a safetensors file)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new ModelFormatException(file + ": safetensors header length " + headerLength
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength < 2) {
            throw new ModelFormatException(file + ": safetensors header length " + headerLength
                    + " is too short for a JSON object");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLength);
        readFully(file, channel, headerBuf, 8, "the " + headerLength + "-byte JSON header");
        JsonNode root;
        try {
            root = ModelJson.parse(headerBuf.array(), 0, (int) headerLength);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file + ": safetensors header (" + headerLength
                    + " bytes) is not valid JSON: " + ModelJson.describe(e), e);
        }
        if (!root.isObject()) {
            throw new ModelFormatException(file + ": safetensors header must be a JSON object, found "
                    + root.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Collections.emptyMap();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (METADATA_KEY.equals(e.getKey())) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                tensors.put(e.getKey(), parseEntry(file, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkOverlaps(file, tensors);
        return new SafetensorsReader(file, channel, dataStart, Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) {
        if (node.isNull()) {
            return Collections.emptyMap();
        }
        if (!node.isObject()) {
            throw new ModelFormatException(file + ": safetensors \"" + METADATA_KEY
                    + "\" must be an object of strings, found " + ModelJson.show(node));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(file + ": safetensors \"" + METADATA_KEY + "\" entry '" + e.getKey()
                        + "' must be a string, found " + ModelJson.show(e.getValue()));
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode node, long dataSize) {
        String where = file + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new ModelFormatException(where + " must be an object with dtype, shape and data_offsets, found "
                    + ModelJson.show(node));
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new ModelFormatException(where + ": \"dtype\" must be a string such as \"F64\", found "
                    + ModelJson.show(dtypeNode));
        }
        String dtype = dtypeNode.textValue();
        Integer elementSize = DTYPE_SIZES.get(dtype);
        if (elementSize == null) {
            throw new ModelFormatException(where + " has unknown dtype '" + dtype
                    + "' (supported: F64, F32)");
        }
        long[] shape = nonNegativeLongs(where, "shape", node.get("shape"), -1);
        long[] offsets = nonNegativeLongs(where, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new ModelFormatException(where + ": data_offsets [" + begin + ", " + end
                    + "] end before begin, expected begin <= end");
        }
        if (end > dataSize) {
            throw new ModelFormatException(where + ": data_offsets [" + begin + ", " + end
                    + "] exceed the data region of " + dataSize + " bytes (truncated file?)");
        }
        long elements = 1;
        long bytes;
        try {
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = Math.multiplyExact(elements, (long) elementSize);
        } catch (ArithmeticException overflow) {
            throw new ModelFormatException(where + ": shape " + Arrays.toString(shape)
                    + " has more elements than fit in 64 bits");
        }
        if (end - begin != bytes) {
            throw new ModelFormatException(where + ": " + dtype + " shape " + Arrays.toString(shape) + " needs "
                    + bytes + " bytes (" + elements + " x " + elementSize + ") but data_offsets [" + begin + ", "
                    + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end, elements);
    }

    private static long[] nonNegativeLongs(String where, String key, JsonNode node, int expectedLength) {
        String expected = expectedLength == 2 ? "[begin, end] of two non-negative integers"
                : "an array of non-negative integers";
        if (node == null || !node.isArray() || (expectedLength >= 0 && node.size() != expectedLength)) {
            throw new ModelFormatException(where + ": \"" + key + "\" must be " + expected + ", found "
                    + ModelJson.show(node));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new ModelFormatException(where + ": \"" + key + "\" must be " + expected + ", found "
                        + ModelJson.show(node));
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void checkOverlaps(Path file, Map<String, TensorInfo> tensors) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : tensors.values()) {
            if (t.end > t.begin) { // empty tensors occupy no bytes
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong((TensorInfo t) -> t.begin).thenComparingLong(t -> t.end));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (cur.begin < prev.end) {
                throw new ModelFormatException(file + ": tensors '" + prev.name + "' [" + prev.begin + ", " + prev.end
                        + ") and '" + cur.name + "' [" + cur.begin + ", " + cur.end
                        + ") overlap, expected disjoint data_offsets");
            }
        }
    }

    private static void readFully(Path file, FileChannel channel, ByteBuffer buf, long position, String what)
            throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                throw new ModelFormatException(file + ": unexpected end of file at byte " + pos + " while reading "
                        + what + " (file truncated or changed while reading)");
            }
            pos += n;
        }
    }

    private static String ioMessage(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + ModelJson.oneLine(m));
    }

    public Path path() {
        return file;
    }

    /** Tensor names in header order ({@code __metadata__} excluded). */
    public Set<String> tensorNames() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header's {@code __metadata__} (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** @throws ModelFormatException naming the file and tensor when there is no such tensor */
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new ModelFormatException(file + ": no tensor named '" + name + "' (the file has "
                    + describeNames() + ")");
        }
        return info;
    }

    private String describeNames() {
        if (tensors.isEmpty()) {
            return "no tensors";
        }
        List<String> names = new ArrayList<>(tensors.keySet());
        String shown = names.size() > 20 ? names.subList(0, 20) + " and " + (names.size() - 20) + " more"
                : names.toString();
        return names.size() + " tensor" + (names.size() == 1 ? "" : "s") + ": " + shown;
    }

    /**
     * Reads one tensor, converting F32 to float64 exactly.
     *
     * @throws ModelFormatException naming the file and tensor when it does not exist, its dtype is
     *                              not F64/F32, it has more than {@link #MAX_ELEMENTS} elements or
     *                              the file cannot be read
     */
    public Tensor read(String name) {
        TensorInfo info = info(name);
        int elementSize;
        if ("F64".equals(info.dtype)) {
            elementSize = 8;
        } else if ("F32".equals(info.dtype)) {
            elementSize = 4;
        } else {
            throw new ModelFormatException(file + ": tensor '" + name + "' has unsupported dtype " + info.dtype
                    + ", expected F64 or F32");
        }
        if (info.elementCount > MAX_ELEMENTS) {
            throw new ModelFormatException(file + ": tensor '" + name + "' has " + info.elementCount
                    + " elements, more than the " + MAX_ELEMENTS + " a Java array can hold");
        }
        double[] out = new double[(int) info.elementCount];
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(info.end - info.begin, 8)))
                .order(ByteOrder.LITTLE_ENDIAN);
        long pos = dataStart + info.begin;
        int k = 0;
        try {
            while (k < out.length) {
                int want = (int) Math.min((long) (out.length - k) * elementSize, buf.capacity());
                buf.clear().limit(want);
                readFully(file, channel, buf, pos, "tensor '" + name + "'");
                pos += want;
                buf.flip();
                if (elementSize == 8) {
                    int n = want / 8;
                    buf.asDoubleBuffer().get(out, k, n);
                    k += n;
                } else {
                    int n = want / 4;
                    FloatBuffer fb = buf.asFloatBuffer();
                    for (int i = 0; i < n; i++) {
                        out[k++] = fb.get(i);
                    }
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read tensor '" + name + "': " + ioMessage(e), e);
        }
        return new Tensor(name, info.dtype, info.shape.clone(), out);
    }

    /** Reads every tensor, in header order. */
    public Map<String, Tensor> readAll() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : tensors.keySet()) {
            out.put(name, read(name));
        }
        return out;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // read-only channel: nothing was buffered, nothing to lose
        }
    }
}
