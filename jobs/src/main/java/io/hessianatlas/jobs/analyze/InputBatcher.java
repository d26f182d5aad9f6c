package io.hessianatlas.jobs.analyze;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import io.hessianatlas.common.nn.Loss;
import io.hessianatlas.jobs.cli.InputException;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;

/**
 * Packs a partition of normalised rows (sample_id, features array&lt;double&gt;, label
 * array&lt;double&gt;) into validated {@link InputBatch}es of at most {@code batchSize} samples.
 * A bad row fails the task with an {@link InputException} naming its sample_id and what was expected.
 */
final class InputBatcher implements FlatMapFunction<Iterator<Row>, InputBatch> {
    private static final long serialVersionUID = 1L;

    private final int inputWidth;
    private final int outputWidth;
    private final Loss loss;
    private final int batchSize;
    private final boolean skipInvalid;

    /** Reasons kept per batch when skipping (run.json keeps the first few overall). */
    static final int REASONS_KEPT = 5;

    /**
     * @param skipInvalid drop invalid rows (counting them, with their reasons) instead of failing the task
     */
    InputBatcher(int inputWidth, int outputWidth, Loss loss, int batchSize, boolean skipInvalid) {
        this.inputWidth = inputWidth;
        this.outputWidth = outputWidth;
        this.loss = loss;
        this.batchSize = batchSize;
        this.skipInvalid = skipInvalid;
    }

    @Override
    public Iterator<InputBatch> call(Iterator<Row> rows) {
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
                List<Row> batch = new ArrayList<>(batchSize);
                while (rows.hasNext() && batch.size() < batchSize) {
                    batch.add(rows.next());
                }
                int b = batch.size();
                int n0 = inputWidth;
                int p = outputWidth;
                double[] x = new double[n0 * b];
                double[] y = new double[p * b];
                int[] classes = loss.isClassification() ? new int[b] : null;
                Object[] ids = new Object[b];
                int used = 0;
                int skipped = 0;
                List<String> reasons = new ArrayList<>();
                for (Row row : batch) {
                    Object id = row.get(0);
                    try {
                        readFeatures(row, id, n0, x, used * n0);
                        java.util.Arrays.fill(y, used * p, (used + 1) * p, 0.0);
                        readLabel(row, id, loss, p, y, used * p, classes, used);
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
                if (used < b) {
                    ids = java.util.Arrays.copyOf(ids, used);
                    x = java.util.Arrays.copyOf(x, n0 * used);
                    y = java.util.Arrays.copyOf(y, p * used);
                    classes = classes == null ? null : java.util.Arrays.copyOf(classes, used);
                }
                return new InputBatch(ids, x, y, classes, n0, p, skipped, reasons);
            }
        };
    }

    private static void readFeatures(Row row, Object id, int n0, double[] x, int offset) {
        if (row.isNullAt(1)) {
            throw new InputException("sample_id " + id + ": features are null, expected " + n0 + " numbers");
        }
        List<Object> f = row.getList(1);
        if (f.size() != n0) {
            throw new InputException("sample_id " + id + ": features have length " + f.size()
                    + ", expected " + n0 + " (the fan-in of layer 1)");
        }
        for (int j = 0; j < n0; j++) {
            Object v = f.get(j);
            double d = v == null ? Double.NaN : ((Number) v).doubleValue();
            if (!Double.isFinite(d)) {
                throw new InputException("sample_id " + id + ": feature " + j + " is " + (v == null ? "null" : d)
                        + ", expected a finite number");
            }
            x[offset + j] = d;
        }
    }

    private static void readLabel(Row row, Object id, Loss loss, int p, double[] y, int offset, int[] classes, int s) {
        if (row.isNullAt(2)) {
            throw new InputException("sample_id " + id + ": label is null");
        }
        List<Object> label = row.getList(2);
        if (loss == Loss.SOFTMAX_CROSS_ENTROPY) {
            double c = label.size() == 1 && label.get(0) != null ? ((Number) label.get(0)).doubleValue() : Double.NaN;
            if (!(c >= 0 && c < p && c == Math.rint(c))) {
                throw new InputException("sample_id " + id + ": label " + (label.size() == 1 ? label.get(0) : label)
                        + " is not a class index, expected an integer in [0, " + p + ")");
            }
            classes[s] = (int) c;
            y[offset + (int) c] = 1.0;
            return;
        }
        if (label.size() != p) {
            throw new InputException("sample_id " + id + ": label has length " + label.size() + ", expected " + p
                    + " (the output width for " + loss.jsonName() + ")");
        }
        for (int k = 0; k < p; k++) {
            Object v = label.get(k);
            double d = v == null ? Double.NaN : ((Number) v).doubleValue();
            boolean ok = loss == Loss.SIGMOID_BINARY_CROSS_ENTROPY ? d >= 0 && d <= 1 : Double.isFinite(d);
            if (!ok) {
                throw new InputException("sample_id " + id + ": label[" + k + "] is " + (v == null ? "null" : d)
                        + (loss == Loss.SIGMOID_BINARY_CROSS_ENTROPY ? ", expected a number in [0, 1]" : ", expected a finite number"));
            }
            y[offset + k] = d;
        }
    }
}
