package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import io.hessianatlas.common.nd4j.BlasSelfCheck;
import io.hessianatlas.jobs.analyze.BuildVersions;
import io.hessianatlas.jobs.bench.SyntheticWorkload;
import io.hessianatlas.jobs.testing.AtlasVmFlags;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.LogTail;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import io.hessianatlas.jobs.testing.StandaloneCluster;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 5, faults on a real cluster: `analyze` submitted with the application jar (-spark.jar)
 * through SparkSubmit to a standalone cluster on 127.0.0.1 (Master, Worker and two 1-core executors,
 * each in its own JVM, from jobs/target/spark-home), one executor killed with SIGKILL while it runs a
 * task of the per-sample pass and after it has finished one (so its running task, its shuffle outputs
 * and its cached blocks are lost). The job must succeed, Spark must have lost the executor, and the
 * tables must equal an in-process local[2] run of the same command to 1e-10 relative, with every
 * sample counted once.
 *
 * <p>The workload: 4,800 synthetic samples, ReLU 784-256-128-10 softmax (SyntheticWorkload), ggn,
 * {@code --spectrum kronecker} (no Lanczos passes), {@code --partitions 24}: more than
 * OrderedTreeAggregate's fan-in of 16, so the per-partition sums are merged through a shuffle that
 * the kill breaks too. 200 samples per task keep a task of the pass at a few hundred ms, so each
 * executor still has most of its dozen tasks ahead of it when the test kills it after its first (it
 * was 10,000 samples: the same checks, with the reference run, the cluster's read, pass and write and
 * the table comparisons twice as long). Runs after `package` (it needs the -spark.jar); exclude it with
 * {@code -DexcludedGroups=cluster}.
 *
 * <p>Logging: the driver logs the scheduler lines this test follows (cluster-driver-log4j2.properties);
 * the Master, the Worker and the executors log at WARN (cluster-log4j2.properties), except the Worker's
 * executor-exit lines, which this test reads.
 */
@Tag("cluster")
class ClusterFaultToleranceTest {
    /** Tables equal a single-JVM run: |x − y| ≤ 1e-10·|x| + 1e-12·scale (see OutputTables). */
    private static final double RELATIVE = 1e-10;
    private static final double SCALE_FACTOR = 1e-12;
    private static final int SAMPLES = 4_800;
    private static final String WIDTHS = "784,256,128,10";
    private static final int LAYERS = 3;
    private static final int PARTITIONS = 24;
    private static final String EXECUTOR_MEMORY = "1500m";
    /** javacpp's off-heap limits per JVM (ND4J's buffers): the default physical limit (2 x heap) is too tight. */
    private static final String ND4J_LIMITS = "-Dorg.bytedeco.javacpp.maxbytes=1G -Dorg.bytedeco.javacpp.maxphysicalbytes=4G";
    /** The driver's and executors' JIT and GC, as scripts/submit.sh sets them. */
    private static final String VM_FLAGS = String.join(" ", AtlasVmFlags.FLAGS);
    private static final Duration CLUSTER_START = Duration.ofSeconds(90);
    /** Spark's INFO lines in the driver's log, which the test reads (an explicit configuration wins over the job's bundled one). */
    private static final String DRIVER_LOGGING = "-Dlog4j2.configurationFile="
            + Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target/test-classes/cluster-driver-log4j2.properties");
    /** The executors' logging: Spark at WARN (their stderr under cluster/work is kept, nothing reads it). */
    private static final String EXECUTOR_LOGGING = " -Dlog4j2.configurationFile="
            + Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target/test-classes/cluster-log4j2.properties");
    /** From submission to the kill: driver and executor start, read, the first finished task of the pass. */
    private static final Duration KILL_DEADLINE = Duration.ofMinutes(3);
    private static final Duration DRIVER_DEADLINE = Duration.ofMinutes(5);

    private static final Pattern PASS_STAGE =
            Pattern.compile("Submitting \\d+ missing tasks from ShuffleMapStage (\\d+) \\(.* at OrderedTreeAggregate\\.java");
    private static final Pattern STARTING =
            Pattern.compile("Starting task \\S+ in stage (\\d+)\\.\\d+ \\(TID (\\d+)\\) \\([^,]*,\\s*executor ([^,\\s]+),");
    private static final Pattern FINISHED =
            Pattern.compile("Finished task \\S+ in stage (\\d+)\\.\\d+ \\(TID (\\d+)\\) in \\d+ ms on \\S+ \\(executor ([^)\\s]+)\\)");

