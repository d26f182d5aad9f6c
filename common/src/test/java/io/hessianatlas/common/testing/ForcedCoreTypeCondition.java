package io.hessianatlas.common.testing;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import io.hessianatlas.common.nd4j.CpuInfo;
import io.hessianatlas.common.nd4j.NativeEnvironment;
import io.hessianatlas.common.nd4j.OpenBlasCoreType;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips every test of a run that forces an OpenBLAS core type ({@code OPENBLAS_CORETYPE}, set by the
 * surefire executions of the BLAS kernel matrix) which this CPU cannot run, and prints why once.
 * Decided from /proc/cpuinfo alone, before any test loads OpenBLAS (a kernel the CPU lacks the ISA
 * for would crash it or make OpenBLAS fall back to another). Registered for every test through
 * JUnit's extension auto-detection (META-INF/services); with the variable unset it enables all.
 *
 * <p>It also skips the run forcing the very core type that OpenBLAS picked by itself in the same
 * module's default test run of the same Maven build ({@link BlasMatrixRecord}): forcing it selects
 * the same kernel table, so those tests have just run under exactly those kernels (on an AVX-512 BF16
 * CPU that is Cooperlake; on another CPU another execution is the duplicate, and every core type of
 * the matrix the CPU can run is still tested once per build).
 */
public final class ForcedCoreTypeCondition implements ExecutionCondition {
    private static final AtomicBoolean PRINTED = new AtomicBoolean();

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String requested = System.getenv(NativeEnvironment.CORETYPE_VARIABLE);
        if (requested == null) {
            return ConditionEvaluationResult.enabled("OPENBLAS_CORETYPE unset: OpenBLAS picks the core type");
        }
        String reason = skipReason(requested, CpuInfo.current());
        if (reason == null) {
            reason = duplicateReason(requested, BlasMatrixRecord.defaultRunCoreType());
        }
        if (reason == null) {
            return ConditionEvaluationResult.enabled("OPENBLAS_CORETYPE=" + requested + " runs on this CPU");
        }
        if (PRINTED.compareAndSet(false, true)) {
            System.out.println("[BLAS kernel matrix] skipping this run: " + reason);
        }
        return ConditionEvaluationResult.disabled(reason);
    }

    /**
     * Why a run forcing {@code requested} repeats this build's default run, which OpenBLAS ran under
     * {@code defaultRun} by its own choice; null when it does not (or nothing was recorded).
     */
    static String duplicateReason(String requested, Optional<String> defaultRun) {
        Optional<OpenBlasCoreType> type = OpenBlasCoreType.fromName(requested);
        if (type.isEmpty() || defaultRun.isEmpty() || !type.get().openBlasName().equalsIgnoreCase(defaultRun.get())) {
            return null;
        }
        return "OPENBLAS_CORETYPE=" + type.get().openBlasName() + " is the core type OpenBLAS picked itself in this "
                + "build's default test run of this module (" + System.getProperty(BlasMatrixRecord.RECORD_PROPERTY)
                + "): these tests just ran under the same kernels";
    }

    /** Why a run forcing {@code requested} cannot run on {@code cpu}, or null when it can. */
    static String skipReason(String requested, CpuInfo cpu) {
        if (requested.isBlank()) {
            return "OPENBLAS_CORETYPE is set to an empty string (OpenBLAS would read it as a core type); unset it";
        }
        Optional<OpenBlasCoreType> type = OpenBlasCoreType.fromName(requested);
        if (type.isEmpty()) {
            return null;   // a core type outside the matrix: the user asked for it, run as asked
        }
        List<String> missing = type.get().missingFlags(cpu);
        if (missing.isEmpty()) {
            return null;
        }
        return "OPENBLAS_CORETYPE=" + type.get().openBlasName() + " needs " + String.join(", ", missing)
                + ", which this CPU (" + cpu.model() + ") lacks";
    }
}
