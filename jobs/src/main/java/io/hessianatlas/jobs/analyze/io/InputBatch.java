package io.hessianatlas.jobs.analyze.io;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

import io.hessianatlas.common.nd4j.HostBuffers;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One validated mini-batch (possibly empty when every row of it was skipped as invalid) of samples
 * in plain arrays: the augmented inputs ã^0 = [x; 1] {@code ((n_0+1) x B)} and the targets y
 * {@code (p x B)}, both column-major (sample s at offset s·(n_0+1), resp. s·p), the sample ids and
 * (softmax) the class indices. Persisted once, it feeds the per-sample pass and every matrix-free
 * pass (with --by-class, each batch holds one class: {@link InputBatcher}). Kept augmented and sample-contiguous, as the rows arrive: an ND4J batch is then one copy,
 * with no transposition and no [x; 1] stacking.
 */
public final class InputBatch implements Serializable {
    private static final long serialVersionUID = 2L;

    /** Values converted per bulk write of a float32 batch ({@link #augmentedInputs}): 32 KB. */
    private static final int FLOAT_CHUNK = 8192;

    public final Object[] ids;
    /** ã^0 column-major: xAug[s*(n_0+1) + j] = x_s[j], xAug[s*(n_0+1) + n_0] = 1. */
    final double[] xAug;
    final double[] y;
    public final int[] classes;
    final int inputWidth;
    final int outputWidth;
    /** Rows of this batch dropped by --on-invalid-row skip, and the first reasons. */
    public final int skipped;
    public final java.util.List<String> skipReasons;

    InputBatch(Object[] ids, double[] xAug, double[] y, int[] classes, int inputWidth, int outputWidth, int skipped,
               java.util.List<String> skipReasons) {
        this.skipped = skipped;
        this.skipReasons = skipReasons;
        this.ids = ids;
        this.xAug = xAug;
        this.y = y;
        this.classes = classes;
        this.inputWidth = inputWidth;
        this.outputWidth = outputWidth;
    }

