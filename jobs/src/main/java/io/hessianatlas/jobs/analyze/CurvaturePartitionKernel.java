package io.hessianatlas.jobs.analyze;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import io.hessianatlas.common.NativeRuntime;
import io.hessianatlas.common.curvature.BatchCurvature;
import io.hessianatlas.common.curvature.CurvatureAccumulator;
import io.hessianatlas.common.curvature.CurvaturePlan;
import io.hessianatlas.common.curvature.SampleScores;
import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.nn.Loss;
import io.hessianatlas.common.nn.Network;
import io.hessianatlas.jobs.cli.InputException;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The executor side of the per-sample pass over one partition of normalised rows
 * (sample_id, features array&lt;double&gt;, label array&lt;double&gt;): rows are validated and packed
 * into mini-batches (samples as columns), run through {@link BatchCurvature}, scored and
 * accumulated; the partition emits one {@link PassRecord.Batch} per mini-batch and finally its
 * {@link PassRecord.Sums}. ND4J objects are created here, inside the task, never shipped.
 */
final class CurvaturePartitionKernel implements Function2<Integer, Iterator<Row>, Iterator<PassRecord>> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<Network> network;
    private final CurvaturePlan plan;
    private final int batchSize;

    CurvaturePartitionKernel(Broadcast<Network> network, CurvaturePlan plan, int batchSize) {
        this.network = network;
        this.plan = plan;
        this.batchSize = batchSize;
    }

    @Override
    public Iterator<PassRecord> call(Integer partition, Iterator<Row> rows) {
        NativeRuntime.configure();
        Network net = network.value();
        return new Iterator<>() {
            private final CurvatureAccumulator acc = new CurvatureAccumulator(net, plan);
            private final SymmetricEigen eigen = new SymmetricEigen(maxWidth(net));
            private boolean sumsEmitted;

            @Override
            public boolean hasNext() {
                return rows.hasNext() || !sumsEmitted;
            }

            @Override
            public PassRecord next() {
                if (rows.hasNext()) {
                    return nextBatch();
                }
                if (sumsEmitted) {
                    throw new NoSuchElementException();
                }
                sumsEmitted = true;
                return new PassRecord.Sums(partition, acc.toSums());
            }

            private PassRecord nextBatch() {
                int n0 = net.inputSize();
                int p = net.outputSize();
                List<Row> batch = new ArrayList<>(batchSize);
                while (rows.hasNext() && batch.size() < batchSize) {
                    batch.add(rows.next());
                }
                int b = batch.size();
                double[] x = new double[n0 * b];   // column-major (n0 x B): sample s at [s*n0, (s+1)*n0)
                double[] y = new double[p * b];
                int[] classes = net.loss().isClassification() ? new int[b] : null;
                Object[] ids = new Object[b];
                for (int s = 0; s < b; s++) {
                    Row row = batch.get(s);
                    ids[s] = row.get(0);
                    readFeatures(row, ids[s], n0, x, s * n0);
                    readLabel(row, ids[s], net.loss(), p, y, s * p, classes, s);
                }
                INDArray xs = Nd4j.create(x, new long[] {n0, b}, 'f');
                INDArray ys = Nd4j.create(y, new long[] {p, b}, 'f');
                BatchCurvature bc = BatchCurvature.compute(net, xs, ys, plan.mode(), plan.lowestLayer());
                SampleScores scores = SampleScores.compute(bc, plan.layers(), true, eigen);
                acc.add(bc, scores, classes);
                return new PassRecord.Batch(ids, scores);
            }
        };
    }

    private static int maxWidth(Network net) {
        int w = net.outputSize();
        for (int l = 1; l <= net.depth(); l++) {
            w = Math.max(w, net.layer(l).fanOut());
        }
        return w;
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
