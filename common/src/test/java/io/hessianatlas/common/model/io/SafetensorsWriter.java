package io.hessianatlas.common.model.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Writes a safetensors file (layout in {@link SafetensorsReader}): tensors are stored in the order
 * they were added, contiguously from offset 0, little-endian, as F64 or F32; the JSON header is
 * padded with spaces to a multiple of 8 bytes. The file is written to a temporary sibling and
 * moved into place, so a failed write never leaves a partial file under the target name.
 *
 * <pre>
 *   new SafetensorsWriter().add("0.weight", "F64", new long[] {out, in}, wRowMajor).write(path);
 * </pre>
 */
public final class SafetensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    private static final class Entry {
        final String name;
        final String dtype;
        final long[] shape;
        final double[] values;

        Entry(String name, String dtype, long[] shape, double[] values) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.values = values;
        }
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /**
     * Adds a tensor. {@code values} are row-major; F32 stores {@code (float) value}.
     *
     * @throws IllegalArgumentException when the dtype is not F64/F32, the name is duplicate or
     *                                  {@code __metadata__}, or product(shape) != values.length
     */
    public SafetensorsWriter add(String name, String dtype, long[] shape, double[] values) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        if (!"F64".equals(dtype) && !"F32".equals(dtype)) {
            throw new IllegalArgumentException("tensor '" + name + "': dtype " + dtype + " not writable, expected F64 or F32");
        }
        if (SafetensorsReader.METADATA_KEY.equals(name)) {
            throw new IllegalArgumentException("tensor name " + name + " is reserved for metadata");
        }
        for (Entry e : entries) {
            if (e.name.equals(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' added twice");
            }
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (n != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has " + n
                    + " elements but " + values.length + " values were given");
        }
        entries.add(new Entry(name, dtype, shape.clone(), values.clone()));
        return this;
    }

    /** Adds a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** The complete file image (length prefix, padded header, data), for small files and tests. */
    public byte[] toBytes() {
        ByteBuffer header = headerBytes();
        long total = header.remaining() + dataBytes();
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("safetensors image of " + total + " bytes is too large for a byte array");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(header);
        for (Entry e : entries) {
            boolean f64 = "F64".equals(e.dtype);
            for (double v : e.values) {
                if (f64) {
                    buf.putDouble(v);
                } else {
                    buf.putFloat((float) v);
                }
            }
        }
        return buf.array();
    }

    private long dataBytes() {
        long n = 0;
        for (Entry e : entries) {
            n += (long) e.values.length * ("F64".equals(e.dtype) ? 8 : 4);
        }
        return n;
    }

    /**
     * Writes the file atomically (temporary sibling, then move); parent directories must exist.
     *
     * @throws UncheckedIOException when the file cannot be written
     */
    public void write(Path file) {
        Objects.requireNonNull(file, "file");
        AtomicFiles.write(file, this::writeTo);
    }

    private void writeTo(FileChannel ch) throws IOException {
        ByteBuffer header = headerBytes();
        while (header.hasRemaining()) {
            ch.write(header);
        }
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : entries) {
            boolean f64 = "F64".equals(e.dtype);
            for (double v : e.values) {
                if (buf.remaining() < 8) {
                    flush(ch, buf);
                }
                if (f64) {
                    buf.putDouble(v);
                } else {
                    buf.putFloat((float) v);
                }
            }
        }
        flush(ch, buf);
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }

    private ByteBuffer headerBytes() {
        ObjectNode header = ModelJson.MAPPER.createObjectNode();
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name);
            t.put("dtype", e.dtype);
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape) {
                shape.add(d);
            }
            long bytes = (long) e.values.length * ("F64".equals(e.dtype) ? 8 : 4);
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject(SafetensorsReader.METADATA_KEY);
            metadata.forEach(m::put);
        }
        byte[] json;
        try {
            json = ModelJson.MAPPER.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize safetensors header", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer buf = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded).put(json);
        while (buf.hasRemaining()) {
            buf.put((byte) ' ');
        }
        buf.flip();
        return buf;
    }
}
