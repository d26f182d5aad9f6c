package io.hessianatlas.jobs.analyze.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * The failures Spark recovered from during a run, for run.json and its warnings: failed task
 * attempts (retried) and executors removed, each with the first {@link #REASONS_KEPT} reasons.
 * Registered on the driver for the run's duration ({@code SparkContext.addSparkListener}).
 */
public final class TaskFailures extends SparkListener {
    /** Reasons kept of each kind. */
    public static final int REASONS_KEPT = 5;

    private final AtomicLong failedTasks = new AtomicLong();
    private final AtomicLong lostExecutors = new AtomicLong();
    private final List<String> reasons = new ArrayList<>();

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.reason() != Success$.MODULE$) {
            failedTasks.incrementAndGet();
            keep("task " + end.taskInfo().id() + " on executor " + end.taskInfo().executorId() + ": " + end.reason());
        }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        lostExecutors.incrementAndGet();
        keep("executor " + removed.executorId() + " removed: " + removed.reason());
    }

    private synchronized void keep(String reason) {
        if (reasons.size() < 2 * REASONS_KEPT) {
            int nl = reason.indexOf('\n');
            reasons.add(nl < 0 ? reason : reason.substring(0, nl));
        }
    }

    public long failedTasks() {
        return failedTasks.get();
    }

    public long lostExecutors() {
        return lostExecutors.get();
    }

    public synchronized List<String> reasons() {
        return List.copyOf(reasons);
    }

    /** The warning run.json and the summary show, or null when nothing failed. */
    public String warning() {
        if (failedTasks() == 0 && lostExecutors() == 0) {
            return null;
        }
        List<String> r = reasons();
        return failedTasks() + " task attempt(s) failed and were retried, " + lostExecutors() + " executor(s) lost"
                + (r.isEmpty() ? "" : ", e.g. " + r.get(0));
    }
}
