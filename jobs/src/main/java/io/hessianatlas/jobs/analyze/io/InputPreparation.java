package io.hessianatlas.jobs.analyze.io;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.shiftleft;
import static org.apache.spark.sql.functions.spark_partition_id;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.InputException;
import io.hessianatlas.jobs.analyze.api.InputFormat;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads `--data` with Spark's own source, applies the model's preprocessing stages (a Spark ML
 * pipeline's assemblers and scalers), checks the schema against the network up front (messages
 * name the column), and normalises to rows (sample_id, features array&lt;double&gt;, label
 * array&lt;double&gt;). Value-level checks (lengths, NaN, label ranges) happen per row on the
 * executors and name the sample.
 */
public final class InputPreparation {
    static final String ID = "sample_id";
    static final String FEATURES = "features";
    static final String LABEL = "label";

    /** The normalised input and what is known about it. */
    /**
     * @param rows            normalised rows to analyse (after --sample-fraction and --partitions)
     * @param beforeSampling  normalised rows before sampling, to count the rows read
     * @param idType          the sample_id type: long (row index or integer ids) or string
     * @param featureColumns  the columns feature j comes from (for row-level messages), or null when
     *                        the features are one vector or array column
     * @param knownPartitionCounts rows per partition of {@code rows} when already counted (the row
     *                        positions of sample_id need them), else null
     */
    public record Prepared(Dataset<Row> rows, Dataset<Row> beforeSampling, DataType idType, List<String> featureColumns,
                           long[] knownPartitionCounts) {
        /** Rows per partition of {@code rows}: the counts already taken, else one counting job. */
        public long[] partitionCounts() {
            return knownPartitionCounts != null ? knownPartitionCounts.clone() : RowSlices.partitionCounts(rows);
        }
    }

    private InputPreparation() {
    }

    public static Prepared prepare(SparkSession spark, AnalyzeOptions options, ModelLoader.Loaded model) {
        Network net = model.network();
        Dataset<Row> raw = read(spark, options, net);
        int index = 0;
        for (Transformer stage : model.preprocessing()) {
            requireInputColumns(stage, index++, raw.schema());
            raw = stage.transform(raw);
        }
        StructType schema = raw.schema();
        boolean lenient = options.input().format() == InputFormat.CSV;
        List<String> featureColumns = featureColumnNames(options, schema);
        Column features = featuresColumn(options, schema, net, lenient);
        Column label = labelColumn(options, schema, net.loss(), net.outputSize(), lenient);

        DataType idType;
        Dataset<Row> normalised;
        long[] sourceCounts = null;
        if (options.input().idCol() != null) {
            StructField idField = field(schema, options.input().idCol(), "--id-col");
            DataType t = idField.dataType();
            if (t instanceof NumericType && !(t == DataTypes.DoubleType || t == DataTypes.FloatType
                    || t instanceof org.apache.spark.sql.types.DecimalType)) {
                idType = DataTypes.LongType;
            } else if (t instanceof StringType) {
                idType = DataTypes.StringType;
            } else {
                throw new InputException("--id-col: column '" + options.input().idCol() + "' has type " + t.simpleString()
                        + ", expected an integer or string column");
            }
            normalised = raw.select(col(options.input().idCol()).cast(idType).as(ID), features.as(FEATURES), label.as(LABEL));
        } else {
            idType = DataTypes.LongType;
            Dataset<Row> selected = raw.select(features.as(FEATURES), label.as(LABEL));
            sourceCounts = RowSlices.partitionCounts(selected);
            normalised = withRowPositions(selected, sourceCounts);
        }
        Dataset<Row> rows = normalised;
        if (options.input().sampleFraction() < 1.0) {
            rows = rows.sample(false, options.input().sampleFraction(), options.input().seed());
        }
        if (options.input().partitions() > 0) {
            // Round-robin repartitioning assigns rows to partitions deterministically (Spark sorts each
            // input partition first), but a reducer reads its rows in the order the shuffle blocks
            // arrive, which on a cluster varies from run to run. Sorting within each partition fixes
            // the order, hence the mini-batches and every float sum: repeated runs are bit-identical.
            // Rows equal in all three columns are interchangeable, so ties cannot change a result.
            rows = rows.repartition(options.input().partitions()).sortWithinPartitions(col(ID), col(FEATURES), col(LABEL));
        }
        // sampling and repartitioning change the partitions' counts: then they are counted when needed
        boolean sameRows = options.input().sampleFraction() >= 1.0 && options.input().partitions() == 0;
        return new Prepared(rows, normalised, idType, featureColumns, sameRows ? sourceCounts : null);
    }

