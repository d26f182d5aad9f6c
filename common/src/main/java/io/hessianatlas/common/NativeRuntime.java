package io.hessianatlas.common;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one place that configures the ND4J runtime of a JVM: float64 default data type, and the
 * number of BLAS and libnd4j (OpenMP) threads. Spark runs one task per core, so executors use one BLAS thread each
 * (measured here: one thread was twice as fast as two at 512^3 with both cores busy).
 * Thread settings only apply to the CPU backend; on other backends they are a no-op.
 */
public final class NativeRuntime {
    private static volatile boolean configured;

    private NativeRuntime() {
    }

    /** Configures ND4J once per JVM (idempotent, thread-safe). */
    public static void configure(int blasThreads) {
        if (configured) {
            return;
        }
        synchronized (NativeRuntime.class) {
            if (configured) {
                return;
            }
            Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
            if (blasThreads > 0 && isCpuBackend()) {
                Nd4j.factory().blas().setMaxThreads(blasThreads);
                // libnd4j's own (OpenMP) threads for element-wise, broadcast and batched ops: left at the
                // core count, each of the executor's concurrent tasks spun up a full team, and two tasks on
                // two cores fought over them (local[2] ran 1.2x local[1])
                Nd4j.getEnvironment().setMaxThreads(blasThreads);
                Nd4j.getEnvironment().setMaxMasterThreads(blasThreads);
            }
            configured = true;
        }
    }

    /** Configures with one BLAS thread per task, the setting for Spark executors and tests. */
    public static void configure() {
        configure(1);
    }

    public static boolean isCpuBackend() {
        String backend = Nd4j.getBackend().getClass().getSimpleName();
        return backend.toLowerCase(java.util.Locale.ROOT).contains("cpu");
    }
}
