package io.hessianatlas.jobs.analyze.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.function.Function2;
import scala.Tuple2;

/**
 * Merges one partial result per partition on a fixed tree, in partition order, so that float sums
 * come out bit-identical whatever order tasks finish in (Spark's treeAggregate merges in
 * completion order). Groups of {@link #FAN_IN} consecutive partitions are merged on the
 * executors, level by level; the last few partials are merged on the driver.
 */
public final class OrderedTreeAggregate {
    /** Partials merged per group at each level. */
    static final int FAN_IN = 16;

    /** A fresh, empty accumulator (the merge target; partials are never mutated). */
    interface Zero<T> extends Serializable {
        T create();
    }

    private OrderedTreeAggregate() {
    }

    /**
     * @param partials (partition index, partial) pairs
     * @param count    number of partitions of the source
     * @param zero     makes an empty accumulator
     * @param merge    adds its second argument into its first and returns the first
     */
    static <T> T reduce(JavaPairRDD<Integer, T> partials, long count, Zero<T> zero, Function2<T, T, T> merge)
            throws Exception {
        JavaPairRDD<Integer, T> level = partials;
        long parts = count;
        while (parts > FAN_IN) {
            long groups = (parts + FAN_IN - 1) / FAN_IN;
            level = level
                    .mapToPair(t -> new Tuple2<>(t._1 / FAN_IN, t))
                    .groupByKey((int) groups)
                    .mapToPair(g -> {
                        List<Tuple2<Integer, T>> members = new ArrayList<>();
                        g._2.forEach(members::add);
                        members.sort(Comparator.comparingInt(t -> t._1));
                        T merged = zero.create();
                        for (Tuple2<Integer, T> m : members) {
                            merged = merge.call(merged, m._2);
                        }
                        return new Tuple2<>(g._1, merged);
                    });
            parts = groups;
        }
        List<Tuple2<Integer, T>> last = new ArrayList<>(level.collect());
        last.sort(Comparator.comparingInt(t -> t._1));
        T total = zero.create();
        for (Tuple2<Integer, T> t : last) {
            total = merge.call(total, t._2);
        }
        return total;
    }
}
