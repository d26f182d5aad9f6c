package io.hessianatlas.jobs.analyze.io;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import io.hessianatlas.common.model.Loss;
import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;

/**
 * Packs a partition of normalised rows (sample_id, features array&lt;double&gt;, label
 * array&lt;double&gt;) into validated {@link InputBatch}es of at most {@code batchSize} samples.
 * A bad row fails the task with an {@link InputException} naming its sample_id and what was expected.
 *
 * <p>It reads Spark's internal rows (the query's own UnsafeRows): feature values are read in place
 * from Spark's buffer into the batch array, instead of a boxed {@code Double} per value (the
 * external-Row path cost as much as the curvature kernels). Rows are reused by the source, so each
 * is copied out as it arrives.
 */
public final class InputBatcher implements FlatMapFunction<Iterator<InternalRow>, InputBatch> {
    private static final long serialVersionUID = 1L;

    private final int inputWidth;
    private final int outputWidth;
    private final Loss loss;
    private final int batchSize;
    private final boolean skipInvalid;
    private final boolean stringIds;
    private final boolean byClass;
    private final String[] featureColumns;

    /** Reasons kept per batch when skipping (run.json keeps the first few overall). */
    public static final int REASONS_KEPT = 5;

    /**
     * @param stringIds   sample_id is a string column (else a long)
     * @param skipInvalid drop invalid rows (counting them, with their reasons) instead of failing the task
     * @param byClass     --by-class: every label must name a class (a soft binary label is invalid), and
     *                    each batch holds one class ({@link ClassBatches})
     * @param featureColumns the column of each feature, named in row messages (null: one array column)
     */
    public InputBatcher(int inputWidth, int outputWidth, Loss loss, int batchSize, boolean stringIds, boolean skipInvalid,
                        boolean byClass, List<String> featureColumns) {
        this.byClass = byClass;
        this.featureColumns = featureColumns == null ? null : featureColumns.toArray(new String[0]);
        this.inputWidth = inputWidth;
        this.outputWidth = outputWidth;
        this.loss = loss;
        this.batchSize = batchSize;
        this.stringIds = stringIds;
        this.skipInvalid = skipInvalid;
    }

