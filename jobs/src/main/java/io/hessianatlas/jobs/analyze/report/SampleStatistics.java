package io.hessianatlas.jobs.analyze.report;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.asc;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log10;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What the report shows of the per-sample tables, computed by Spark so that neither {@code samples}
 * nor {@code sample_layers} (millions of rows) ever reaches the driver: the log-binned distribution
 * of each layer's per-sample trace and λ_max (one aggregation over {@code sample_layers}, a few
 * hundred rows back), and the {@link #TOP} most curved samples (a sort with a limit, then two
 * look-ups of those ids).
 *
 * <p>"Most curved" ranks samples by the trace of their θ-block of the whole network when
 * {@code sample_layers} has layer 0 (--network), else by the sum of their per-layer traces, which
 * is the trace of the block-diagonal part over the analysed layers (with every layer analysed,
 * the whole network's trace: the trace of a matrix is the sum of its diagonal blocks' traces).
 *
 * @param histograms  per layer (ascending), trace then lambda_max
 * @param layers      the layers present in {@code sample_layers}
 * @param rankedBy    what the top samples are ranked by, as the page says it
 */
record SampleStatistics(boolean present, List<LogHistogram> histograms, List<Integer> layers, String rankedBy,
                        List<TopSample> top) {
    /** Rows of the most-curved table. */
    static final int TOP = 20;
    static final String TRACE = "trace";
    static final String LAMBDA_MAX = "lambda_max";

    SampleStatistics {
        histograms = List.copyOf(histograms);
        layers = List.copyOf(layers);
        top = List.copyOf(top);
    }

    /**
     * One of the most curved samples.
     *
     * @param score       the value it is ranked by (see the class comment)
     * @param traces      its per-sample trace per layer (layer → trace)
     * @param lambdaMaxes its per-sample λ_max per layer
     */
    record TopSample(String sampleId, String label, Double loss, Integer predictedClass, double score,
                     Map<Integer, Double> traces, Map<Integer, Double> lambdaMaxes) {
        TopSample {
            traces = java.util.Collections.unmodifiableMap(new TreeMap<>(traces));
            lambdaMaxes = java.util.Collections.unmodifiableMap(new TreeMap<>(lambdaMaxes));
        }
    }

    static SampleStatistics absent() {
        return new SampleStatistics(false, List.of(), List.of(), null, List.of());
    }

    /** Reads {@code sample_layers} and {@code samples} under dir; {@link #absent()} when sample_layers is not there. */
    static SampleStatistics compute(SparkSession spark, FileSystem fs, String dir) throws IOException {
        if (!ReportTables.exists(fs, dir, ReportTables.SAMPLE_LAYERS)) {
            return absent();
        }
        Dataset<Row> sampleLayers = spark.read().parquet(ReportTables.table(dir, ReportTables.SAMPLE_LAYERS));
        List<LogHistogram> histograms = histograms(sampleLayers);
        List<Integer> layers = new ArrayList<>(new TreeSet<>(histograms.stream().map(LogHistogram::layer).toList()));
        boolean network = layers.contains(ReportTables.NETWORK);
        Dataset<Row> scores = network
                ? sampleLayers.filter(col("layer").equalTo(ReportTables.NETWORK))
                        .select(col("sample_id"), col(TRACE).cast("double").as("score"))
                : sampleLayers.groupBy("sample_id").agg(sum(col(TRACE).cast("double")).as("score"));
        // NaN sorts above every number in Spark: a non-finite score is no curvature to rank.
        List<Row> ranked = scores.filter(col("score").isNotNull().and(not(isnan(col("score")))))
                .orderBy(desc("score"), asc("sample_id")).limit(TOP).collectAsList();
        String rankedBy = network
                ? "the per-sample trace of the whole network (layer 0)"
                : "the sum of the per-sample traces over layers " + joined(layers)
                        + " (the trace of the block-diagonal part of the network's matrix over these layers)";
        return new SampleStatistics(true, histograms, layers, rankedBy, top(spark, fs, dir, sampleLayers, ranked));
    }

    /**
     * One pass over sample_layers: every (layer, metric, kind, fine bin) with its count and
     * extremes; kind and bin as in {@link LogHistogram}.
     */
    private static List<LogHistogram> histograms(Dataset<Row> sampleLayers) {
        Column value = col("value");
        Column kind = when(value.isNull().or(isnan(value)).or(abs(value).equalTo(lit(Double.POSITIVE_INFINITY))),
                lit(LogHistogram.NON_FINITE))
                .when(value.gt(0), lit(LogHistogram.POSITIVE))
                .when(value.lt(0), lit(LogHistogram.NEGATIVE))
                .otherwise(lit(LogHistogram.ZERO));
        Column finite = col("kind").equalTo(LogHistogram.POSITIVE).or(col("kind").equalTo(LogHistogram.NEGATIVE));
        List<Row> rows = sampleLayers
                .select(col("layer"), explode(array(
                        struct(lit(TRACE).as("metric"), col(TRACE).cast("double").as("value")),
                        struct(lit(LAMBDA_MAX).as("metric"), col(LAMBDA_MAX).cast("double").as("value")))).as("m"))
                .select(col("layer"), col("m.metric").as("metric"), col("m.value").as("value"))
                .withColumn("kind", kind)
                .withColumn("bin", when(finite, floor(log10(abs(value)).multiply(LogHistogram.FINE_BINS_PER_DECADE))))
                .groupBy("layer", "metric", "kind", "bin")
                .agg(count(lit(1)).as("n"), min(value).as("lo"), max(value).as("hi"))
                .collectAsList();
        Map<String, List<LogHistogram.FineBin>> byKey = new TreeMap<>();
        for (Row r : rows) {
            String key = String.format("%09d/%s", r.getInt(0), r.getString(1).equals(TRACE) ? "0" : "1");
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(new LogHistogram.FineBin(r.getString(2),
                    r.isNullAt(3) ? null : r.getLong(3), r.getLong(4), r.isNullAt(5) ? null : r.getDouble(5),
                    r.isNullAt(6) ? null : r.getDouble(6)));
        }
        List<LogHistogram> out = new ArrayList<>();
        for (Map.Entry<String, List<LogHistogram.FineBin>> e : byKey.entrySet()) {
            int layer = Integer.parseInt(e.getKey().substring(0, 9));
            out.add(LogHistogram.of(layer, e.getKey().endsWith("0") ? TRACE : LAMBDA_MAX, e.getValue()));
        }
        return out;
    }

    /** The ranked ids with their label, loss and predicted class (samples) and per-layer scores (sample_layers). */
    private static List<TopSample> top(SparkSession spark, FileSystem fs, String dir, Dataset<Row> sampleLayers,
                                       List<Row> ranked) throws IOException {
        if (ranked.isEmpty()) {
            return List.of();
        }
        Object[] ids = ranked.stream().map(r -> r.get(0)).toArray();
        Map<Object, Row> samples = new LinkedHashMap<>();
        if (ReportTables.exists(fs, dir, ReportTables.SAMPLES)) {
            for (Row r : spark.read().parquet(ReportTables.table(dir, ReportTables.SAMPLES))
                    .filter(col("sample_id").isin(ids)).collectAsList()) {
                samples.putIfAbsent(r.get(r.fieldIndex("sample_id")), r);
            }
        }
        Map<Object, Map<Integer, Double>> traces = new LinkedHashMap<>();
        Map<Object, Map<Integer, Double>> lambdaMaxes = new LinkedHashMap<>();
        for (Row r : sampleLayers.filter(col("sample_id").isin(ids))
                .select(col("sample_id"), col("layer"), col(TRACE).cast("double"), col(LAMBDA_MAX).cast("double"))
                .collectAsList()) {
            traces.computeIfAbsent(r.get(0), k -> new TreeMap<>()).put(r.getInt(1), r.isNullAt(2) ? null : r.getDouble(2));
            lambdaMaxes.computeIfAbsent(r.get(0), k -> new TreeMap<>()).put(r.getInt(1), r.isNullAt(3) ? null : r.getDouble(3));
        }
        List<TopSample> out = new ArrayList<>();
        for (Row r : ranked) {
            Object id = r.get(0);
            Row s = samples.get(id);
            out.add(new TopSample(String.valueOf(id), s == null ? null : ReportFormat.value(label(s)),
                    s == null ? null : ReportTables.number(s, "loss"),
                    s == null ? null : ReportTables.integer(s, "predicted_class"), r.getDouble(1),
                    traces.getOrDefault(id, Map.of()), lambdaMaxes.getOrDefault(id, Map.of())));
        }
        return out;
    }

    /** The label cell: an int class, a number, or an array (a Java list). */
    private static Object label(Row s) {
        if (!ReportTables.has(s, "label") || s.isNullAt(s.fieldIndex("label"))) {
            return null;
        }
        Object v = s.get(s.fieldIndex("label"));
        return v instanceof scala.collection.Seq<?> ? s.getList(s.fieldIndex("label")) : v;
    }

    private static String joined(List<Integer> layers) {
        return String.join(", ", layers.stream().map(String::valueOf).toList());
    }
}
