package io.hessianatlas.jobs.analyze.spark;

import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.jobs.analyze.io.InputBatch;
import io.hessianatlas.jobs.analyze.io.LabelType;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import scala.Tuple2;

/**
 * The distributed per-sample pass: {@code mapPartitions} over mini-batches with
 * {@link CurvaturePartitionKernel}, persisted once on local disk (DISK_ONLY: its per-partition sums
 * are megabytes each and must not crowd a 1 GB executor heap) and read three times: its
 * per-partition sums are merged by {@link OrderedTreeAggregate} (partition order, so the result does
 * not depend on which task finishes first), and its per-sample scores become the {@code samples}
 * (one row per sample) and {@code sample_layers} (one row per sample and layer) Datasets that Spark
 * writes — never collected to the driver.
 */
public final class CurvaturePassStep {
    private CurvaturePassStep() {
    }

    /**
     * @param sums         the dataset sums (driver), with per-class sums when the plan has them
     * @param samples      one row per sample (distributed), {@link #sampleSchema}
     * @param sampleLayers one row per sample and analysed layer (distributed), {@link #sampleLayerSchema}
     * @param persisted    the pass's records, persisted on local disk
     * @param environments what computed on each executor that ran the pass
     */
    public record Result(CurvatureSums sums, Dataset<Row> samples, Dataset<Row> sampleLayers, JavaRDD<PassRecord> persisted,
                         List<ExecutorEnvironments.Seen> environments) {
    }

    /** Schema of the sample_layers table; sample_id takes the id column's type. */
    public static StructType sampleLayerSchema(DataType idType) {
        return new StructType()
                .add("sample_id", idType, false)
                .add("layer", DataTypes.IntegerType, false)
                .add("trace", DataTypes.DoubleType, false)
                .add("lambda_max", DataTypes.DoubleType, false)
                .add("grad_norm", DataTypes.DoubleType, false);
    }

    /**
     * Schema of the samples table; sample_id takes the id column's type (long or string), label
     * the {@link LabelType}'s.
     */
    public static StructType sampleSchema(DataType idType, LabelType labelType) {
        return new StructType()
                .add("sample_id", idType, false)
                .add("label", labelType.sparkType(), false)
                .add("loss", DataTypes.DoubleType, false)
                .add("output", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("predicted_class", DataTypes.IntegerType, true);
    }

    public static Result run(SparkSession spark, JavaRDD<InputBatch> batches, Broadcast<Network> network, CurvaturePlan plan,
                             Precision precision, DataType idType, LabelType labelType) {
        Network net = network.value();
        CollectionAccumulator<ExecutorEnvironments.Seen> environments = ExecutorEnvironments.register(spark.sparkContext());
        JavaRDD<PassRecord> pass = batches
                .mapPartitionsWithIndex(new CurvaturePartitionKernel(network, plan, precision, labelType, environments), true)
                .persist(StorageLevel.DISK_ONLY());
        CurvatureSums sums;
        try {
            sums = OrderedTreeAggregate.reduce(
                    pass.filter(r -> r instanceof PassRecord.Sums)
                            .mapToPair(r -> new Tuple2<>(((PassRecord.Sums) r).partition(), ((PassRecord.Sums) r).sums())),
                    pass.getNumPartitions(), () -> CurvatureSums.empty(net, plan), CurvatureSums::mergeInPlace);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        JavaRDD<Row> samples = pass.flatMap(r -> sampleRows(r).iterator());
        JavaRDD<Row> sampleLayers = pass.flatMap(r -> sampleLayerRows(r).iterator());
        return new Result(sums, spark.createDataFrame(samples, sampleSchema(idType, labelType)),
                spark.createDataFrame(sampleLayers, sampleLayerSchema(idType)), pass, List.copyOf(environments.value()));
    }

    private static List<Row> sampleRows(PassRecord record) {
        if (!(record instanceof PassRecord.Batch b)) {
            return List.of();
        }
        List<Row> rows = new ArrayList<>(b.ids().length);
        int p = b.outputWidth();
        for (int s = 0; s < b.ids().length; s++) {
            double[] out = new double[p];
            System.arraycopy(b.output(), s * p, out, 0, p);
            Integer predicted = b.predicted()[s] < 0 ? null : b.predicted()[s];
            rows.add(RowFactory.create(b.ids()[s], b.labels()[s], b.loss()[s], out, predicted));
        }
        return rows;
    }

    private static List<Row> sampleLayerRows(PassRecord record) {
        if (!(record instanceof PassRecord.Batch b)) {
            return List.of();
        }
        List<Row> rows = new ArrayList<>(b.ids().length * b.layers().length);
        for (int s = 0; s < b.ids().length; s++) {
            for (int li = 0; li < b.layers().length; li++) {
                rows.add(RowFactory.create(b.ids()[s], b.layers()[li], b.trace()[li][s], b.lambdaMax()[li][s],
                        b.gradNorm()[li][s]));
            }
        }
        return rows;
    }
}
