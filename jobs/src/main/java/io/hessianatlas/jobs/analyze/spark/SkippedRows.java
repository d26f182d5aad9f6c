package io.hessianatlas.jobs.analyze.spark;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.hessianatlas.jobs.analyze.io.InputBatcher;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple3;

/**
 * The rows dropped by `--on-invalid-row skip`: their count and the first reasons (in partition
 * order, so run.json does not depend on task timing). Read from the persisted pass's partition
 * records, which carry them; no extra pass over the input.
 */
public record SkippedRows(long count, List<String> reasons) {
    public static final SkippedRows NONE = new SkippedRows(0, List.of());

    public static SkippedRows collect(JavaRDD<PassRecord> pass) {
        List<Tuple3<Integer, Long, List<String>>> parts = new ArrayList<>(pass
                .filter(r -> r instanceof PassRecord.Sums)
                .map(r -> {
                    PassRecord.Sums s = (PassRecord.Sums) r;
                    return new Tuple3<>(s.partition(), s.skipped(), s.skipReasons());
                }).collect());
        parts.sort(Comparator.comparingInt(Tuple3::_1));
        long total = 0;
        List<String> reasons = new ArrayList<>();
        for (Tuple3<Integer, Long, List<String>> t : parts) {
            total += t._2();
            for (String r : t._3()) {
                if (reasons.size() < InputBatcher.REASONS_KEPT) {
                    reasons.add(r);
                }
            }
        }
        return new SkippedRows(total, reasons);
    }
}
