package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `--on-invalid-row skip` on case c01 (10 samples) with three rows made invalid (feature length,
 * NaN feature, class out of range): the run succeeds, run.json counts 3 skipped rows with their
 * reasons, `layers.samples` counts the 7 used, and every layer's trace equals a run on the 7 valid
 * rows alone (1e-12 relative); with the default `fail` the same data exits 2 naming the row.
 */
class InvalidRowSkipTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(InvalidRowSkipTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @Test
    void invalidRowsAreSkippedAndCounted() throws Exception {
        Path in = OracleInputs.materialize("c01_softmax_relu_4-5-3", tmp);
        List<String> lines = Files.readAllLines(in.resolve("data.jsonl"));
        List<String> dirty = new ArrayList<>();
        List<String> clean = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            ObjectNode row = (ObjectNode) JSON.readTree(lines.get(i));
            if (i == 2) {
                row.putArray("features").add(1.0).add(2.0);                       // wrong length
            } else if (i == 5) {
                row.putArray("features").add(1.0).add(Double.NaN).add(0.0).add(0.0); // NaN (written as NaN)
            } else if (i == 7) {
                row.put("label", 9);                                              // class out of range
            } else {
                clean.add(lines.get(i));
            }
            dirty.add(JSON.writeValueAsString(row).replace("\"NaN\"", "NaN"));
        }
        Path dirtyFile = Files.write(tmp.resolve("dirty.jsonl"), dirty);
        Path cleanFile = Files.write(tmp.resolve("clean.jsonl"), clean);

        CliRun failed = CliRun.of("analyze", "--model", in.resolve("model").toString(), "--data", dirtyFile.toString(),
                "--id-col", "id", "--out", tmp.resolve("fail").toString());
        assertEquals(2, failed.exitCode, failed.toString());
        assertTrue(failed.err.startsWith("error: sample_id "), failed.err);

        Path out = tmp.resolve("skip");
        CliRun skipped = CliRun.of("analyze", "--model", in.resolve("model").toString(), "--data", dirtyFile.toString(),
                "--id-col", "id", "--out", out.toString(), "--on-invalid-row", "skip");
        assertEquals(0, skipped.exitCode, skipped.toString());
        JsonNode input = OutputTables.runJson(out).get("input");
        assertEquals(3, input.get("rows_skipped").asInt());
        assertEquals(7, input.get("rows_used").asInt());
        assertEquals(10, input.get("rows_read").asInt());
        String reasons = input.get("skip_reasons").toString();
        assertTrue(reasons.contains("sample_id 2") && reasons.contains("sample_id 5") && reasons.contains("sample_id 7"),
                reasons);

        Path ref = tmp.resolve("clean-out");
        assertEquals(0, CliRun.of("analyze", "--model", in.resolve("model").toString(), "--data", cleanFile.toString(),
                "--id-col", "id", "--out", ref.toString()).exitCode);
        List<Row> a = spark.read().parquet(out.resolve("layers").toString()).orderBy("layer").collectAsList();
        List<Row> b = spark.read().parquet(ref.resolve("layers").toString()).orderBy("layer").collectAsList();
        for (int i = 0; i < a.size(); i++) {
            assertEquals(7L, a.get(i).getLong(a.get(i).fieldIndex("samples")), "layers.samples counts the used rows");
            double x = a.get(i).getDouble(a.get(i).fieldIndex("trace"));
            double y = b.get(i).getDouble(b.get(i).fieldIndex("trace"));
            assertEquals(y, x, 1e-12 * Math.abs(y), "trace of layer " + (i + 1) + " equals the clean run's");
        }
        assertEquals(7, spark.read().parquet(out.resolve("samples").toString()).count(), "7 samples");
        assertEquals(14, spark.read().parquet(out.resolve("sample_layers").toString()).count(), "7 samples x 2 layers");
    }
}
