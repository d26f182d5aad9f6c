package io.hessianatlas.jobs.analyze.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: slices of few or uneven partitions. The plan covers every partition's rows exactly once,
 * in order, with no task above ⌈N / P⌉ rows (so P cores finish as soon as the rows allow); the sliced RDD yields the source's rows in the source's
 * order, one slice a partition; balanced sources are left as they are (no extra stage).
 */
class RowSlicesTest {
    private static SparkSession spark;
    private static JavaSparkContext jsc;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(RowSlicesTest.class.getSimpleName());
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @Test
    void planCoversEachPartitionInOrderWithinTheTarget() {
        long[][] layouts = {{60_000}, {50_000, 5_000, 5_000}, {7, 0, 3}, {1}, {0}, {10, 10}, {3, 3, 3, 3, 3}};
        for (long[] counts : layouts) {
            for (int parallelism : new int[] {1, 2, 3, 8}) {
                List<long[]> plan = RowSlices.plan(counts, parallelism);
                long total = LongStream.of(counts).sum();
                long target = Math.max(1, (total + parallelism - 1) / parallelism);
                int at = 0;
                for (int p = 0; p < counts.length; p++) {
                    long next = 0;
                    while (at < plan.size() && plan.get(at)[0] == p) {
                        long[] s = plan.get(at++);
                        assertEquals(next, s[1], "slice starts where the previous ended");
                        assertTrue(s[2] > s[1], "no empty slice");
                        assertTrue(s[2] - s[1] <= target, "slice within ⌈N/P⌉ = " + target);
                        next = s[2];
                    }
                    assertEquals(counts[p], next, "partition " + p + " covered");
                }
                assertEquals(plan.size(), at, "slices in partition order");
            }
        }
    }

    @Test
    void oneLargePartitionIsReadAsSlicesInTheSourceOrder() {
        List<Long> values = new ArrayList<>();
        for (long i = 0; i < 1001; i++) {
            values.add(i * 7 % 1001);
        }
        JavaRDD<Long> one = jsc.parallelize(values, 1);
        JavaRDD<Long> sliced = RowSlices.balance(jsc, one, new long[] {1001}, 2);
        assertEquals(2, sliced.getNumPartitions());
        List<List<Long>> parts = sliced.glom().collect();
        assertEquals(500, parts.get(0).size());
        assertEquals(501, parts.get(1).size());
        assertEquals(values, sliced.collect(), "the source's rows in the source's order");

        JavaRDD<Long> uneven = jsc.parallelize(values, 3);
        long[] counts = uneven.glom().map(l -> (long) l.size()).collect().stream().mapToLong(Long::longValue).toArray();
        JavaRDD<Long> fewer = RowSlices.balance(jsc, uneven, counts, 2);
        assertEquals(values, fewer.collect());
        assertSame(uneven, fewer, "three partitions of 333–334 rows on 2 cores: nothing to split");
    }

    @Test
    void unevenPartitionsAreSplitWherePartitionsExceedTheTarget() {
        List<Long> values = new ArrayList<>();
        for (long i = 0; i < 60; i++) {
            values.add(i);
        }
        // partitions of 50, 5 and 5 rows
        JavaRDD<Long> src = jsc.parallelize(values.subList(0, 50), 1).union(jsc.parallelize(values.subList(50, 60), 2));
        long[] counts = src.glom().map(l -> (long) l.size()).collect().stream().mapToLong(Long::longValue).toArray();
        assertArrayEquals(new long[] {50, 5, 5}, counts);
        JavaRDD<Long> sliced = RowSlices.balance(jsc, src, counts, 2);
        List<Integer> sizes = sliced.glom().map(List::size).collect();
        assertEquals(List.of(25, 25, 5, 5), sizes, "50 → two slices of ⌈60/2⌉ = 30 or fewer");
        assertEquals(values, sliced.collect());
    }
}
