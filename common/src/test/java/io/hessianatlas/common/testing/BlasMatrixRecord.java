package io.hessianatlas.common.testing;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;

import io.hessianatlas.common.nd4j.NativeEnvironment;
import io.hessianatlas.common.nd4j.OpenBlas;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

/**
 * The BLAS kernel matrix's record of the default test run: which core type OpenBLAS picked itself
 * (OPENBLAS_CORETYPE unset) in a module's default-test execution of this build. The surefire
 * executions pass {@code blas.matrix.build} (this Maven build's start time, the same in every
 * execution of one build) and {@code blas.matrix.record} (a file under the module's target). When
 * the default run has loaded OpenBLAS, this listener (META-INF/services) writes the build and the
 * core type of every loaded OpenBLAS copy there; {@link ForcedCoreTypeCondition} then skips the
 * kernel execution that forces that same core type in the same build, because its tests have just
 * run under exactly those kernels. Without both properties (a test started from an IDE, a surefire
 * run of one execution) nothing is written and nothing is skipped.
 */
public final class BlasMatrixRecord implements TestExecutionListener {
    static final String BUILD_PROPERTY = "blas.matrix.build";
    static final String RECORD_PROPERTY = "blas.matrix.record";

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        String build = System.getProperty(BUILD_PROPERTY);
        String record = System.getProperty(RECORD_PROPERTY);
        if (build == null || build.isBlank() || record == null || record.isBlank()
                || System.getenv(NativeEnvironment.CORETYPE_VARIABLE) != null) {
            return;
        }
        List<OpenBlas.LoadedCopy> copies;
        try {
            copies = OpenBlas.loadedCopies();    // only libraries this JVM has loaded; loads nothing
        } catch (RuntimeException | LinkageError e) {
            return;
        }
        String cores = copies.stream().map(OpenBlas.LoadedCopy::coreType).distinct().collect(Collectors.joining(","));
        if (copies.isEmpty() || copies.stream().anyMatch(c -> c.coreType() == null)) {
            return;
        }
        Properties p = new Properties();
        p.setProperty("build", build);
        p.setProperty("core_types", cores);
        try {
            Path file = Path.of(record);
            Files.createDirectories(file.toAbsolutePath().getParent());
            try (Writer w = Files.newBufferedWriter(file)) {
                p.store(w, "OpenBLAS core type picked by this module's default test run (OPENBLAS_CORETYPE unset)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The core type this build's default run recorded, when every loaded copy had the same one and
     * the record is of this build; empty otherwise.
     */
    static Optional<String> defaultRunCoreType() {
        String build = System.getProperty(BUILD_PROPERTY);
        String record = System.getProperty(RECORD_PROPERTY);
        if (build == null || build.isBlank() || record == null || record.isBlank() || !Files.isRegularFile(Path.of(record))) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(record))) {
            p.load(r);
        } catch (IOException e) {
            return Optional.empty();
        }
        String cores = p.getProperty("core_types", "");
        if (!build.equals(p.getProperty("build")) || cores.isBlank() || cores.contains(",")) {
            return Optional.empty();
        }
        return Optional.of(cores);
    }
}
