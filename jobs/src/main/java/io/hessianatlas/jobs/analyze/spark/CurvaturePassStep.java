package io.hessianatlas.jobs.analyze.spark;

import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.jobs.analyze.io.InputBatch;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import scala.Tuple2;

/**
 * The distributed per-sample pass: {@code mapPartitions} over mini-batches with
 * {@link CurvaturePartitionKernel}, persisted once on local disk (DISK_ONLY: its per-partition sums
 * are megabytes each and must not crowd a 1 GB executor heap) and read twice: its
 * per-partition sums are merged by {@link OrderedTreeAggregate} (partition order, so the result does
 * not depend on which task finishes first), and its per-sample scores become the {@code samples} Dataset that
 * Spark writes — never collected to the driver.
 */
public final class CurvaturePassStep {
    private CurvaturePassStep() {
    }

    /** The pass's results: the dataset sums (driver) and the per-sample rows (distributed). */
    /**
     * @param sums         the dataset sums (driver)
     * @param samples      the per-sample rows (distributed)
     * @param persisted    the pass's records, persisted on local disk
     * @param environments what computed on each executor that ran the pass
     */
    public record Result(CurvatureSums sums, Dataset<Row> samples, JavaRDD<PassRecord> persisted,
                         List<ExecutorEnvironments.Seen> environments) {
    }

    public static Result run(SparkSession spark, JavaRDD<InputBatch> batches, Broadcast<Network> network, CurvaturePlan plan,
                      Precision precision, StructType sampleSchema) {
        Network net = network.value();
        CollectionAccumulator<ExecutorEnvironments.Seen> environments = ExecutorEnvironments.register(spark.sparkContext());
        JavaRDD<PassRecord> pass = batches
                .mapPartitionsWithIndex(new CurvaturePartitionKernel(network, plan, precision, environments), true)
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
        int nLayers = plan.layers().length;
        JavaRDD<Row> rows = pass.flatMap(r -> sampleRows(r, nLayers).iterator());
        return new Result(sums, spark.createDataFrame(rows, sampleSchema), pass, List.copyOf(environments.value()));
    }

    private static List<Row> sampleRows(PassRecord record, int nLayers) {
        if (!(record instanceof PassRecord.Batch b)) {
            return List.of();
        }
        List<Row> rows = new ArrayList<>(b.ids().length * nLayers);
        int p = b.outputWidth();
        for (int s = 0; s < b.ids().length; s++) {
            double[] out = new double[p];
            System.arraycopy(b.output(), s * p, out, 0, p);
            Integer predicted = b.predicted()[s] < 0 ? null : b.predicted()[s];
            for (int li = 0; li < b.layers().length; li++) {
                rows.add(RowFactory.create(b.ids()[s], b.layers()[li], b.loss()[s], out, predicted,
                        b.trace()[li][s], b.lambdaMax()[li][s], b.gradNorm()[li][s]));
            }
        }
        return rows;
    }

    /** Schema of the samples table; sample_id takes the id column's type (long or string). */
    public static StructType sampleSchema(org.apache.spark.sql.types.DataType idType) {
        return new StructType()
                .add("sample_id", idType, false)
                .add("layer", DataTypes.IntegerType, false)
                .add("loss", DataTypes.DoubleType, false)
                .add("output", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("predicted_class", DataTypes.IntegerType, true)
                .add("trace", DataTypes.DoubleType, false)
                .add("lambda_max", DataTypes.DoubleType, false)
                .add("grad_norm", DataTypes.DoubleType, false);
    }
}
