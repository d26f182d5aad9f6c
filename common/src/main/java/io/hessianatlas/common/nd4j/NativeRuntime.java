package io.hessianatlas.common.nd4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one place that configures the ND4J runtime of a JVM: float64 default data type, the number of
 * BLAS and libnd4j (OpenMP) threads, and the {@link BlasSelfCheck} that must pass before any result is
 * computed. Spark runs one task per core, so executors use one BLAS thread each (measured here: one
 * thread was twice as fast as two at 512^3 with both cores busy). Thread settings only apply to the
 * CPU backend; on other backends they are a no-op.
 */
public final class NativeRuntime {
    /** What this JVM computes with, and how long its self-check took. */
    public record Status(NativeEnvironment environment, BlasSelfCheck.Outcome selfCheck) {
    }

    private static volatile Status status;
    private static volatile BlasSelfCheckException failure;

    private NativeRuntime() {
    }

    /**
     * Configures ND4J and runs the BLAS self-check, once per JVM (idempotent, thread-safe).
     *
     * @throws BlasSelfCheckException when the native BLAS computes wrong results on this CPU (again on
     *                                every later call: this JVM must not compute)
     */
    public static Status configure(int blasThreads) {
        Status s = status;
        if (s != null) {
            return s;
        }
        synchronized (NativeRuntime.class) {
            if (failure != null) {
                throw failure;
            }
            if (status != null) {
                return status;
            }
            Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
            // libnd4j's own (OpenMP) threads for element-wise, broadcast and batched ops are set too: left at
            // the core count, each of the executor's concurrent tasks spun up a full team, and two tasks on
            // two cores fought over them (local[2] ran 1.2x local[1])
            setThreads(blasThreads);
            BlasSelfCheck.Outcome outcome;
            try {
                outcome = BlasSelfCheck.run();
            } catch (BlasSelfCheckException e) {
                failure = e;
                throw e;
            }
            status = new Status(NativeEnvironment.current(), outcome);
            return status;
        }
    }

    /**
     * Sets the BLAS and libnd4j threads of this JVM (CPU backend; no-op elsewhere): the driver's work
     * between distributed passes (Lanczos reorthogonalisation, Ritz vectors) runs on all cores while no
     * task runs, and back to one thread per task before the next pass (in local mode the tasks run in
     * this JVM, and two tasks of two threads each on two cores were twice as slow).
     */
    public static void setThreads(int threads) {
        if (threads > 0 && isCpuBackend()) {
            Nd4j.factory().blas().setMaxThreads(threads);
            Nd4j.getEnvironment().setMaxThreads(threads);
            Nd4j.getEnvironment().setMaxMasterThreads(threads);
        }
    }

    /** Configures with one BLAS thread per task, the setting for Spark executors and tests. */
    public static Status configure() {
        return configure(1);
    }

    public static boolean isCpuBackend() {
        String backend = Nd4j.getBackend().getClass().getSimpleName();
        return backend.toLowerCase(java.util.Locale.ROOT).contains("cpu");
    }
}
