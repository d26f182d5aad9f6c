package io.hessianatlas.jobs.analyze.report;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The small tables of an output folder, collected to the driver: {@code layers}, {@code spectrum}
 * and, when the run wrote them, {@code density} (--density) and {@code classes} (--by-class). Each
 * has a row per layer, eigenvalue, grid point or (class, layer), so it fits in the driver's memory;
 * the per-sample tables never are collected ({@link SampleStatistics}). Columns are looked up by
 * name and a missing column reads as null, so an older or newer layout still gives a report.
 *
 * @param density empty when the run wrote no density table
 * @param classes empty when the run wrote no classes table
 */
record ReportTables(List<LayerRow> layers, List<Eigenvalue> spectrum, boolean hasDensity, List<DensityPoint> density,
                    boolean hasClasses, List<ClassRow> classes) {

    static final String LAYERS = "layers";
    static final String SPECTRUM = "spectrum";
    static final String DENSITY = "density";
    static final String CLASSES = "classes";
    static final String SAMPLES = "samples";
    static final String SAMPLE_LAYERS = "sample_layers";
    /** Layer 0 in every table: the whole network (--network, design.md §4.7). */
    static final int NETWORK = 0;
    /** The spectrum's matrix names (design.md §6): the block of the mode, the Kronecker product, the empirical Fisher. */
    static final String H = "H";
    static final String AXG = "AxG";
    static final String FISHER = "F";

    ReportTables {
        layers = List.copyOf(layers);
        spectrum = List.copyOf(spectrum);
        density = List.copyOf(density);
        classes = List.copyOf(classes);
    }

    /** One row of {@code layers} (README "Outputs"; nullable columns are boxed). */
    record LayerRow(int layer, String name, Integer fanIn, Integer fanOut, Long params, Long samples, String mode,
                    Double trace, Double frobenius, Double lambdaMax, Double lambdaMin, Double kfacRelError,
                    Double kfacOverlap, Integer overlapK, Double gradNorm, String spectrumMethod, Integer lanczosPasses,
                    Boolean lanczosConverged, Integer densityPasses) {
        /** "network" for layer 0, else "layer l (name)". */
        String label() {
            if (layer == NETWORK) {
                return "network (layer 0)";
            }
            return name == null || name.isBlank() ? "layer " + layer : "layer " + layer + " (" + name + ")";
        }
    }

    /** One row of {@code spectrum}: rank 1 is the largest; residual is null for dense and Kronecker. */
    record Eigenvalue(int layer, String matrix, String method, int rank, double value, Double residual) {
    }

    /** One grid point of {@code density}. */
    record DensityPoint(int layer, String matrix, double x, double density) {
    }

    /** One row of {@code classes}: per class and layer, means over the class's samples. */
    record ClassRow(int cls, int layer, long samples, Double loss, Double accuracy, Double trace, Double lambdaMax,
                    String lambdaMaxMethod, Double aLambdaMax, Double gLambdaMax) {
    }

    /** Reads the small tables under {@code dir} (a Hadoop path); the optional ones only when their folder exists. */
    static ReportTables read(SparkSession spark, FileSystem fs, String dir) throws IOException {
        List<LayerRow> layers = new ArrayList<>();
        for (Row r : spark.read().parquet(table(dir, LAYERS)).orderBy("layer").collectAsList()) {
            layers.add(new LayerRow(r.getInt(r.fieldIndex("layer")), string(r, "name"), integer(r, "fan_in"),
                    integer(r, "fan_out"), longValue(r, "params"), longValue(r, "samples"), string(r, "mode"),
                    number(r, "trace"), number(r, "frobenius"), number(r, "lambda_max"), number(r, "lambda_min"),
                    number(r, "kfac_rel_error"), number(r, "kfac_overlap"), integer(r, "overlap_k"),
                    number(r, "grad_norm"), string(r, "spectrum_method"), integer(r, "lanczos_passes"),
                    bool(r, "lanczos_converged"), integer(r, "density_passes")));
        }
        List<Eigenvalue> spectrum = new ArrayList<>();
        for (Row r : spark.read().parquet(table(dir, SPECTRUM)).orderBy("layer", "matrix", "rank").collectAsList()) {
            spectrum.add(new Eigenvalue(r.getInt(r.fieldIndex("layer")), string(r, "matrix"), string(r, "method"),
                    r.getInt(r.fieldIndex("rank")), r.getDouble(r.fieldIndex("eigenvalue")), number(r, "residual")));
        }
        boolean hasDensity = exists(fs, dir, DENSITY);
        List<DensityPoint> density = new ArrayList<>();
        if (hasDensity) {
            for (Row r : spark.read().parquet(table(dir, DENSITY)).orderBy("layer", "matrix", "x").collectAsList()) {
                density.add(new DensityPoint(r.getInt(r.fieldIndex("layer")), string(r, "matrix"),
                        r.getDouble(r.fieldIndex("x")), r.getDouble(r.fieldIndex("density"))));
            }
        }
        boolean hasClasses = exists(fs, dir, CLASSES);
        List<ClassRow> classes = new ArrayList<>();
        if (hasClasses) {
            for (Row r : spark.read().parquet(table(dir, CLASSES)).orderBy("class", "layer").collectAsList()) {
                Long samples = longValue(r, "samples");
                classes.add(new ClassRow(r.getInt(r.fieldIndex("class")), r.getInt(r.fieldIndex("layer")),
                        samples == null ? 0 : samples, number(r, "loss"), number(r, "accuracy"), number(r, "trace"),
                        number(r, "lambda_max"), string(r, "lambda_max_method"), number(r, "a_lambda_max"),
                        number(r, "g_lambda_max")));
            }
        }
        return new ReportTables(layers, spectrum, hasDensity, density, hasClasses, classes);
    }

    /** The eigenvalues of one layer's matrix, by rank. */
    List<Eigenvalue> eigenvalues(int layer, String matrix) {
        return spectrum.stream().filter(e -> e.layer() == layer && e.matrix().equals(matrix)).toList();
    }

    /** The density of one layer's H on its grid, by x. */
    List<DensityPoint> densityOf(int layer) {
        return density.stream().filter(d -> d.layer() == layer && H.equals(d.matrix())).toList();
    }

    boolean hasNetwork() {
        return layers.stream().anyMatch(l -> l.layer() == NETWORK);
    }

    /** The Parquet folder of a table under the output folder. */
    static String table(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    static boolean exists(FileSystem fs, String dir, String name) throws IOException {
        return fs.exists(new Path(table(dir, name)));
    }

    // Column access by name: a column the schema lacks, or a null cell, reads as null.

    static boolean has(Row r, String column) {
        return java.util.Arrays.asList(r.schema().fieldNames()).contains(column);
    }

    static Object raw(Row r, String column) {
        return has(r, column) ? r.get(r.fieldIndex(column)) : null;
    }

    static Double number(Row r, String column) {
        Object v = raw(r, column);
        return v == null ? null : ((Number) v).doubleValue();
    }

    static Integer integer(Row r, String column) {
        Object v = raw(r, column);
        return v == null ? null : ((Number) v).intValue();
    }

    static Long longValue(Row r, String column) {
        Object v = raw(r, column);
        return v == null ? null : ((Number) v).longValue();
    }

    static String string(Row r, String column) {
        Object v = raw(r, column);
        return v == null ? null : v.toString();
    }

    static Boolean bool(Row r, String column) {
        Object v = raw(r, column);
        return v == null ? null : (Boolean) v;
    }
}
