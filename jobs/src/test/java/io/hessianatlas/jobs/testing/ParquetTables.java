package io.hessianatlas.jobs.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Compares one output table of two runs row by row (sorted by its key), to 1e-10 relative: every
 * numeric column and array element must satisfy |x − y| ≤ 1e-10·|x| + 1e-12·scale, scale = max|value|
 * of that column (spectrum: of that layer's matrix; layers' lambda_max/lambda_min: of that layer;
 * array columns: of that array), so values that are zero in theory are compared against their scale;
 * every other column must be equal. The rule of PartitionInvarianceTest (DESIGN.md §7).
 */
public final class ParquetTables {
    public static final double RELATIVE = 1e-10;
    public static final double SCALE_FACTOR = 1e-12;

    private ParquetTables() {
    }

    /** Asserts that table {@code table} under output folders a and b agree; returns its row count. */
    public static int assertClose(SparkSession spark, String table, Path a, Path b, String... key) {
        String first = key[0];
        String[] rest = Arrays.copyOfRange(key, 1, key.length);
        List<Row> ra = spark.read().parquet(a.resolve(table).toString()).orderBy(first, rest).collectAsList();
        List<Row> rb = spark.read().parquet(b.resolve(table).toString()).orderBy(first, rest).collectAsList();
        assertEquals(ra.size(), rb.size(), table + ": row count");
        assertTrue(ra.size() > 0, table + " has rows");
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
            assertEquals(Arrays.asList(x.schema().fieldNames()), Arrays.asList(y.schema().fieldNames()),
                    table + ": columns");
            for (int c = 0; c < x.length(); c++) {
                String at = table + " row " + i + " column " + x.schema().fields()[c].name();
                Object vx = x.get(c);
                Object vy = y.get(c);
                if (vx instanceof Double && vy instanceof Double) {
                    check(at, (Double) vx, (Double) vy, scales.get(scaleKey(table, x, c)));
                } else if (vx instanceof scala.collection.Seq || vx instanceof List) {
                    List<Object> lx = x.getList(c);
                    List<Object> ly = y.getList(c);
                    assertEquals(lx.size(), ly.size(), at + " length");
                    double scale = 0;
                    for (Object o : lx) {
                        scale = Math.max(scale, Math.abs((Double) o));
                    }
                    for (int k = 0; k < lx.size(); k++) {
                        check(at + "[" + k + "]", (Double) lx.get(k), (Double) ly.get(k), scale);
                    }
                } else {
                    assertEquals(vx, vy, at);
                }
            }
        }
        return ra.size();
    }

    private static String scaleKey(String table, Row r, int c) {
        String column = r.schema().fields()[c].name();
        if (table.equals("spectrum")) {
            return r.getInt(r.fieldIndex("layer")) + "/" + r.getString(r.fieldIndex("matrix"));
        }
        if (table.equals("layers") && column.startsWith("lambda_")) {
            return "lambda/" + r.getInt(r.fieldIndex("layer"));
        }
        return column;
    }

    private static void check(String at, double x, double y, double scale) {
        assertTrue(Math.abs(x - y) <= RELATIVE * Math.abs(x) + SCALE_FACTOR * scale, at + ": " + x + " vs " + y);
    }
}
