package io.hessianatlas.jobs.analyze;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.api.java.JavaRDD;
import scala.Tuple3;

/**
 * The rows dropped by `--on-invalid-row skip`: their count and the first reasons (in partition
 * order, so run.json does not depend on task timing). Read from the persisted batches, which
 * carry them; no extra pass over the input.
 */
final class SkippedRows {
    static final SkippedRows NONE = new SkippedRows(0, List.of());

    final long count;
    final List<String> reasons;

    private SkippedRows(long count, List<String> reasons) {
        this.count = count;
        this.reasons = reasons;
    }

    static SkippedRows collect(JavaRDD<InputBatch> batches) {
        List<Tuple3<Integer, Long, List<String>>> parts = new ArrayList<>(batches.mapPartitionsWithIndex((idx, it) -> {
            long n = 0;
            List<String> reasons = new ArrayList<>();
            while (it.hasNext()) {
                InputBatch b = it.next();
                n += b.skipped;
                for (String r : b.skipReasons) {
                    if (reasons.size() < InputBatcher.REASONS_KEPT) {
                        reasons.add(r);
                    }
                }
            }
            return List.of(new Tuple3<>(idx, n, reasons)).iterator();
        }, true).collect());
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
