package io.hessianatlas.common.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BlasSelfCheck} on this machine's BLAS (under whichever OPENBLAS_CORETYPE the surefire run
 * sets): it passes with every error within a few roundoffs, the build in use is the one the pom
 * pins, the core type is the one requested, and a perturbed reference of each routine fails with
 * one line that names the routine, the BLAS build, the core type and the workaround.
 */
class BlasSelfCheckTest {
    private static NativeRuntime.Status status;

    @BeforeAll
    static void nd4j() {
        status = NativeRuntime.configure();
    }

    @Test
    void passesWithinRoundoffOnThisBlas() {
        BlasSelfCheck.Outcome outcome = status.selfCheck();
        // 9 dgemm + 1 mmul + 9 sgemm + 4 syrk + 8 trmm + 3 dsyev-with-vectors + 2 dsyev-values
        assertEquals(NativeRuntime.isCpuBackend() ? 36 : 24, outcome.checks().size(), outcome.checks().toString());
        assertTrue(outcome.worstRoundoffs() <= BlasSelfCheck.ALLOWED_ROUNDOFFS, outcome.checks().toString());
        System.out.printf(Locale.ROOT, "BLAS self-check on %s: %d checks in %.1f ms, worst error %.2f roundoffs%n",
                status.environment().describe(), outcome.checks().size(), outcome.millis(), outcome.worstRoundoffs());
    }

    @Test
    void runsThePinnedOpenBlas() {
        NativeEnvironment env = status.environment();
        String pinned = OpenBlas.pinnedBuild();
        assertNotNull(pinned, "hessian-atlas-native.properties is filtered by the build");
        assertEquals(pinned, env.blasBuild());
        assertEquals(pinned.substring(pinned.lastIndexOf(':') + 1, pinned.lastIndexOf('-')), env.blasVersion());
        assertNotNull(env.coreType());
        // both copies the preset loads describe themselves; ND4J's BLAS copy runs one thread per task
        List<OpenBlas.LoadedCopy> copies = env.blasCopies();
        assertEquals("openblas_nolapack", copies.get(0).name());
        assertEquals(1, copies.get(0).threads());
        for (OpenBlas.LoadedCopy c : copies) {
            assertEquals(env.coreType(), c.coreType(), c.name());
        }
    }

    @Test
    void requestedCoreTypeIsTheOneInUse() {
        // the CI matrix forces each core type the CPU supports: prove the forced one really ran
        String requested = System.getenv(NativeEnvironment.CORETYPE_VARIABLE);
        if (requested != null && !requested.isBlank()) {
            assertEquals(requested.toLowerCase(Locale.ROOT), status.environment().coreType().toLowerCase(Locale.ROOT));
        } else {
            assertNotNull(status.environment().coreType());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dgemm", "sgemm", "dsyrk", "ssyrk", "dtrmm", "dsyev"})
    void perturbedReferenceFailsWithOneLine(String routine) {
        BlasSelfCheckException e = assertThrows(BlasSelfCheckException.class, () -> BlasSelfCheck.run(routine));
        String msg = e.getMessage();
        assertFalse(msg.contains("\n"), msg);
        assertTrue(msg.startsWith("native BLAS self-check failed: " + routine), msg);
        assertTrue(e.routine().startsWith(routine), e.routine());
        NativeEnvironment env = status.environment();
        assertTrue(msg.contains("OpenBLAS " + env.blasVersion() + " (" + env.blasBuild() + ")"), msg);
        assertTrue(msg.contains("core type " + env.coreType()), msg);
        assertTrue(msg.contains("Workaround: set OPENBLAS_CORETYPE="), msg);
    }

    @Test
    void unknownPerturbationChangesNothing() {
        assertTrue(BlasSelfCheck.run("no-such-routine").worstRoundoffs() <= BlasSelfCheck.ALLOWED_ROUNDOFFS);
    }

    @Test
    void workaroundNamesAnotherCoreTypeAndTheEmptyVariable() {
        NativeEnvironment skylake = environment("SkylakeX", null);
        assertTrue(BlasSelfCheck.workaround(skylake).startsWith("Workaround: set OPENBLAS_CORETYPE=Haswell for the driver"
                + " and the executors (spark.executorEnv.OPENBLAS_CORETYPE=Haswell)"), BlasSelfCheck.workaround(skylake));
        assertTrue(BlasSelfCheck.workaround(environment("Haswell", "Haswell")).contains("OPENBLAS_CORETYPE=Sandybridge"));
        NativeEnvironment empty = environment("Cooperlake", "");
        assertTrue(BlasSelfCheck.workaround(empty).startsWith("Workaround: unset the empty OPENBLAS_CORETYPE, or set"));
        assertTrue(empty.describe().contains("OPENBLAS_CORETYPE set to an empty string"), empty.describe());
        // an older build first on the classpath: the message names the pinned one
        assertTrue(BlasSelfCheck.workaround(skylake).contains(OpenBlas.pinnedBuild() + " (the build"));
    }

    private static NativeEnvironment environment(String core, String requested) {
        return new NativeEnvironment("CpuBackend", "0.3.19", "org.bytedeco:openblas:0.3.19-1.5.7", core, requested,
                List.of(), 1, 1, null, "test CPU", List.of("avx2"), 2);
    }
}