    /**
     * The non-empty batches of {@code batches}, consecutive ones concatenated (in order) until a batch
     * holds at least {@code samples} samples or the input ends: for work whose GEMMs gain from wider
     * batches than the per-sample pass keeps (the matrix-free products). Skip counts and reasons are
     * not carried (they were counted by the per-sample pass).
     */
    public static java.util.Iterator<InputBatch> merged(java.util.Iterator<InputBatch> batches, int samples) {
        return new java.util.Iterator<>() {
            private InputBatch next = advance();

            private InputBatch advance() {
                java.util.List<InputBatch> group = new java.util.ArrayList<>();
                int size = 0;
                while (size < samples && batches.hasNext()) {
                    InputBatch b = batches.next();
                    if (b.size() > 0) {
                        group.add(b);
                        size += b.size();
                    }
                }
                return group.isEmpty() ? null : group.size() == 1 ? group.get(0) : concat(group, size);
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public InputBatch next() {
                if (next == null) {
                    throw new java.util.NoSuchElementException();
                }
                InputBatch out = next;
                next = advance();
                return out;
            }
        };
    }

    private static InputBatch concat(java.util.List<InputBatch> group, int size) {
        InputBatch first = group.get(0);
        Object[] ids = new Object[size];
        double[] xAug = new double[size * (first.inputWidth + 1)];
        double[] y = new double[size * first.outputWidth];
        int[] classes = first.classes == null ? null : new int[size];
        int at = 0;
        for (InputBatch b : group) {
            int n = b.size();
            System.arraycopy(b.ids, 0, ids, at, n);
            System.arraycopy(b.xAug, 0, xAug, at * (first.inputWidth + 1), n * (first.inputWidth + 1));
            System.arraycopy(b.y, 0, y, at * first.outputWidth, n * first.outputWidth);
            if (classes != null) {
                System.arraycopy(b.classes, 0, classes, at, n);
            }
            at += n;
        }
        return new InputBatch(ids, xAug, y, classes, first.inputWidth, first.outputWidth, 0, java.util.List.of());
    }

    public int size() {
        return ids.length;
    }

    /**
     * ã^0 = [x; 1] {@code ((n_0+1) x B)} in {@code type} (DOUBLE or FLOAT), the form
     * {@link io.hessianatlas.common.hessian.BatchForward#computeAugmented} takes without copies.
     */
    public INDArray augmentedInputs(DataType type) {
        // one bulk write into the array's buffer (Nd4j.create(double[]) goes element by element)
        INDArray a = Nd4j.createUninitialized(type, new long[] {inputWidth + 1L, ids.length}, 'f');
        ByteBuffer bytes = HostBuffers.bytes(a);
        if (type == DataType.FLOAT) {
            // converted chunk by chunk in a small Java array, each written in bulk (a per-element
            // FloatBuffer.put is slow under the launchers' C1 JIT)
            FloatBuffer f = bytes.asFloatBuffer();
            float[] chunk = new float[Math.min(xAug.length, FLOAT_CHUNK)];
            for (int start = 0; start < xAug.length; start += chunk.length) {
                int len = Math.min(chunk.length, xAug.length - start);
                for (int i = 0; i < len; i++) {
                    chunk[i] = (float) xAug[start + i];
                }
                f.put(start, chunk, 0, len);
            }
        } else {
            bytes.asDoubleBuffer().put(xAug);
        }
        HostBuffers.wroteOnHost(a);
        return a;
    }

    public INDArray targets() {
        return Nd4j.create(y, new long[] {outputWidth, ids.length}, 'f');
    }

    /**
     * Each sample's label as the samples table holds it ({@link LabelType}): Integer, Double or
     * double[].
     */
    public Object[] labels(LabelType type) {
        Object[] out = new Object[ids.length];
        for (int s = 0; s < out.length; s++) {
            out[s] = switch (type) {
                case CLASS_INDEX -> classes[s];
                case NUMBER -> y[s];
                case ARRAY -> java.util.Arrays.copyOfRange(y, s * outputWidth, (s + 1) * outputWidth);
            };
        }
        return out;
    }

    /**
     * Java serialization goes through {@link Serialized}: the persisted batches (MEMORY_AND_DISK_SER)
     * are read back by every matrix-free pass, and the default form reads a double[] one value at a
     * time and each id as an object (7 % of a layer-1 Lanczos pass in issue 14's profile).
     */
    private Object writeReplace() {
        return new Serialized(this);
    }

    private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
        throw new java.io.InvalidObjectException("an InputBatch is read through its serialized form");
    }

    /**
     * The serialized form of an {@link InputBatch}: the inputs and targets as little-endian bytes
     * (one bulk copy each way), ids as a long[] when every id is a Long (else as they are).
     */
    private static final class Serialized implements Serializable {
        private static final long serialVersionUID = 1L;

        private final long[] longIds;
        private final Object[] ids;
        private final byte[] xAug;
        private final byte[] y;
        private final int[] classes;
        private final int inputWidth;
        private final int outputWidth;
        private final int skipped;
        private final java.util.List<String> skipReasons;

        Serialized(InputBatch b) {
            long[] longs = new long[b.ids.length];
            boolean allLong = true;
            for (int i = 0; i < longs.length && allLong; i++) {
                if (b.ids[i] instanceof Long id) {
                    longs[i] = id;
                } else {
                    allLong = false;
                }
            }
            this.longIds = allLong ? longs : null;
            this.ids = allLong ? null : b.ids;
            this.xAug = bytes(b.xAug);
            this.y = bytes(b.y);
            this.classes = b.classes;
            this.inputWidth = b.inputWidth;
            this.outputWidth = b.outputWidth;
            this.skipped = b.skipped;
            this.skipReasons = b.skipReasons;
        }

        private Object readResolve() {
            Object[] objects = ids;
            if (longIds != null) {
                objects = new Object[longIds.length];
                for (int i = 0; i < objects.length; i++) {
                    objects[i] = longIds[i];
                }
            }
            return new InputBatch(objects, doubles(xAug), doubles(y), classes, inputWidth, outputWidth, skipped, skipReasons);
        }

        private static byte[] bytes(double[] v) {
            byte[] out = new byte[v.length * Double.BYTES];
            ByteBuffer.wrap(out).order(java.nio.ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(v);
            return out;
        }

        private static double[] doubles(byte[] b) {
            double[] out = new double[b.length / Double.BYTES];
            ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out);
            return out;
        }
    }
}
