package io.hessianatlas.jobs.analyze.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The distribution of one per-sample score (trace or λ_max) of one layer on a log10 axis. Spark
 * counts the values in fine bins of {@link #FINE_BINS_PER_DECADE} per decade of |value|, one
 * aggregation over the whole table whatever its range ({@link SampleStatistics}); here the fine
 * bins are merged into at most {@link #MAX_BARS} bars of equal log width. Positive and negative
 * values (hessian mode: a per-sample trace can be negative) are binned by |value| on the same
 * bars; zeros and non-finite values cannot sit on a log axis and are counted apart.
 *
 * @param positive  bars of the positive values, by increasing value
 * @param negative  bars of |value| of the negative values, on the same edges as the positive ones
 * @param min       the smallest finite value (signed), null when there is none
 * @param max       the largest finite value (signed), null when there is none
 */
record LogHistogram(int layer, String metric, List<Bar> positive, List<Bar> negative, long zeros, long nonFinite,
                    long total, Double min, Double max) {
    /** Fine enough that merging into {@link #MAX_BARS} bars loses nothing visible over 0.8 decades and more. */
    static final int FINE_BINS_PER_DECADE = 50;
    /** Bars drawn at most: readable at the chart's width. */
    static final int MAX_BARS = 40;

    /** What Spark classifies each value as (the "kind" column of the aggregation). */
    static final String POSITIVE = "pos";
    static final String NEGATIVE = "neg";
    static final String ZERO = "zero";
    static final String NON_FINITE = "nonfinite";

    LogHistogram {
        positive = List.copyOf(positive);
        negative = List.copyOf(negative);
    }

    /** One bar: |value| in [low, high), count values. */
    record Bar(double low, double high, long count) {
    }

    /**
     * One row of the Spark aggregation: a kind, the fine bin floor(log10|v| · FINE_BINS_PER_DECADE)
     * (null for zero and non-finite), the count and the signed extremes of the values in it.
     */
    record FineBin(String kind, Long bin, long count, Double min, Double max) {
    }

    /** Merges the fine bins of one (layer, metric) into bars. */
    static LogHistogram of(int layer, String metric, List<FineBin> bins) {
        long zeros = 0;
        long nonFinite = 0;
        long total = 0;
        Double min = null;
        Double max = null;
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        for (FineBin b : bins) {
            total += b.count();
            switch (b.kind()) {
                case ZERO -> zeros += b.count();
                case NON_FINITE -> nonFinite += b.count();
                default -> {
                    lo = Math.min(lo, b.bin());
                    hi = Math.max(hi, b.bin());
                }
            }
            if (!b.kind().equals(NON_FINITE)) {
                min = min == null || b.min() < min ? b.min() : min;
                max = max == null || b.max() > max ? b.max() : max;
            }
        }
        if (lo > hi) {
            return new LogHistogram(layer, metric, List.of(), List.of(), zeros, nonFinite, total, min, max);
        }
        long width = Math.max(1, (hi - lo + MAX_BARS) / MAX_BARS);
        Map<Long, Long> pos = new TreeMap<>();
        Map<Long, Long> neg = new TreeMap<>();
        for (FineBin b : bins) {
            if (b.kind().equals(POSITIVE) || b.kind().equals(NEGATIVE)) {
                long bar = Math.floorDiv(b.bin() - lo, width);
                (b.kind().equals(POSITIVE) ? pos : neg).merge(bar, b.count(), Long::sum);
            }
        }
        return new LogHistogram(layer, metric, bars(pos, lo, width), bars(neg, lo, width), zeros, nonFinite, total,
                min, max);
    }

    private static List<Bar> bars(Map<Long, Long> counts, long lo, long width) {
        List<Bar> out = new ArrayList<>();
        for (Map.Entry<Long, Long> e : counts.entrySet()) {
            long first = lo + e.getKey() * width;
            out.add(new Bar(Math.pow(10, (double) first / FINE_BINS_PER_DECADE),
                    Math.pow(10, (double) (first + width) / FINE_BINS_PER_DECADE), e.getValue()));
        }
        return out;
    }

    long positiveCount() {
        return positive.stream().mapToLong(Bar::count).sum();
    }

    long negativeCount() {
        return negative.stream().mapToLong(Bar::count).sum();
    }
}
