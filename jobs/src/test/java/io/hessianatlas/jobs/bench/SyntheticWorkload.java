package io.hessianatlas.jobs.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.model.io.NativeModelWriter;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Writes a reproducible synthetic workload for benchmarks: a ReLU softmax network with He-scaled
 * Gaussian weights (native format) and N samples whose features are uniform in [0, 1) (INPUTS =
 * uniform, the default) or standard normal (INPUTS = normal: issue 14's workload, on which layer 1's
 * top GGN eigenvalues are tightly clustered) and whose labels are uniform random classes, all from a
 * fixed seed (each row from seed + row index, so the data do not depend on the partitioning).
 *
 * <pre>SyntheticWorkload OUT_DIR SAMPLES WIDTHS(784,256,128,10) [SEED] [PARTITIONS] [MASTER] [INPUTS]</pre>
 * Writes OUT_DIR/model and OUT_DIR/data.parquet (columns id long, features array&lt;double&gt;, label int;
 * 16 MB row groups), and the same rows as OUT_DIR/data-one-row-group.parquet (one file, one row group).
 */
public final class SyntheticWorkload {
    /** Parquet row-group size of the generated data. */
    static final long ROW_GROUP_BYTES = 16L << 20;
    /** Row-group size of data-one-row-group.parquet: larger than the whole file. */
    static final long ONE_ROW_GROUP_BYTES = 2L << 30;

    private SyntheticWorkload() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SyntheticWorkload OUT_DIR SAMPLES WIDTHS [SEED] [PARTITIONS] [MASTER] [uniform|normal]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        long samples = Long.parseLong(args[1]);
        int[] widths = Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray();
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 7L;
        int partitions = args.length > 4 ? Integer.parseInt(args[4]) : 8;
        String master = args.length > 5 ? args[5] : "local[*]";
        Inputs inputs = args.length > 6 ? Inputs.parse(args[6]) : Inputs.UNIFORM;

        SparkSession spark = SparkSession.builder().appName("hessian-atlas synthetic workload").master(master).getOrCreate();
        try {
            write(spark, out, samples, widths, seed, partitions, inputs);
            // the same rows as one file in one row group, as DuckDB or pandas write a file of this size
            // (issue 14: the source is then one partition), in id order
            spark.read().parquet(out.resolve("data.parquet").toString()).sort("id").coalesce(1).write()
                    .mode(SaveMode.Overwrite).option("parquet.block.size", ONE_ROW_GROUP_BYTES)
                    .parquet(out.resolve("data-one-row-group.parquet").toString());
        } finally {
            spark.stop();
        }
        System.out.println("wrote " + samples + " " + inputs.name().toLowerCase(java.util.Locale.ROOT)
                + " samples of " + Arrays.toString(widths) + " to " + out);
    }

    /**
     * Writes OUT_DIR/model and OUT_DIR/data.parquet (uniform inputs) with a running session, which
     * stays running (ClusterFaultToleranceTest writes its workload with its own test session).
     */
    public static void write(SparkSession spark, Path out, long samples, int[] widths, long seed, int partitions) {
        write(spark, out, samples, widths, seed, partitions, Inputs.UNIFORM);
    }

    static void write(SparkSession spark, Path out, long samples, int[] widths, long seed, int partitions, Inputs inputs) {
        NativeModelWriter.write(network(widths, seed), out.resolve("model"));
        StructType schema = new StructType()
                .add("id", DataTypes.LongType, false)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("label", DataTypes.IntegerType, false);
        int n0 = widths[0];
        int classes = widths[widths.length - 1];
        Dataset<Row> rows = spark.range(0, samples, 1, partitions).map((MapFunction<Long, Row>) id -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + id);
            double[] x = new double[n0];
            for (int j = 0; j < n0; j++) {
                x[j] = inputs == Inputs.NORMAL ? gaussian(r) : r.nextDouble();
            }
            return RowFactory.create(id, x, r.nextInt(classes));
        }, ExpressionEncoder.apply(schema));
        // 16 MB row groups: a reader holds a whole column chunk in memory, so the 128 MB default
        // would dominate a 1 GB executor (scripts/bench-memory.sh)
        rows.write().mode(SaveMode.Overwrite).option("parquet.block.size", ROW_GROUP_BYTES)
                .parquet(out.resolve("data.parquet").toString());
    }

    /** The distribution of the features: uniform in [0, 1), or standard normal (Box-Muller). */
    enum Inputs {
        UNIFORM, NORMAL;

        static Inputs parse(String s) {
            return switch (s) {
                case "uniform" -> UNIFORM;
                case "normal" -> NORMAL;
                default -> throw new IllegalArgumentException("INPUTS: expected uniform or normal, got " + s);
            };
        }
    }

    /** ReLU hidden layers, identity output, softmax cross-entropy; W ~ N(0, 2/fan_in), b = 0.01. */
    static Network network(int[] widths, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<DenseLayer> layers = new ArrayList<>();
        for (int l = 1; l < widths.length; l++) {
            int in = widths[l - 1];
            int outW = widths[l];
            double sd = Math.sqrt(2.0 / in);
            double[] w = new double[in * outW];
            for (int k = 0; k < w.length; k++) {
                w[k] = gaussian(r) * sd;
            }
            double[] b = new double[outW];
            Arrays.fill(b, 0.01);
            layers.add(new DenseLayer("fc" + l, outW, in, w, b,
                    l == widths.length - 1 ? Activation.IDENTITY : Activation.RELU));
        }
        return new Network(layers, Loss.SOFTMAX_CROSS_ENTROPY);
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log1p(-u)) * Math.cos(2 * Math.PI * v);
    }

}
