package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.hessianatlas.jobs.testing.AtlasVmFlags;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OracleInputs;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `atlas analyze` as a process: SIGTERM during the per-sample pass of a fresh JVM ends it with exit
 * 143 and one "interrupted" line, no --out and no staging folder; a staging folder left by a killed
 * run (its owner process gone) is removed by the next run into the same parent, while one whose
 * owner cannot be checked and is recent stays; a missing --data fails with exit 2 and one line
 * before Spark starts.
 */
class CliProcessTest {
    /** Rows of the slow input: c01's 10 samples repeated, one sample per batch. */
    private static final int SLOW_ROWS = 100_000;

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(CliProcessTest.class.getSimpleName());
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    @Test
    void sigtermEndsTheRunWithOneLineAndNoOutput() throws Exception {
        Path in = OracleInputs.materialize("c01_softmax_relu_4-5-3", tmp.resolve("slow"));
        List<String> rows = Files.readAllLines(in.resolve("data.jsonl"));
        Path data = tmp.resolve("slow/many.jsonl");
        try (Writer w = Files.newBufferedWriter(data)) {
            for (int i = 0; i < SLOW_ROWS; i++) {
                w.write(rows.get(i % rows.size()).replaceFirst("\"id\": \\d+", "\"id\": " + i));
                w.write('\n');
            }
        }
        Path out = tmp.resolve("slow/out");
        List<String> cmd = cli("analyze", "--model", in.resolve("model").toString(),
                "--data", data.toString(), "--format", "json", "--out", out.toString(), "--batch-size", "1",
                "--master", "local[2]");
        Path stderr = tmp.resolve("slow/stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(tmp.resolve("slow/stdout.txt").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!Files.readString(stderr).contains("phase read") && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(p.isAlive(), "the run is still in its pass when signalled:\n" + Files.readString(stderr));
        Thread.sleep(1500);
        assertTrue(p.isAlive() && hasStaging(out), "signalled during the pass, with its staging folder written");
        p.destroy();                                             // SIGTERM
        assertTrue(p.waitFor(1, TimeUnit.MINUTES), "the CLI exits after SIGTERM");
        String err = Files.readString(stderr, StandardCharsets.UTF_8);

        assertEquals(143, p.exitValue(), err);
        List<String> errors = err.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(List.of("error: interrupted by SIGTERM: the run stopped and wrote no output"), errors, err);
        assertFalse(err.contains("\tat ") || err.contains("Exception") || err.contains("stopped SparkContext"),
                "nothing but the one line:\n" + err);
        assertFalse(Files.exists(out), "no output");
        assertFalse(hasStaging(out), "no staging folder left");
    }

    @Test
    void stagingFoldersOfGoneRunsAreRemovedByTheNextRun() throws Exception {
        Path in = OracleInputs.materialize("c01_softmax_relu_4-5-3", tmp.resolve("stale"));
        Path out = tmp.resolve("stale/out");
        Path dead = Files.createDirectories(out.resolveSibling(".out.staging-killed"));
        Files.writeString(dead.resolve("_OWNER"), InetAddress.getLocalHost().getHostName() + " " + deadPid());
        Files.createDirectories(dead.resolve("layers"));
        Path unknown = Files.createDirectories(out.resolveSibling(".out.staging-other-host"));
        Files.writeString(unknown.resolve("_OWNER"), "some-other-host 12345");
        Path unrelated = Files.createDirectories(out.resolveSibling(".elsewhere.staging-killed"));

        CliRun run = CliRun.of("analyze", "--model", in.resolve("model").toString(), "--data",
                in.resolve("data.jsonl").toString(), "--format", "json", "--out", out.toString(), "--batch-size", "4");

        assertEquals(0, run.exitCode, run.toString());
        assertFalse(Files.exists(dead), "the staging folder of a process that no longer runs is removed");
        assertTrue(Files.exists(unknown), "a recent staging folder of another host stays (its run may be alive)");
        assertTrue(Files.exists(unrelated), "another output's staging folder is not touched");
        assertFalse(Files.exists(out.resolve("_OWNER")), "the owner file is not part of the output");
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
    }

    @Test
    void missingDataFailsBeforeSparkStarts() throws Exception {
        Path in = OracleInputs.materialize("c01_softmax_relu_4-5-3", tmp.resolve("missing"));
        Path missing = tmp.resolve("missing/no-such-data.jsonl");
        Path stderr = tmp.resolve("missing/stderr.txt");
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cli("analyze", "--model", in.resolve("model").toString(), "--data", missing.toString(),
                "--out", tmp.resolve("missing/out").toString())).redirectError(stderr.toFile())
                .redirectOutput(tmp.resolve("missing/stdout.txt").toFile()).start();
        assertTrue(p.waitFor(1, TimeUnit.MINUTES), "the CLI exits");
        double seconds = (System.nanoTime() - start) / 1e9;
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), err);
        assertEquals(List.of("error: --data: " + missing + " does not exist"),
                err.lines().filter(l -> !l.isBlank() && !l.contains(" INFO ")).toList(), "one line:\n" + err);
        assertFalse(err.contains("phase start") || err.contains("phase native"), "before ND4J and Spark:\n" + err);
        System.out.printf("missing --data: exit 2 after %.2f s (the whole JVM)%n", seconds);
    }

    /** A fresh JVM running the CLI with this test's classpath and the bundled log configuration. */
    private static List<String> cli(String... args) {
        Path root = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dlog4j2.configurationFile=" + root.resolve("conf/log4j2.properties"),
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(1, AtlasVmFlags.FLAGS);   // as scripts/atlas starts the CLI
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        if (cache != null) {
            cmd.add(1, "-Dorg.bytedeco.javacpp.cachedir=" + cache);
        }
        cmd.add("io.hessianatlas.jobs.cli.AtlasCli");
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static boolean hasStaging(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out.getParent())) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(".out.staging-"));
        }
    }

    /** A pid no process of this host has: the first unused one above ours. */
    private static long deadPid() {
        long pid = ProcessHandle.current().pid() + 100_000;
        while (ProcessHandle.of(pid).isPresent()) {
            pid++;
        }
        return pid;
    }
}
