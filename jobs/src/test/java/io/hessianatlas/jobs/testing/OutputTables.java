package io.hessianatlas.jobs.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Reading and checking the Parquet tables an `analyze` run wrote: rows in key order (read once
 * per output folder and table), a bit-for-bit comparison of two runs (doubles by
 * {@link Double#doubleToLongBits}, also inside arrays), a value-by-value comparison to a relative
 * tolerance with a floor relative to the scale of each matrix, row or column, and a scan of every
 * double and array&lt;double&gt; column for NaN or ±Infinity; and the run's run.json.
 */
public final class OutputTables {
    /** Every table `analyze` can write, with the columns that identify a row. */
    public static final String[][] TABLES = {
        {"layers", "layer"},
        {"spectrum", "layer", "matrix", "method", "rank"},
        {"factors", "layer", "matrix", "row"},
        {"density", "layer", "matrix", "x"},
        {"eigenvectors", "layer", "matrix", "rank"},
        {"classes", "class", "layer"},
        {"samples", "sample_id"},
        {"sample_layers", "sample_id", "layer"},
    };

    private final SparkSession spark;
    private final Map<String, List<Row>> cache = new HashMap<>();

    public OutputTables(SparkSession spark) {
        this.spark = spark;
    }

    /** The key columns of a table (from {@link #TABLES}). */
    public static String[] key(String table) {
        for (String[] t : TABLES) {
            if (t[0].equals(table)) {
                return Arrays.copyOfRange(t, 1, t.length);
            }
        }
        throw new IllegalArgumentException("unknown table " + table);
    }

    /** The run's manifest, {@code run.json} under an output folder. */
    public static JsonNode runJson(Path out) {
        try {
            return new ObjectMapper().readTree(out.resolve("run.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + out.resolve("run.json"), e);
        }
    }

    /** The tables present under an output folder, in {@link #TABLES} order. */
    public static List<String> present(Path out) {
        List<String> names = new ArrayList<>();
        for (String[] t : TABLES) {
            if (Files.isDirectory(out.resolve(t[0]))) {
                names.add(t[0]);
            }
        }
        return names;
    }

    /** All rows of a table sorted by its key columns (read once; outputs must not change afterwards). */
    public List<Row> rows(Path out, String table) {
        return cache.computeIfAbsent(out.toAbsolutePath() + "#" + table, k -> {
            String[] key = key(table);
            return spark.read().parquet(out.resolve(table).toString())
                    .orderBy(key[0], Arrays.copyOfRange(key, 1, key.length)).collectAsList();
        });
    }

    /**
     * Asserts that a table is the same bit for bit in two outputs: same rows in key order, every
     * double (and every element of an array) with the same {@link Double#doubleToLongBits}, every
     * other value equal.
     */
    public void assertBitIdentical(String table, Path a, Path b) {
        List<Row> ra = rows(a, table);
        List<Row> rb = rows(b, table);
        assertEquals(ra.size(), rb.size(), table + ": row count");
        assertTrue(ra.size() > 0, table + " has rows");
        for (int i = 0; i < ra.size(); i++) {
            Row x = ra.get(i);
            Row y = rb.get(i);
            assertEquals(x.schema(), y.schema(), table + ": schema");
            for (int c = 0; c < x.length(); c++) {
                String at = table + " row " + i + " (" + describeKey(table, x) + ") column " + x.schema().fields()[c].name();
                Object vx = x.get(c);
                Object vy = y.get(c);
                if (vx instanceof Double && vy instanceof Double) {
                    if (Double.doubleToLongBits((Double) vx) != Double.doubleToLongBits((Double) vy)) {
                        fail(at + ": " + vx + " vs " + vy + " (not bit-identical, difference "
                                + ((Double) vx - (Double) vy) + ")");
                    }
                } else if (isDoubleArray(x, c) && vx != null && vy != null) {
                    List<Object> lx = x.getList(c);
                    List<Object> ly = y.getList(c);
                    assertEquals(lx.size(), ly.size(), at + ": length");
                    for (int k = 0; k < lx.size(); k++) {
                        double dx = (Double) lx.get(k);
                        double dy = (Double) ly.get(k);
                        if (Double.doubleToLongBits(dx) != Double.doubleToLongBits(dy)) {
                            fail(at + "[" + k + "]: " + dx + " vs " + dy + " (not bit-identical, difference "
                                    + (dx - dy) + ")");
                        }
                    }
                } else {
                    assertEquals(vx, vy, at);
                }
            }
        }
    }

    /**
     * Asserts that no double column and no array&lt;double&gt; column of any table under
     * {@code out} holds NaN or ±Infinity; returns the number of values scanned.
     */
    public long assertAllFinite(Path out, String context) {
        long scanned = 0;
        List<String> tables = present(out);
        assertTrue(tables.contains("layers") && tables.contains("spectrum") && tables.contains("samples"),
                context + ": tables written " + tables);
        for (String table : tables) {
            for (Row r : rows(out, table)) {
                for (int c = 0; c < r.length(); c++) {
                    StructField f = r.schema().fields()[c];
                    if (r.isNullAt(c)) {
                        continue;
                    }
                    if (f.dataType() == DataTypes.DoubleType) {
                        double v = r.getDouble(c);
                        scanned++;
                        if (!Double.isFinite(v)) {
                            fail(context + ": " + table + " (" + describeKey(table, r) + ") column " + f.name() + " is " + v);
                        }
                    } else if (isDoubleArray(r, c)) {
                        List<Object> values = r.getList(c);
                        for (int k = 0; k < values.size(); k++) {
                            Object o = values.get(k);
                            scanned++;
                            if (o == null || !Double.isFinite((Double) o)) {
                                fail(context + ": " + table + " (" + describeKey(table, r) + ") column " + f.name()
                                        + "[" + k + "] is " + o);
                            }
                        }
                    }
                }
            }
        }
        return scanned;
    }

    /**
     * Compares a table of two runs value by value: same rows in key order, equal non-double
     * values, and doubles with |x − y| ≤ relative·|x| + scaleFactor·scale, where scale is the
     * largest magnitude of that matrix's eigenvalues (spectrum: per layer and matrix; layers:
     * lambda_max/lambda_min per layer), of that array (factors rows, outputs, vectors), or else of
     * the column; so that values that are zero in theory (rounding noise) are judged against the
     * size of their matrix. Columns in {@code skip} are not compared.
     */
    public void assertClose(String what, String table, Path a, Path b, double relative, double scaleFactor,
                            Set<String> skip) {
        List<Row> ra = rows(a, table);
        List<Row> rb = rows(b, table);
        assertEquals(ra.size(), rb.size(), what + ": " + table + " row count");
        assertTrue(ra.size() > 0, what + ": " + table + " has rows");
        Map<String, Double> scales = new HashMap<>();
        for (Row x : ra) {
            for (int c = 0; c < x.length(); c++) {
                if (x.get(c) instanceof Double) {
                    scales.merge(scaleKey(table, x, c), Math.abs(x.getDouble(c)), Math::max);
                }
            }
        }
        for (int i = 0; i < ra.size(); i++) {
            Row x = ra.get(i);
            Row y = rb.get(i);
            for (int c = 0; c < x.length(); c++) {
                String column = x.schema().fields()[c].name();
                if (skip.contains(column)) {
                    continue;
                }
                String at = what + ": " + table + " (" + describeKey(table, x) + ") column " + column;
                Object vx = x.get(c);
                Object vy = y.get(c);
                if (vx instanceof Double) {
                    assertTrue(vy instanceof Double, at + ": " + vx + " vs " + vy);
                    assertWithin(at, (Double) vx, (Double) vy, relative, scaleFactor * scales.get(scaleKey(table, x, c)));
                } else if (isDoubleArray(x, c) && vx != null) {
                    assertTrue(vy != null, at + ": " + vx + " vs null");
                    List<Object> lx = x.getList(c);
                    List<Object> ly = y.getList(c);
                    assertEquals(lx.size(), ly.size(), at + " length");
                    double scale = 0;
                    for (Object o : lx) {
                        scale = Math.max(scale, Math.abs((Double) o));
                    }
                    for (int k = 0; k < lx.size(); k++) {
                        assertWithin(at + "[" + k + "]", (Double) lx.get(k), (Double) ly.get(k), relative,
                                scaleFactor * scale);
                    }
                } else {
                    assertEquals(vx, vy, at);
                }
            }
        }
    }

    private static void assertWithin(String at, double x, double y, double relative, double floor) {
        double tol = relative * Math.abs(x) + floor;
        if (!(Math.abs(x - y) <= tol)) {
            fail(at + ": " + x + " vs " + y + " (|diff| " + Math.abs(x - y) + " > " + tol + ")");
        }
    }

    /** Eigenvalues scale with their matrix: spectrum per (layer, matrix), lambda_* per layer; else per column. */
    private static String scaleKey(String table, Row r, int c) {
        String column = r.schema().fields()[c].name();
        if (table.equals("spectrum")) {
            return r.getInt(r.fieldIndex("layer")) + "/" + r.getString(r.fieldIndex("matrix")) + "/" + column;
        }
        if (table.equals("layers") && column.startsWith("lambda_")) {
            return "lambda/" + r.getInt(r.fieldIndex("layer"));
        }
        return column;
    }

    private static boolean isDoubleArray(Row r, int c) {
        return r.schema().fields()[c].dataType() instanceof ArrayType
                && ((ArrayType) r.schema().fields()[c].dataType()).elementType() == DataTypes.DoubleType;
    }

    /** "layer=1, matrix=H, rank=3" for messages. */
    public static String describeKey(String table, Row r) {
        StringBuilder sb = new StringBuilder();
        for (String k : key(table)) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(k).append('=').append(r.get(r.fieldIndex(k)));
        }
        return sb.toString();
    }
}