    private static Path root;
    private static Path appJar;
    private static Path javacppCache;
    private static Path model;
    private static Path data;
    private static Path reference;
    private static StandaloneCluster cluster;
    private static SparkSession spark;

    @BeforeAll
    @Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    static void startClusterAndRunTheReference() throws Exception {
        Path target = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target");
        Path sparkHome = target.resolve("spark-home");
        appJar = target.resolve("hessian-atlas-jobs-" + BuildVersions.read().getProperty("version") + "-spark.jar");
        if (!Files.isRegularFile(appJar) || !Files.isDirectory(sparkHome.resolve("jars"))) {
            fail("needs " + appJar + " and " + sparkHome.resolve("jars") + " (built in `package`): run "
                    + "`mvn -B -q install -DskipTests` first, or `mvn -B verify`");
        }
        javacppCache = Path.of(System.getProperty("org.bytedeco.javacpp.cachedir", target.resolve("javacpp-cache").toString()))
                .toAbsolutePath();
        // one folder per run, named by the test JVM's pid; folders of runs whose JVM is gone are removed
        Path base = Files.createDirectories(target.resolve("cluster-fault-test"));
        long self = ProcessHandle.current().pid();
        try (Stream<Path> runs = Files.list(base)) {
            for (Path run : runs.toList()) {
                String name = run.getFileName().toString();
                if (name.matches("\\d+") && (Long.parseLong(name) == self || ProcessHandle.of(Long.parseLong(name)).isEmpty())) {
                    deleteRecursively(run);
                }
            }
        }
        root = Files.createDirectories(base.resolve(Long.toString(self)));

        // the Master and Worker JVMs start while this one writes the workload and runs the reference
        Path clusterDir = root.resolve("cluster");
        CompletableFuture<StandaloneCluster> starting = CompletableFuture.supplyAsync(() -> {
            try {
                return StandaloneCluster.start(sparkHome, clusterDir, 2, "6g", CLUSTER_START);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
        try {
            // the workload (seed 7, 8 partitions), written with this class's local session
            spark = SparkTestSession.start(ClusterFaultToleranceTest.class.getSimpleName());
            SyntheticWorkload.write(spark, root.resolve("syn"), SAMPLES,
                    Arrays.stream(WIDTHS.split(",")).mapToInt(Integer::parseInt).toArray(), 7L, 8);
            model = root.resolve("syn/model");
            data = root.resolve("syn/data.parquet");

            // the single-JVM reference: the same command, in process, local[2]
            reference = root.resolve("out-local");
            CliRun run = CliRun.of(analyzeArgs(reference).toArray(new String[0]));
            assertEquals(0, run.exitCode, run.toString());
        } finally {
            try {
                cluster = starting.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof Exception ex ? ex : e;
            }
        }
    }

    @AfterAll
    static void stopEverything() {
        try {
            if (cluster != null) {
                cluster.close();
                cluster.deleteExecutorJars();
            }
            if (root != null) {
                // the logs (cluster/logs, the executors' stderr under cluster/work) and the outputs stay
                deleteRecursively(root.resolve("syn"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            cluster = null;
            SparkTestSession.stop(spark);
            spark = null;
        }
    }

    /**
     * Submits `analyze` through SparkSubmit in client mode: a driver JVM named {@code name} (its log is
     * {@code cluster.log(name)}) and two one-core executors with {@code extraExecutorOptions} added.
     */
    private static Process submit(String name, String appName, int maxTaskFailures, String extraExecutorOptions, Path out,
                                  String... extraAnalyzeArgs) throws IOException {
        String executorOptions = "-Dorg.bytedeco.javacpp.cachedir=" + javacppCache + " " + ND4J_LIMITS + " " + VM_FLAGS
                + EXECUTOR_LOGGING + extraExecutorOptions;
        List<String> submit = new ArrayList<>(List.of(
                "--master", cluster.masterUrl(), "--deploy-mode", "client", "--name", appName,
                "--executor-memory", EXECUTOR_MEMORY,
                "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2",
                "--conf", "spark.task.maxFailures=" + maxTaskFailures,
                "--conf", "spark.executor.extraJavaOptions=" + executorOptions,
                "--conf", "spark.ui.enabled=false",
                "--class", "io.hessianatlas.jobs.cli.AtlasCli", appJar.toString()));
        submit.addAll(analyzeArgs(out));
        submit.addAll(List.of(extraAnalyzeArgs));
        List<String> driverJvm = new ArrayList<>(List.of("-Xmx1200m", "-Dorg.bytedeco.javacpp.cachedir=" + javacppCache,
                DRIVER_LOGGING));
        driverJvm.addAll(List.of(ND4J_LIMITS.split(" ")));
        driverJvm.addAll(AtlasVmFlags.FLAGS);
        Path driverLocal = Files.createDirectories(root.resolve("cluster/" + name + "-local"));
        return cluster.launch(name, driverJvm, "org.apache.spark.deploy.SparkSubmit", submit,
                Map.of("SPARK_LOCAL_DIRS", driverLocal.toString()));
    }

    private static List<String> analyzeArgs(Path out) {
        return List.of("analyze", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--spectrum", "kronecker", "--partitions", Integer.toString(PARTITIONS));
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anExecutorKilledDuringThePassChangesNothing() throws Exception {
        Path out = root.resolve("out-cluster");
        long t0 = System.nanoTime();
        // --verbose keeps the scheduler's task lines, which this test follows, at INFO
        Process driver = submit("driver", "cluster-fault-test", 4, "", out, "--verbose");

        Kill kill = killAnExecutorDuringThePass(driver, new LogTail(cluster.log("driver")));
        System.out.printf("cluster test: killed executor %s (pid %d) %.1f s after submission, in stage %s, after "
                        + "%d finished task(s) of the pass (%d on it), while it ran TID %s%n",
                kill.executorId, kill.pid, (kill.atNanos - t0) / 1e9, kill.stage, kill.finishedTotal,
                kill.finishedOnVictim, kill.runningOnVictim);

        long left = DRIVER_DEADLINE.toNanos() - (System.nanoTime() - t0);
        if (!driver.waitFor(Math.max(left, 0), TimeUnit.NANOSECONDS)) {
            fail("the driver did not finish within " + DRIVER_DEADLINE + "; its log ends with:\n" + tail(cluster.log("driver"), 40));
        }
        System.out.printf("cluster test: the driver exited with %d, %.1f s after submission%n", driver.exitValue(),
                (System.nanoTime() - t0) / 1e9);
        assertEquals(0, driver.exitValue(), "driver exit code; its log ends with:\n" + tail(cluster.log("driver"), 60));

        // Spark really lost the executor, and the tasks it ran or had finished were run again
        String log = Files.readString(cluster.log("driver"));
        String id = Pattern.quote(kill.executorId);
        assertTrue(Pattern.compile("Lost executor " + id + "\\b").matcher(log).find(),
                "the driver log names the lost executor " + kill.executorId);
        int failedTasks = count(log, "Lost task \\S+ in stage \\d+\\.\\d+ \\(TID \\d+\\) \\([^)]*executor " + id + "\\)");
        int resubmitted = count(log, "Resubmitted ShuffleMapTask\\(" + kill.stage + ",");
        System.out.printf("cluster test: %d task(s) failed with the executor, %d finished shuffle map task(s) of the pass "
                + "resubmitted%n", failedTasks, resubmitted);
        assertTrue(failedTasks + resubmitted > 0, "tasks of the lost executor were run again (Lost task / Resubmitted)");
        assertTrue(killedExecutorExited(kill), "the worker saw executor " + kill.executorId + " exit with 137 (SIGKILL)");
        JsonNode app = null;
        for (JsonNode a : cluster.masterState().path("completedapps")) {
            app = a;
        }
        assertTrue(app != null && app.path("state").asText().equals("FINISHED"),
                "the master lists the application as FINISHED: " + app);

        // the tables equal the single-JVM run, every sample once
        assertTrue(Files.exists(out.resolve("_SUCCESS")), "the output is committed");
        JsonNode runJson = OutputTables.runJson(out);
        assertEquals(SAMPLES, runJson.path("input").path("rows_used").asLong(), "run.json rows_used");
        // run.json says what Spark recovered from, as numbers and as a warning
        JsonNode recovered = runJson.path("spark");
        assertTrue(recovered.path("executors_lost").asInt() >= 1, "run.json spark.executors_lost: " + recovered);
        assertTrue(recovered.path("failed_task_attempts").asInt() >= failedTasks, "run.json spark.failed_task_attempts: "
                + recovered);
        assertTrue(runJson.path("warnings").toString().contains("executor(s) lost"), "a warning: " + runJson.path("warnings"));
        // run.json names what computed on the executors (their own JVMs, one configuration on one machine)
        JsonNode executors = runJson.path("native").path("executors");
        assertEquals(1, executors.size(), "one executor configuration: " + executors);
        JsonNode executorIds = executors.get(0).path("executor_ids");
        assertTrue(executorIds.size() >= 2 && !executorIds.toString().contains("\"driver\""), "executor ids of the cluster: " + executorIds);
        assertEquals(runJson.path("native").path("driver").path("blas_core_type").asText(),
                executors.get(0).path("blas_core_type").asText(), "the same CPU and OpenBLAS: the same core type");
        assertEquals(1, executors.get(0).path("blas_copies").get(0).path("threads").asInt(), "one BLAS thread per task");
        OutputTables tables = new OutputTables(spark);
        for (String table : new String[] {"layers", "spectrum", "factors", "samples", "sample_layers"}) {
            tables.assertClose("cluster vs single JVM", table, reference, out, RELATIVE, SCALE_FACTOR, java.util.Set.of());
        }
        assertEquals(SAMPLES, tables.rows(out, "samples").size(), "samples: one row per sample");
        assertEquals((long) SAMPLES * LAYERS, tables.rows(out, "sample_layers").size(),
                "sample_layers: one row per sample and layer");

        for (Row r : spark.read().parquet(out.resolve("layers").toString()).collectAsList()) {
            assertEquals(SAMPLES, r.getLong(r.fieldIndex("samples")), "layers.samples of layer " + r.get(r.fieldIndex("layer")));
        }
        Dataset<Row> samples = spark.read().parquet(out.resolve("sample_layers").toString());
        Row ids = samples.agg(functions.count(functions.lit(1)), functions.countDistinct(functions.col("sample_id"),
                        functions.col("layer")), functions.countDistinct(functions.col("sample_id")),
                functions.min("sample_id"), functions.max("sample_id")).first();
        assertEquals((long) SAMPLES * LAYERS, ids.getLong(0), "sample_layers rows");
        assertEquals((long) SAMPLES * LAYERS, ids.getLong(1), "distinct (sample_id, layer): no sample counted twice");
        assertEquals(SAMPLES, ids.getLong(2), "distinct sample_id");
        assertEquals(0L, ids.getLong(3), "smallest sample_id");
        assertEquals(SAMPLES - 1L, ids.getLong(4), "largest sample_id");
    }

    /**
     * Executors whose BLAS fails the self-check (their reference perturbed through the executors' JVM
     * options; the driver's own check passes) fail the pass's first tasks: the run stops with exit 1
     * and one line naming the routine and the workaround, and writes no output.
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void executorsWithAWrongBlasStopTheRunWithOneLine() throws Exception {
        Path out = root.resolve("out-wrong-blas");
        Process driver = submit("driver-wrong-blas", "wrong-blas-test", 1,
                " -D" + BlasSelfCheck.PERTURB_PROPERTY + "=dgemm", out);
        if (!driver.waitFor(3, TimeUnit.MINUTES)) {
            driver.destroyForcibly();
            fail("the driver did not stop within 3 minutes; its log ends with:\n" + tail(cluster.log("driver-wrong-blas"), 40));
        }
        String log = Files.readString(cluster.log("driver-wrong-blas"));
        assertEquals(1, driver.exitValue(), "driver exit code; its log ends with:\n" + tail(cluster.log("driver-wrong-blas"), 40));
        List<String> errors = log.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), "one error line; the log ends with:\n" + tail(cluster.log("driver-wrong-blas"), 40));
        assertTrue(errors.get(0).startsWith("error: native BLAS self-check failed: dgemm NN 261x9x5 is off by"), errors.get(0));
        assertTrue(errors.get(0).contains("Workaround: set OPENBLAS_CORETYPE="), errors.get(0));
        assertFalse(Files.exists(out), "no output folder");
        try (Stream<Path> siblings = Files.list(root)) {
            assertTrue(siblings.noneMatch(p -> p.getFileName().toString().startsWith(".out-wrong-blas.staging")),
                    "no staging folder left");
        }
    }

    /** What was killed, when. */
    private static final class Kill {
        String executorId;
        long pid;
        long atNanos;
        String stage;
        int finishedTotal;
        int finishedOnVictim;
        Set<String> runningOnVictim;
    }

    /**
     * Follows the driver's log (Spark's INFO log on stderr) until the pass's task set — the shuffle map
     * stage that ends in OrderedTreeAggregate — is submitted, then until an executor has finished one of
     * its tasks and is running another: that executor's JVM is killed (SIGKILL) at once.
     */
    private static Kill killAnExecutorDuringThePass(Process driver, LogTail log) throws Exception {
        long deadline = System.nanoTime() + KILL_DEADLINE.toNanos();
        String stage = null;
        Map<String, Set<String>> running = new HashMap<>();
        Map<String, Integer> finished = new HashMap<>();
        int finishedTotal = 0;
        while (System.nanoTime() < deadline) {
            if (!driver.isAlive()) {
                fail("the driver exited (code " + driver.exitValue() + ") before an executor could be killed during the "
                        + "pass; its log ends with:\n" + tail(cluster.log("driver"), 40));
            }
            for (String line : log.newLines()) {
                Matcher m;
                if (stage == null && (m = PASS_STAGE.matcher(line)).find()) {
                    stage = m.group(1);
                } else if (stage != null && (m = STARTING.matcher(line)).find() && m.group(1).equals(stage)) {
                    running.computeIfAbsent(m.group(3), k -> new HashSet<>()).add(m.group(2));
                } else if (stage != null && (m = FINISHED.matcher(line)).find() && m.group(1).equals(stage)) {
                    running.computeIfAbsent(m.group(3), k -> new HashSet<>()).remove(m.group(2));
                    finished.merge(m.group(3), 1, Integer::sum);
                    finishedTotal++;
                }
            }
            for (Map.Entry<String, Integer> e : finished.entrySet()) {
                String executor = e.getKey();
                if (running.getOrDefault(executor, Set.of()).isEmpty()) {
                    continue;
                }
                ProcessHandle victim = cluster.executors().get(executor);
                if (victim == null) {
                    continue;
                }
                Kill k = new Kill();
                k.executorId = executor;
                k.pid = victim.pid();
                k.stage = stage;
                k.finishedTotal = finishedTotal;
                k.finishedOnVictim = e.getValue();
                k.runningOnVictim = Set.copyOf(running.get(executor));
                assertTrue(victim.destroyForcibly(), "SIGKILL sent to executor " + executor);
                k.atNanos = System.nanoTime();
                victim.onExit().get(30, TimeUnit.SECONDS);
                assertFalse(victim.isAlive(), "executor " + executor + " is dead");
                return k;
            }
            Thread.sleep(50);
        }
        fail("no executor was running a task of the pass after finishing one within " + KILL_DEADLINE + " (pass stage "
                + stage + ", finished " + finished + ", running " + running + ", executor JVMs " + cluster.executors().keySet()
                + "); the driver log ends with:\n" + tail(cluster.log("driver"), 40));
        return null;
    }

    /**
     * The worker logs each executor's end, for the killed one "Executor app-.../ID finished with state
     * EXITED message Command exited with code 137 exitStatus 137" (128 + SIGKILL).
     */
    private static boolean killedExecutorExited(Kill kill) throws IOException {
        Pattern p = Pattern.compile("Executor app-\\S+/" + Pattern.quote(kill.executorId)
                + " finished with state EXITED .*exitStatus 137");
        return Files.readAllLines(cluster.log("worker")).stream().anyMatch(line -> p.matcher(line).find());
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

}
