package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.hessianatlas.common.nd4j.BlasSelfCheck;
import io.hessianatlas.jobs.testing.AtlasVmFlags;
import io.hessianatlas.jobs.testing.OracleInputs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A BLAS that fails the start-up self-check stops `atlas analyze` with exit 1 and one line on stderr
 * naming the routine, the BLAS build, the core type and the workaround — before Spark starts, with no
 * output folder. The wrong result is made by perturbing the self-check's reference for dsyev
 * ({@link BlasSelfCheck#PERTURB_PROPERTY}) in a fresh JVM (the check runs once per JVM, and this test
 * JVM's has passed). The executor side is checked on a real cluster in ClusterFaultToleranceTest.
 */
class BlasSelfCheckCliTest {
    @TempDir
    static Path tmp;

    @Test
    void wrongBlasStopsTheRunWithOneLineAndExit1() throws IOException, InterruptedException {
        Path in = OracleInputs.materialize("c01_softmax_relu_4-5-3", tmp.resolve("in"));
        Path out = tmp.resolve("out");
        Path root = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + BlasSelfCheck.PERTURB_PROPERTY + "=dsyev",
                "-Dlog4j2.configurationFile=" + root.resolve("conf/log4j2.properties"),
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(1, AtlasVmFlags.FLAGS);   // as scripts/atlas starts the CLI
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        if (cache != null) {
            cmd.add(1, "-Dorg.bytedeco.javacpp.cachedir=" + cache);
        }
        cmd.addAll(List.of("io.hessianatlas.jobs.cli.AtlasCli", "analyze", "--model", in.resolve("model").toString(),
                "--data", in.resolve("data.jsonl").toString(), "--format", "json", "--out", out.toString()));
        Path stderr = tmp.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(tmp.resolve("stdout.txt").toFile())
                .start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the CLI exits");
        String err = Files.readString(stderr, StandardCharsets.UTF_8);

        assertEquals(1, p.exitValue(), err);
        List<String> errors = err.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), err);
        String line = errors.get(0);
        assertTrue(line.startsWith("error: native BLAS self-check failed: dsyev 160x160 with eigenvectors (eigenvalues) is off by"),
                line);
        assertTrue(line.matches(".*with OpenBLAS \\d+\\.\\d+\\.\\d+ \\(org\\.bytedeco:openblas:[^)]+\\), core type \\w+ .*"), line);
        assertTrue(line.contains("Workaround: set OPENBLAS_CORETYPE="), line);
        assertFalse(err.contains("\tat ") || err.contains("Exception in thread"), "no stack trace:\n" + err);
        assertFalse(err.contains("SparkContext"), "stopped before Spark started:\n" + err);
        assertFalse(Files.exists(out), "no output folder");
    }
}
