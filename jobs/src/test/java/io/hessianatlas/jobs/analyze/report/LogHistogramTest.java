package io.hessianatlas.jobs.analyze.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Merging the fine log10 bins of the Spark aggregation into at most {@link LogHistogram#MAX_BARS} bars. */
class LogHistogramTest {
    private static final int K = LogHistogram.FINE_BINS_PER_DECADE;

    @Test
    void wideRangesAreMergedIntoAtMostMaxBarsThatKeepEveryCount() {
        List<LogHistogram.FineBin> bins = new ArrayList<>();
        long positives = 0;
        // one value per fine bin from 1e-6 to 1e6: 12 decades
        for (long b = -6L * K; b < 6L * K; b++) {
            bins.add(new LogHistogram.FineBin(LogHistogram.POSITIVE, b, 1, Math.pow(10, (double) b / K),
                    Math.pow(10, (double) b / K)));
            positives++;
        }
        bins.add(new LogHistogram.FineBin(LogHistogram.NEGATIVE, 0L, 3, -1.0, -1.0));
        bins.add(new LogHistogram.FineBin(LogHistogram.ZERO, null, 2, 0.0, 0.0));
        bins.add(new LogHistogram.FineBin(LogHistogram.NON_FINITE, null, 1, null, null));
        LogHistogram h = LogHistogram.of(1, "trace", bins);
        assertTrue(h.positive().size() <= LogHistogram.MAX_BARS, "bars " + h.positive().size());
        assertEquals(positives, h.positiveCount());
        assertEquals(3, h.negativeCount());
        assertEquals(2, h.zeros());
        assertEquals(1, h.nonFinite());
        assertEquals(positives + 6, h.total());
        assertEquals(-1.0, h.min());
        assertEquals(Math.pow(10, (6.0 * K - 1) / K), h.max(), 1e-9);
        assertEquals(1e-6, h.positive().get(0).low(), 1e-18);
        for (int i = 1; i < h.positive().size(); i++) {
            assertEquals(h.positive().get(i - 1).high(), h.positive().get(i).low(), 1e-12 * h.positive().get(i).low(),
                    "bars are contiguous");
        }
        // the negative value -1 sits in the bar that holds 1 on the positive side
        LogHistogram.Bar neg = h.negative().get(0);
        assertTrue(neg.low() <= 1.0 && 1.0 < neg.high(), "bar of |−1|: " + neg);
    }

    @Test
    void narrowRangesKeepTheFineBins() {
        List<LogHistogram.FineBin> bins = List.of(
                new LogHistogram.FineBin(LogHistogram.POSITIVE, 10L, 4, 1.6, 1.65),
                new LogHistogram.FineBin(LogHistogram.POSITIVE, 12L, 1, 1.8, 1.8));
        LogHistogram h = LogHistogram.of(2, "lambda_max", bins);
        assertEquals(2, h.positive().size());
        assertEquals(Math.pow(10, 10.0 / K), h.positive().get(0).low(), 1e-12);
        assertEquals(Math.pow(10, 11.0 / K), h.positive().get(0).high(), 1e-12);
        assertEquals(4, h.positive().get(0).count());
        assertEquals(1.6, h.min());
        assertEquals(1.8, h.max());
    }

    @Test
    void onlyZerosGiveNoBars() {
        LogHistogram h = LogHistogram.of(1, "lambda_max", List.of(new LogHistogram.FineBin(LogHistogram.ZERO, null, 7, 0.0, 0.0)));
        assertTrue(h.positive().isEmpty() && h.negative().isEmpty());
        assertEquals(7, h.zeros());
        assertEquals(0.0, h.max());
    }
}
