package io.hessianatlas.jobs.analyze.io;

import static org.apache.spark.sql.functions.spark_partition_id;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.PartitionPruningRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Function1;

/**
 * Spreads the prepared rows over the cluster's cores when the source's partitions are fewer or
 * uneven (a Parquet file written in one row group, as DuckDB or pandas write files of this size,
 * is one partition: one task), without a shuffle. With N rows and P cores, the target is
 * t = ⌈N / P⌉ rows a task; a source partition of c rows becomes s = ⌈c / t⌉ slices, slice j keeping
 * its rows [⌊j c / s⌋, ⌊(j+1) c / s⌋) in the order the source produces them. A slice's task reads its
 * source partition again, up to the end of the slice (reading and decoding cost far less than the
 * curvature work of the rows), so the order of the rows, their sample ids (assigned in the query
 * before), the mini-batches and every sum are the same from run to run, and the same as for a
 * source written in that many row groups.
 */
public final class RowSlices {
    private RowSlices() {
    }

    /** The number of rows of each partition of {@code rows}: one job that decodes no column. */
    public static long[] partitionCounts(Dataset<Row> rows) {
        int partitions = rows.queryExecution().toRdd().getNumPartitions();
        long[] counts = new long[partitions];
        for (Row r : rows.select(spark_partition_id().as("p")).groupBy("p").count().collectAsList()) {
            counts[r.getInt(0)] = r.getLong(1);
        }
        return counts;
    }

    /**
     * The slices of each partition as [partition, first row, end row) triples, in partition order;
     * a partition of at most t rows stays whole (one slice), an empty one is dropped.
     *
     * @param counts      rows per source partition
     * @param parallelism P, the number of tasks that run at once (Spark's default parallelism)
     */
    static List<long[]> plan(long[] counts, int parallelism) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        long target = Math.max(1, (total + Math.max(1, parallelism) - 1) / Math.max(1, parallelism));
        List<long[]> slices = new ArrayList<>();
        for (int p = 0; p < counts.length; p++) {
            long c = counts[p];
            long s = (c + target - 1) / target;
            for (long j = 0; j < s; j++) {
                slices.add(new long[] {p, j * c / s, (j + 1) * c / s});
            }
        }
        return slices;
    }

    /**
     * {@code rows} split as {@link #plan} says, or {@code rows} itself when no partition needs splitting.
     *
     * @param counts rows per partition of {@code rows} ({@link #partitionCounts})
     */
    public static <T> JavaRDD<T> balance(JavaSparkContext jsc, JavaRDD<T> rows, long[] counts, int parallelism) {
        List<long[]> slices = plan(counts, parallelism);
        int nonEmpty = 0;
        for (long c : counts) {
            nonEmpty += c > 0 ? 1 : 0;
        }
        if (slices.size() <= nonEmpty) {
            return rows;
        }
        List<JavaRDD<T>> parts = new ArrayList<>(slices.size());
        for (long[] slice : slices) {
            int partition = (int) slice[0];
            long first = slice[1];
            long end = slice[2];
            PartitionPruningRDD<T> one = PartitionPruningRDD.create(rows.rdd(), new OnePartition(partition));
            parts.add(new JavaRDD<>(one, rows.classTag()).mapPartitions(it -> new Range<>(it, first, end), true));
        }
        return jsc.union(parts.toArray(JavaRDD[]::new));
    }

    /** Keeps the one source partition of a slice (by index). */
    private record OnePartition(int index) implements Function1<Object, Object>, Serializable {
        @Override
        public Object apply(Object partition) {
            return (Integer) partition == index;
        }
    }

    /** Rows [first, end) of an iterator; stops reading the source at {@code end}. */
    private static final class Range<T> implements Iterator<T> {
        private final Iterator<T> source;
        private long position;
        private final long end;

        Range(Iterator<T> source, long first, long end) {
            this.source = source;
            this.end = end;
            while (position < first && source.hasNext()) {
                source.next();
                position++;
            }
        }

        @Override
        public boolean hasNext() {
            return position < end && source.hasNext();
        }

        @Override
        public T next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            position++;
            return source.next();
        }
    }
}
