package io.hessianatlas.jobs.analyze.io;

import java.util.ArrayList;
import java.util.List;

import io.hessianatlas.common.nd4j.ThetaIndex;
import io.hessianatlas.common.spectra.ClassCurvature;
import io.hessianatlas.common.spectra.LayerCurvatureReport;
import io.hessianatlas.jobs.analyze.api.LayerResult;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The driver-side tables `layers`, `spectrum`, `factors`, `density`, `eigenvectors` and `classes`
 * (docs/design.md §6; every column is documented in the README) built from the layer results. Column
 * names are stable.
 */
public final class CurvatureTables {
    static final StructType LAYERS = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("name", DataTypes.StringType, false)
            .add("fan_in", DataTypes.IntegerType, true)
            .add("fan_out", DataTypes.IntegerType, true)
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
            .add("spectrum_method", DataTypes.StringType, false)
            .add("lanczos_passes", DataTypes.IntegerType, true)
            .add("lanczos_converged", DataTypes.BooleanType, true)
            .add("density_passes", DataTypes.IntegerType, true);

    static final StructType SPECTRUM = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("matrix", DataTypes.StringType, false)
            .add("method", DataTypes.StringType, false)
            .add("rank", DataTypes.IntegerType, false)
            .add("eigenvalue", DataTypes.DoubleType, false)
            .add("residual", DataTypes.DoubleType, true);

    static final StructType DENSITY = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("matrix", DataTypes.StringType, false)
            .add("x", DataTypes.DoubleType, false)
            .add("density", DataTypes.DoubleType, false);

    static final StructType EIGENVECTORS = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("matrix", DataTypes.StringType, false)
            .add("rank", DataTypes.IntegerType, false)
            .add("eigenvalue", DataTypes.DoubleType, false)
            .add("values", DataTypes.createArrayType(DataTypes.DoubleType, false), false);

    static final StructType FACTORS = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("matrix", DataTypes.StringType, false)
            .add("row", DataTypes.IntegerType, false)
            .add("values", DataTypes.createArrayType(DataTypes.DoubleType, false), false);

    static final StructType CLASSES = new StructType()
            .add("class", DataTypes.IntegerType, false)
            .add("layer", DataTypes.IntegerType, false)
            .add("samples", DataTypes.LongType, false)
            .add("loss", DataTypes.DoubleType, false)
            .add("accuracy", DataTypes.DoubleType, false)
            .add("trace", DataTypes.DoubleType, false)
            .add("lambda_max", DataTypes.DoubleType, false)
            .add("lambda_max_method", DataTypes.StringType, false)
            .add("a_lambda_max", DataTypes.DoubleType, true)
            .add("g_lambda_max", DataTypes.DoubleType, true);

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

    public static Dataset<Row> layers(SparkSession spark, List<LayerResult> results, String mode) {
        List<Row> rows = new ArrayList<>();
        for (LayerResult r : results) {
            LayerCurvatureReport rep = r.report();
            rows.add(RowFactory.create(r.layer(), r.name(), rep == null ? null : rep.fanIn(), rep == null ? null : rep.fanOut(),
                    r.params(), r.samples(), mode, r.trace(),
                    rep == null ? null : rep.frobenius(), r.lambdaMax(), r.lambdaMin(),
                    rep == null ? null : rep.kfacRelativeError(), r.overlap(),
                    r.overlap() == null ? null : (rep != null && rep.isDense() ? rep.overlapK() : r.lanczos().topValues().length),
                    r.gradNorm(), r.spectrumMethod(),
                    r.lanczos() == null ? null : r.lanczos().steps(), r.lanczos() == null ? null : r.lanczos().converged(),
                    r.quadrature() == null ? null : r.densityPasses()));
        }
        return frame(spark, rows, LAYERS);
    }

