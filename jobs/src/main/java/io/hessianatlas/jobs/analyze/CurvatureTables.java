package io.hessianatlas.jobs.analyze;

import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.common.curvature.LayerCurvatureReport;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The driver-side tables `layers`, `spectrum` and `factors` (DESIGN.md §6; every column is
 * documented in the README) built from the layer reports. Column names are stable.
 */
final class CurvatureTables {
    static final StructType LAYERS = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("name", DataTypes.StringType, false)
            .add("fan_in", DataTypes.IntegerType, false)
            .add("fan_out", DataTypes.IntegerType, false)
            .add("params", DataTypes.LongType, false)
            .add("samples", DataTypes.LongType, false)
            .add("mode", DataTypes.StringType, false)
            .add("trace", DataTypes.DoubleType, false)
            .add("frobenius", DataTypes.DoubleType, true)
            .add("lambda_max", DataTypes.DoubleType, true)
            .add("lambda_min", DataTypes.DoubleType, true)
            .add("kfac_rel_error", DataTypes.DoubleType, true)
            .add("kfac_overlap", DataTypes.DoubleType, true)
            .add("overlap_k", DataTypes.IntegerType, true)
            .add("grad_norm", DataTypes.DoubleType, false)
            .add("spectrum_method", DataTypes.StringType, false);

    static final StructType SPECTRUM = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("matrix", DataTypes.StringType, false)
            .add("method", DataTypes.StringType, false)
            .add("rank", DataTypes.IntegerType, false)
            .add("eigenvalue", DataTypes.DoubleType, false);

    static final StructType FACTORS = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("matrix", DataTypes.StringType, false)
            .add("row", DataTypes.IntegerType, false)
            .add("values", DataTypes.createArrayType(DataTypes.DoubleType, false), false);

    /** Driver rows per slice: large factor tables are shipped as an RDD, not inlined into the plan. */
    private static final int ROWS_PER_SLICE = 512;
    /** Values per slice, to keep each task below Spark's recommended 1000 KiB. */
    private static final long VALUES_PER_SLICE = 64 * 1024;

    private CurvatureTables() {
    }

    private static Dataset<Row> frame(SparkSession spark, List<Row> rows, StructType schema) {
        long values = 0;
        for (Row r : rows) {
            Object last = r.get(r.length() - 1);
            values += last instanceof double[] ? ((double[]) last).length : r.length();
        }
        int slices = (int) Math.max(1, Math.max((rows.size() + ROWS_PER_SLICE - 1) / ROWS_PER_SLICE,
                (values + VALUES_PER_SLICE - 1) / VALUES_PER_SLICE));
        slices = Math.min(slices, Math.max(1, rows.size()));
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return spark.createDataFrame(jsc.parallelize(rows, slices), schema);
    }

    static Dataset<Row> layers(SparkSession spark, List<LayerCurvatureReport> reports) {
        List<Row> rows = new ArrayList<>();
        for (LayerCurvatureReport r : reports) {
            rows.add(RowFactory.create(r.layer(), r.name(), r.fanIn(), r.fanOut(), r.params(), r.samples(),
                    r.mode().optionName(), r.trace(), r.frobenius(), r.lambdaMax(), r.lambdaMin(),
                    r.kfacRelativeError(), r.kfacOverlap(), r.isDense() ? r.overlapK() : null, r.gradNorm(),
                    r.spectrumMethod()));
        }
        return frame(spark, rows, LAYERS);
    }

    static Dataset<Row> spectrum(SparkSession spark, List<LayerCurvatureReport> reports) {
        List<Row> rows = new ArrayList<>();
        for (LayerCurvatureReport r : reports) {
            addAll(rows, r.layer(), "H", "dense", r.eigenvaluesH());
            addAll(rows, r.layer(), "A", "dense", r.eigenvaluesA());
            addAll(rows, r.layer(), "G", "dense", r.eigenvaluesG());
            double[] kv = r.kroneckerEigenvalues();
            int[] kr = r.kroneckerRanks();
            for (int i = 0; i < kv.length; i++) {
                rows.add(RowFactory.create(r.layer(), "AxG", "kronecker", kr[i], kv[i]));
            }
            addAll(rows, r.layer(), "F", "dense", r.eigenvaluesF());
        }
        return frame(spark, rows, SPECTRUM);
    }

    private static void addAll(List<Row> rows, int layer, String matrix, String method, double[] values) {
        if (values == null) {
            return;
        }
        for (int i = 0; i < values.length; i++) {
            rows.add(RowFactory.create(layer, matrix, method, i + 1, values[i]));
        }
    }

    static Dataset<Row> factors(SparkSession spark, List<LayerCurvatureReport> reports) {
        List<Row> rows = new ArrayList<>();
        for (LayerCurvatureReport r : reports) {
            addRows(rows, r.layer(), "A", r.meanA(), r.fanIn() + 1);
            addRows(rows, r.layer(), "G", r.meanG(), r.fanOut());
            addRows(rows, r.layer(), "H", r.meanH(), (int) r.params());
            addRows(rows, r.layer(), "F", r.meanF(), (int) r.params());
        }
        return frame(spark, rows, FACTORS);
    }

    private static void addRows(List<Row> rows, int layer, String matrix, double[] m, int n) {
        if (m == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            double[] row = new double[n];
            System.arraycopy(m, i * n, row, 0, n);
            rows.add(RowFactory.create(layer, matrix, i, row));
        }
    }
}
