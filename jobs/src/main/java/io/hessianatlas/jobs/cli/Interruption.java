package io.hessianatlas.jobs.cli;

import java.io.PrintStream;

import io.hessianatlas.jobs.analyze.io.OutputCommit;
import org.apache.spark.sql.SparkSession;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT end a run with one line on stderr and exit 128 + the signal's number (143,
 * 130), leaving no output: Spark is stopped first (its jobs cancelled, so no task writes any more),
 * then the staging folders of the outputs being written are deleted ({@link OutputCommit#abortAll}).
 * Without this, Spark's own shutdown hook stops the context under the running job, which then fails
 * with "Cannot call methods on a stopped SparkContext".
 */
final class Interruption {
    /** Exit code base of a process ended by a signal (POSIX shells' convention). */
    static final int SIGNAL_EXIT_BASE = 128;

    private static volatile String signal;
    private static volatile int exitCode;
    private static final java.util.concurrent.CountDownLatch CLEANED_UP = new java.util.concurrent.CountDownLatch(1);

    private Interruption() {
    }

    /** Installs the handlers (the CLI's main, not the tests' in-process runs). */
    static void install(PrintStream err) {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> interrupt(s, err));
        }
    }

    /** Whether a signal ended the run (the CLI then prints nothing more). */
    static boolean requested() {
        return signal != null;
    }

    /**
     * The exit code of a signalled run, once Spark is stopped and the staging folders are deleted
     * (the main thread, whose job failed when Spark stopped, must not exit before that).
     */
    static int awaitExitCode() throws InterruptedException {
        CLEANED_UP.await();
        return exitCode;
    }

    private static synchronized void interrupt(Signal s, PrintStream err) {
        if (signal != null) {
            return;
        }
        exitCode = SIGNAL_EXIT_BASE + s.getNumber();
        signal = "SIG" + s.getName();
        err.println("error: interrupted by " + signal + ": the run stopped and wrote no output");
        err.flush();
        SparkSession.getDefaultSession().foreach(spark -> {
            spark.stop();
            return null;
        });
        OutputCommit.abortAll();
        CLEANED_UP.countDown();
        System.exit(exitCode);
    }
}
