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

    /** Reasons kept per batch when skipping (run.json keeps the first few overall). */
    public static final int REASONS_KEPT = 5;

    /**
     * @param stringIds   sample_id is a string column (else a long)
     * @param skipInvalid drop invalid rows (counting them, with their reasons) instead of failing the task
     * @param byClass     --by-class: every label must name a class (a soft binary label is invalid), and
     *                    each batch is ordered by class ({@link InputBatch#sortedByClass})
     */
    public InputBatcher(int inputWidth, int outputWidth, Loss loss, int batchSize, boolean stringIds, boolean skipInvalid,
                        boolean byClass) {
        this.byClass = byClass;
        this.inputWidth = inputWidth;
        this.outputWidth = outputWidth;
        this.loss = loss;
        this.batchSize = batchSize;
        this.stringIds = stringIds;
        this.skipInvalid = skipInvalid;
    }

    @Override
    public Iterator<InputBatch> call(Iterator<InternalRow> rows) {
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
                int skipped = 0;
                List<String> reasons = new ArrayList<>();
                for (int read = 0; read < batchSize && rows.hasNext(); read++) {
                    InternalRow row = rows.next();
                    Object id = row.isNullAt(0) ? null : stringIds ? row.getUTF8String(0).toString() : (Object) row.getLong(0);
                    try {
                        readFeatures(row, id, n0, x, used * stride);
                        x[used * stride + n0] = 1.0;
                        java.util.Arrays.fill(y, used * p, (used + 1) * p, 0.0);
                        readLabel(row, id, loss, p, y, used * p, classes, used, byClass);
                    } catch (InputException e) {
                        if (!skipInvalid) {
                            throw e;
                        }
                        skipped++;
                        if (reasons.size() < REASONS_KEPT) {
                            reasons.add(e.getMessage());
                        }
                        continue;
                    }
                    ids[used++] = id;
                }
                if (used < batchSize) {
                    ids = java.util.Arrays.copyOf(ids, used);
                    x = java.util.Arrays.copyOf(x, stride * used);
                    y = java.util.Arrays.copyOf(y, p * used);
                    classes = classes == null ? null : java.util.Arrays.copyOf(classes, used);
                }
                InputBatch batch = new InputBatch(ids, x, y, classes, n0, p, skipped, reasons);
                return byClass ? batch.sortedByClass() : batch;
            }
        };
    }

    private static void readFeatures(InternalRow row, Object id, int n0, double[] x, int offset) {
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
                throw new InputException("sample_id " + id + ": feature " + j + " is null, expected a finite number");
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
            throw new InputException("sample_id " + id + ": label is null");
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