    public static Dataset<Row> spectrum(SparkSession spark, List<LayerResult> results) {
        List<Row> rows = new ArrayList<>();
        for (LayerResult res : results) {
            if (res.lanczos() != null) {
                double[] top = res.lanczos().topValues();
                double[] topRes = res.lanczos().topResiduals();
                for (int i = 0; i < top.length; i++) {
                    rows.add(RowFactory.create(res.layer(), "H", "lanczos", i + 1, top[i], topRes[i]));
                }
                double[] bottom = res.lanczos().bottomValues();
                double[] botRes = res.lanczos().bottomResiduals();
                for (int i = 0; i < bottom.length; i++) {
                    int rank = (int) res.params() - i;
                    if (rank > top.length) {    // not already reported as a top value (small dimensions)
                        rows.add(RowFactory.create(res.layer(), "H", "lanczos", rank, bottom[i], botRes[i]));
                    }
                }
            }
            LayerCurvatureReport r = res.report();
            if (r == null) {
                continue;
            }
            addAll(rows, r.layer(), "H", "dense", r.eigenvaluesH());
            addAll(rows, r.layer(), "A", "dense", r.eigenvaluesA());
            addAll(rows, r.layer(), "G", "dense", r.eigenvaluesG());
            double[] kv = r.kroneckerEigenvalues();
            int[] kr = r.kroneckerRanks();
            for (int i = 0; i < kv.length; i++) {
                rows.add(RowFactory.create(r.layer(), "AxG", "kronecker", kr[i], kv[i], null));
            }
            addAll(rows, r.layer(), "F", "dense", r.eigenvaluesF());
        }
        return frame(spark, rows, SPECTRUM);
    }

    public static Dataset<Row> density(SparkSession spark, List<LayerResult> results) {
        List<Row> rows = new ArrayList<>();
        for (LayerResult r : results) {
            if (r.density() == null) {
                continue;
            }
            for (int g = 0; g < r.density()[0].length; g++) {
                rows.add(RowFactory.create(r.layer(), "H", r.density()[0][g], r.density()[1][g]));
            }
        }
        return frame(spark, rows, DENSITY);
    }

    /** Top-K eigenvectors of H (dense or Lanczos Ritz vectors) and of A⊗G, in θ order (ThetaIndex). */
    public static Dataset<Row> eigenvectors(SparkSession spark, List<LayerResult> results, int k) {
        List<Row> rows = new ArrayList<>();
        for (LayerResult r : results) {
            int d = (int) r.params();
            if (r.lanczos() != null) {
                addColumns(rows, r.layer(), "H", r.lanczos().topValues(), r.lanczos().topVectors().dup('c').data().asDouble(), d,
                        r.lanczos().topValues().length, k);
            } else if (r.report() != null && r.report().isDense()) {
                int kk = Math.min(k, d);
                addColumns(rows, r.layer(), "H", r.report().eigenvaluesH(), r.report().denseTopEigenvectors(kk), d, kk, kk);
            }
            if (r.report() != null) {
                io.hessianatlas.common.spectra.KroneckerSpectrum.Eigenpairs kron = r.report().kroneckerTop(k);
                addColumns(rows, r.layer(), "AxG", kron.values(), kron.vectors(), d, kron.count(), kron.count());
            }
        }
        return frame(spark, rows, EIGENVECTORS);
    }

    /** Columns of a row-major (d x cols) array as rows (rank = column + 1), at most k of them. */
    private static void addColumns(List<Row> rows, int layer, String matrix, double[] values, double[] vectors, int d,
                                   int cols, int k) {
        for (int c = 0; c < Math.min(k, cols); c++) {
            double[] v = new double[d];
            for (int t = 0; t < d; t++) {
                v[t] = vectors[t * cols + c];
            }
            rows.add(RowFactory.create(layer, matrix, c + 1, values[c], v));
        }
    }

    private static void addAll(List<Row> rows, int layer, String matrix, String method, double[] values) {
        if (values == null) {
            return;
        }
        for (int i = 0; i < values.length; i++) {
            rows.add(RowFactory.create(layer, matrix, method, i + 1, values[i], null));
        }
    }

    /** One row per class present in the data and layer (layer 0 first with --network), {@link ClassCurvature}. */
    public static Dataset<Row> classes(SparkSession spark, List<ClassCurvature> classes) {
        List<Row> rows = new ArrayList<>();
        for (ClassCurvature c : classes) {
            rows.add(RowFactory.create(c.classIndex(), c.layer(), c.samples(), c.meanLoss(), c.accuracy(), c.trace(),
                    c.lambdaMax(), c.method().columnValue(), c.lambdaMaxA(), c.lambdaMaxG()));
        }
        return frame(spark, rows, CLASSES);
    }

    public static Dataset<Row> factors(SparkSession spark, List<LayerResult> results) {
        List<Row> rows = new ArrayList<>();
        for (LayerResult res : results) {
            LayerCurvatureReport r = res.report();
            if (r == null) {
                continue;
            }
            ThetaIndex theta = r.theta();
            addRows(rows, r.layer(), "A", r.meanA(), theta.augmentedFanIn());
            addRows(rows, r.layer(), "G", r.meanG(), theta.fanOut());
            addRows(rows, r.layer(), "H", r.meanH(), theta.denseDimension());
            addRows(rows, r.layer(), "F", r.meanF(), theta.denseDimension());
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