    @Override
    public Iterator<InputBatch> call(Iterator<InternalRow> rows) {
        if (byClass) {
            return new ClassBatches(rows);
        }
        RowReader reader = new RowReader();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public InputBatch next() {
                if (!rows.hasNext()) {
                    throw new NoSuchElementException();
                }
                int n0 = inputWidth;
                int p = outputWidth;
                int stride = n0 + 1;
                double[] x = new double[stride * batchSize];
                double[] y = new double[p * batchSize];
                int[] classes = loss.classCount(p) > 0 ? new int[batchSize] : null;
                Object[] ids = new Object[batchSize];
                int used = 0;
                for (int read = 0; read < batchSize && rows.hasNext(); read++) {
                    Object id = reader.read(rows.next(), x, y, classes, used);
                    if (id != RowReader.SKIPPED) {
                        ids[used++] = id;
                    }
                }
                if (used < batchSize) {
                    ids = java.util.Arrays.copyOf(ids, used);
                    x = java.util.Arrays.copyOf(x, stride * used);
                    y = java.util.Arrays.copyOf(y, p * used);
                    classes = classes == null ? null : java.util.Arrays.copyOf(classes, used);
                }
                return new InputBatch(ids, x, y, classes, n0, p, reader.takeSkipped(), reader.takeReasons());
            }
        };
    }

    /**
     * Reads rows into a batch's arrays and counts the rows --on-invalid-row skip drops, with their
     * first reasons, until a batch takes them.
     */
    private final class RowReader {
        /** What {@link #read} returns for a row it skipped. */
        static final Object SKIPPED = new Object();

        private int skipped;
        private final List<String> reasons = new ArrayList<>();

        /**
         * Reads one row into sample slot s: ã into x (stride n_0 + 1), y into y (stride p), the class
         * into classes[s] (when labels are classes); returns its id, or {@link #SKIPPED}.
         */
        Object read(InternalRow row, double[] x, double[] y, int[] classes, int s) {
            Object id = row.isNullAt(0) ? null : stringIds ? row.getUTF8String(0).toString() : (Object) row.getLong(0);
            int stride = inputWidth + 1;
            try {
                readFeatures(row, id, inputWidth, x, s * stride, featureColumns);
                x[s * stride + inputWidth] = 1.0;
                java.util.Arrays.fill(y, s * outputWidth, (s + 1) * outputWidth, 0.0);
                readLabel(row, id, loss, outputWidth, y, s * outputWidth, classes, s, byClass);
            } catch (InputException e) {
                if (!skipInvalid) {
                    throw e;
                }
                skipped++;
                if (reasons.size() < REASONS_KEPT) {
                    reasons.add(e.getMessage());
                }
                return SKIPPED;
            }
            return id;
        }

        int takeSkipped() {
            int k = skipped;
            skipped = 0;
            return k;
        }

        List<String> takeReasons() {
            List<String> r = new ArrayList<>(reasons);
            reasons.clear();
            return r;
        }
    }

    /** Rows of samples pending per class with --by-class, over all classes, at most (bytes). */
    static final long CLASS_PENDING_BYTES = 64L << 20;

    /**
     * The batches of a partition with --by-class: each batch holds samples of one class, so that
     * every per-class sum is the same one product per batch as the global sum (the accumulator forms
     * it once and adds it to both). A class's batch is emitted when it holds
     * {@link #classBatchSize} samples; at the end of the partition the partial ones follow in class
     * order. Deterministic for a given partition; pending rows stay under {@link #CLASS_PENDING_BYTES}.
     */
    private final class ClassBatches implements Iterator<InputBatch> {
        private final Iterator<InternalRow> rows;
        private final int stride = inputWidth + 1;
        private final int capacity;
        private final Object[][] ids;
        private final double[][] x;
        private final double[][] y;
        private final int[] used;
        private final double[] rowX = new double[stride];
        private final double[] rowY = new double[outputWidth];
        private final int[] rowClass = new int[1];
        private final java.util.ArrayDeque<InputBatch> ready = new java.util.ArrayDeque<>();
        private final RowReader reader = new RowReader();
        private boolean flushed;

        ClassBatches(Iterator<InternalRow> rows) {
            this.rows = rows;
            int classes = loss.classCount(outputWidth);
            this.capacity = classBatchSize(batchSize, classes, stride + outputWidth);
            this.ids = new Object[classes][];
            this.x = new double[classes][];
            this.y = new double[classes][];
            this.used = new int[classes];
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && rows.hasNext()) {
                readRow(rows.next());
            }
            if (ready.isEmpty() && !flushed) {
                flushed = true;
                for (int c = 0; c < used.length; c++) {
                    if (used[c] > 0) {
                        emit(c);
                    }
                }
                int skipped = reader.takeSkipped();
                if (ready.isEmpty() && skipped > 0) {   // every row skipped: still report them
                    ready.add(new InputBatch(new Object[0], new double[0], new double[0], new int[0], inputWidth,
                            outputWidth, skipped, reader.takeReasons()));
                }
            }
            return !ready.isEmpty();
        }

        @Override
        public InputBatch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }

        private void readRow(InternalRow row) {
            Object id = reader.read(row, rowX, rowY, rowClass, 0);
            if (id == RowReader.SKIPPED) {
                return;
            }
            int c = rowClass[0];
            if (ids[c] == null) {
                ids[c] = new Object[capacity];
                x[c] = new double[capacity * stride];
                y[c] = new double[capacity * outputWidth];
            }
            int s = used[c]++;
            ids[c][s] = id;
            System.arraycopy(rowX, 0, x[c], s * stride, stride);
            System.arraycopy(rowY, 0, y[c], s * outputWidth, outputWidth);
            if (used[c] == capacity) {
                emit(c);
            }
        }

        private void emit(int c) {
            int n = used[c];
            int[] classes = new int[n];
            java.util.Arrays.fill(classes, c);
            ready.add(new InputBatch(java.util.Arrays.copyOf(ids[c], n), java.util.Arrays.copyOf(x[c], n * stride),
                    java.util.Arrays.copyOf(y[c], n * outputWidth), classes, inputWidth, outputWidth, reader.takeSkipped(),
                    reader.takeReasons()));
            used[c] = 0;
        }
    }

    /**
     * Samples per class batch: the batch size, or fewer when the classes' pending rows
     * (C · size · rowDoubles · 8 bytes) would exceed {@link #CLASS_PENDING_BYTES}; at least 1.
     */
    static int classBatchSize(int batchSize, int classes, int rowDoubles) {
        long perSample = (long) classes * rowDoubles * Double.BYTES;
        return (int) Math.max(1, Math.min(batchSize, CLASS_PENDING_BYTES / perSample));
    }

    private static void readFeatures(InternalRow row, Object id, int n0, double[] x, int offset, String[] columns) {
        if (row.isNullAt(1)) {
            throw new InputException("sample_id " + id + ": features are null, expected " + n0 + " numbers");
        }
        ArrayData f = row.getArray(1);
        if (f.numElements() != n0) {
            throw new InputException("sample_id " + id + ": features have length " + f.numElements()
                    + ", expected " + n0 + " (the fan-in of layer 1)");
        }
        // element by element straight from Spark's buffer (toDoubleArray would allocate a copy per row)
        for (int j = 0; j < n0; j++) {
            double d = f.getDouble(j);
            // a null element reads as 0 (Spark zeroes the slot of a null), so only zeros need the null check
            if (d == 0.0 && f.isNullAt(j)) {
                throw new InputException("sample_id " + id + ": feature " + j + (columns == null ? " is null"
                        : " (column '" + columns[j] + "') is empty or not a number") + ", expected a finite number");
            }
            if (!Double.isFinite(d)) {
                throw new InputException("sample_id " + id + ": feature " + j + " is " + d + ", expected a finite number");
            }
            x[offset + j] = d;
        }
    }

    private static void readLabel(InternalRow row, Object id, Loss loss, int p, double[] y, int offset, int[] classes,
                                  int s, boolean requireClasses) {
        if (row.isNullAt(2)) {
            throw new InputException("sample_id " + id + ": label is null (or, in a CSV, not a number)");
        }
        ArrayData label = row.getArray(2);
        int len = label.numElements();
        if (loss == Loss.SOFTMAX_CROSS_ENTROPY) {
            double c = len == 1 && !label.isNullAt(0) ? label.getDouble(0) : Double.NaN;
            if (!(c >= 0 && c < p && c == Math.rint(c))) {
                throw new InputException("sample_id " + id + ": label " + (len == 1 ? describe(label, 0) : describeAll(label))
                        + " is not a class index, expected an integer in [0, " + p + ")");
            }
            classes[s] = (int) c;
            y[offset + (int) c] = 1.0;
            return;
        }
        if (len != p) {
            throw new InputException("sample_id " + id + ": label has length " + len + ", expected " + p
                    + " (the output width for " + loss.jsonName() + ")");
        }
        for (int k = 0; k < p; k++) {
            double d = label.isNullAt(k) ? Double.NaN : label.getDouble(k);
            boolean ok = loss == Loss.SIGMOID_BINARY_CROSS_ENTROPY ? d >= 0 && d <= 1 : Double.isFinite(d);
            if (!ok) {
                throw new InputException("sample_id " + id + ": label[" + k + "] is " + describe(label, k)
                        + (loss == Loss.SIGMOID_BINARY_CROSS_ENTROPY ? ", expected a number in [0, 1]" : ", expected a finite number"));
            }
            y[offset + k] = d;
        }
        if (classes != null) {          // binary cross-entropy: 0 and 1 name classes, a soft label none
            double d = y[offset];
            classes[s] = d == 0.0 ? 0 : d == 1.0 ? 1 : -1;
            if (classes[s] < 0 && requireClasses) {
                throw new InputException("sample_id " + id + ": label " + d + " names no class, --by-class expects 0 or 1 "
                        + "for binary cross-entropy");
            }
        }
    }

    private static String describe(ArrayData a, int k) {
        return a.isNullAt(k) ? "null" : String.valueOf(a.getDouble(k));
    }

    /** As a java.util.List prints: [v0, v1, ...]. */
    private static String describeAll(ArrayData a) {
        StringBuilder b = new StringBuilder("[");
        for (int k = 0; k < a.numElements(); k++) {
            b.append(k == 0 ? "" : ", ").append(describe(a, k));
        }
        return b.append(']').toString();
    }
}