    /**
     * A Spark ML pipeline stage's input columns (its inputCol / inputCols / featuresCol) must be in
     * the data: else exit 2 naming the stage and the missing columns, instead of Spark's
     * FIELD_NOT_FOUND from inside the stage.
     */
    static void requireInputColumns(Transformer stage, int index, StructType schema) {
        List<String> wanted = new ArrayList<>();
        for (String name : new String[] {"inputCol", "inputCols", "featuresCol"}) {
            if (!stage.hasParam(name) || !stage.isDefined(stage.getParam(name))) {
                continue;
            }
            Object v = stage.getOrDefault(stage.getParam(name));
            if (v instanceof String one) {
                wanted.add(one);
            } else if (v instanceof String[] many) {
                wanted.addAll(Arrays.asList(many));
            }
        }
        List<String> present = Arrays.asList(schema.fieldNames());
        List<String> missing = wanted.stream().filter(c -> !present.contains(c)).toList();
        if (!missing.isEmpty()) {
            String shown = missing.size() <= 8 ? String.join(", ", missing)
                    : String.join(", ", missing.subList(0, 8)) + ", ... (" + missing.size() + " in all)";
            throw new InputException("--data: the model's pipeline stage " + index + " (" + stage.getClass().getSimpleName()
                    + " " + stage.uid() + ") needs column(s) the data lacks: " + shown + " (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
    }

    /** The columns --features-col names, when they are several (or a wildcard), else null. */
    private static List<String> featureColumnNames(AnalyzeOptions options, StructType schema) {
        List<String> names = expand(options.input().featuresCol(), schema);
        return names.size() == 1 && !options.input().featuresCol().get(0).contains("*") ? null : List.copyOf(names);
    }

    /**
     * Prepends sample_id = the row's position in the source's own order (partition by partition),
     * what {@code zipWithIndex} gives, but inside the query: from the rows of each source partition
     * ({@code size}, counted by {@link RowSlices#partitionCounts}), id = offset[partition] + position in the
     * partition, from {@code monotonically_increasing_id} (= partition << 33 | position). No
     * conversion to external Rows and back, which cost as much as the curvature pass itself.
     */
    private static Dataset<Row> withRowPositions(Dataset<Row> selected, long[] size) {
        int partitions = size.length;
        long[] offsets = new long[partitions];
        long at = 0;
        for (int i = 0; i < partitions; i++) {
            offsets[i] = at;
            at += size[i];
        }
        Column partition = spark_partition_id();
        Column position = monotonically_increasing_id().minus(shiftleft(partition.cast(DataTypes.LongType), 33));
        Column offset = partitions == 0 ? lit(0L) : element_at(lit(offsets), partition.plus(1));
        return selected.select(position.plus(offset).as(ID), col(FEATURES), col(LABEL));
    }

    /** Parquet reader batch kept at about this many feature values (the default 4096 rows is for narrow rows). */
    static final int READER_BATCH_VALUES = 1 << 17;
    static final String PARQUET_BATCH_ROWS = "spark.sql.parquet.columnarReaderBatchSize";

    private static Dataset<Row> read(SparkSession spark, AnalyzeOptions options, Network net) {
        InputFormat format = options.input().format();
        if (format == InputFormat.PARQUET && !spark.conf().contains(PARQUET_BATCH_ROWS)) {
            // wide array columns (784 doubles a row) would make 4096-row column batches of 25 MB and
            // more per task, doubled as they grow: too much for a 1 GB executor
            int rows = Math.max(64, Math.min(4096, READER_BATCH_VALUES / Math.max(1, net.inputSize())));
            spark.conf().set(PARQUET_BATCH_ROWS, rows);
        }
        DataFrameReader reader = spark.read().format(format.sourceName());
        switch (format) {
            case CSV:
                reader = reader.option("header", "true").option("inferSchema", "true");
                break;
            case LIBSVM:
                reader = reader.option("numFeatures", Integer.toString(net.inputSize()));
                break;
            default:
                break;
        }
        Dataset<Row> df;
        try {
            df = reader.load(options.input().data());
        } catch (Exception e) {
            if (e.getClass().getSimpleName().equals("AnalysisException")) {
                throw new InputException("--data: cannot read " + options.input().data() + " as " + format.sourceName() + ": "
                        + firstLine(e.getMessage()), e);
            }
            throw e;
        }
        if (df.schema().fields().length == 0) {
            // Spark infers no columns for an empty json/csv file
            throw new InputException("--data: " + options.input().data() + " is empty (no columns or rows to read as "
                    + format.sourceName() + ")");
        }
        return df;
    }

    /**
     * @param lenient CSV: a column inferred as text (one cell that is not a number makes Spark infer
     *                the whole column as string) is read as numbers, cell by cell; a cell that does
     *                not parse becomes null, which the row check reports naming the row and column
     *                (so --on-invalid-row skip can drop that row alone)
     */
    private static Column featuresColumn(AnalyzeOptions options, StructType schema, Network net, boolean lenient) {
        List<String> names = expand(options.input().featuresCol(), schema);
        if (names.size() == 1 && !options.input().featuresCol().get(0).contains("*")) {
            StructField f = field(schema, names.get(0), "--features-col");
            DataType t = f.dataType();
            if (t.equals(SQLDataTypes.VectorType())) {
                return org.apache.spark.ml.functions.vector_to_array(col(f.name()), "float64");
            }
            if (t instanceof ArrayType && ((ArrayType) t).elementType() instanceof NumericType) {
                return col(f.name()).cast(DataTypes.createArrayType(DataTypes.DoubleType));
            }
            if (!(t instanceof NumericType) && !(lenient && t instanceof StringType)) {
                throw new InputException("--features-col: column '" + f.name() + "' has type " + t.simpleString()
                        + ", expected a Spark ML vector, an array of numbers or numeric columns");
            }
        }
        List<Column> cols = new ArrayList<>();
        for (String n : names) {
            StructField f = field(schema, n, "--features-col");
            if (!(f.dataType() instanceof NumericType) && !(lenient && f.dataType() instanceof StringType)) {
                throw new InputException("--features-col: column '" + n + "' has type " + f.dataType().simpleString()
                        + ", expected a numeric column");
            }
            // try_cast: under ANSI mode (Spark 4's default) a plain cast of "abc" fails the whole task
            cols.add(f.dataType() instanceof StringType ? col(n).try_cast(DataTypes.DoubleType) : col(n).cast(DataTypes.DoubleType));
        }
        if (cols.size() != net.inputSize()) {
            throw new InputException("--features-col: " + cols.size() + " numeric column(s) " + names
                    + " give " + cols.size() + " features, expected " + net.inputSize() + " (the fan-in of layer 1)");
        }
        return array(cols.toArray(new Column[0]));
    }

    private static Column labelColumn(AnalyzeOptions options, StructType schema, Loss loss, int p, boolean lenient) {
        StructField f = field(schema, options.input().labelCol(), "--label-col");
        DataType t = f.dataType();
        if (lenient && t instanceof StringType && p == 1 || lenient && t instanceof StringType && loss == Loss.SOFTMAX_CROSS_ENTROPY) {
            return array(col(f.name()).try_cast(DataTypes.DoubleType));     // a cell that is not a number: null, named per row
        }
        boolean vector = t.equals(SQLDataTypes.VectorType());
        boolean numericArray = t instanceof ArrayType && ((ArrayType) t).elementType() instanceof NumericType;
        boolean scalar = t instanceof NumericType;
        String expected;
        if (loss == Loss.SOFTMAX_CROSS_ENTROPY) {
            expected = "a numeric class index in [0, " + p + ")";
            if (scalar) {
                return array(col(f.name()).cast(DataTypes.DoubleType));
            }
        } else if (p == 1) {
            expected = "a number" + (loss == Loss.SIGMOID_BINARY_CROSS_ENTROPY ? " in [0, 1]" : "") + " (one output)";
            if (scalar) {
                return array(col(f.name()).cast(DataTypes.DoubleType));
            }
            if (numericArray) {
                return col(f.name()).cast(DataTypes.createArrayType(DataTypes.DoubleType));
            }
        } else {
            expected = "an array or vector of " + p + " numbers (the output width for " + loss.jsonName() + ")";
            if (numericArray) {
                return col(f.name()).cast(DataTypes.createArrayType(DataTypes.DoubleType));
            }
            if (vector) {
                return org.apache.spark.ml.functions.vector_to_array(col(f.name()), "float64");
            }
        }
        throw new InputException("--label-col: column '" + f.name() + "' has type " + t.simpleString() + ", expected "
                + expected);
    }

    /** Expands names with a '*' wildcard (e.g. p*) to the matching columns in schema order. */
    private static List<String> expand(List<String> names, StructType schema) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (!n.contains("*")) {
                out.add(n);
                continue;
            }
            Pattern pat = Pattern.compile(Arrays.stream(n.split("\\*", -1)).map(Pattern::quote)
                    .reduce((a, b) -> a + ".*" + b).orElse(""));
            List<String> matched = Arrays.stream(schema.fieldNames()).filter(f -> pat.matcher(f).matches()).toList();
            if (matched.isEmpty()) {
                throw new InputException("--features-col: no column matches '" + n + "' (columns: "
                        + String.join(", ", schema.fieldNames()) + ")");
            }
            out.addAll(matched);
        }
        return out;
    }

    private static StructField field(StructType schema, String name, String option) {
        for (StructField f : schema.fields()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new InputException(option + ": no column '" + name + "' in the data (columns: "
                + String.join(", ", schema.fieldNames()) + ")");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
