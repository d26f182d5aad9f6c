package io.hessianatlas.jobs.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Spark standalone cluster on 127.0.0.1 for tests: one Master and one Worker, each in its own JVM
 * started from a jars-only Spark home ({@code jobs/target/spark-home}, assembled by the build, see
 * jobs/pom.xml), as scripts/cluster.sh does. The Worker launches executors itself
 * ({@code java -cp SPARK_HOME/conf/:SPARK_HOME/jars/* ... CoarseGrainedExecutorBackend}, built by Spark's
 * launcher, which needs SPARK_HOME and SPARK_SCALA_VERSION in the Worker's environment). Further JVMs
 * on the same classpath (a spark-submit driver) are started with {@link #launch} and stopped with the
 * cluster. {@link #close} stops everything, executors included, and a shutdown hook does the same if
 * the test JVM is stopped first.
 */
public final class StandaloneCluster implements AutoCloseable {
    /** The module opens Spark needs on Java 17 (the list of scripts/lib/launcher.sh). */
    public static final List<String> JAVA17_OPTIONS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED", "-Djdk.reflect.useDirectMethodHandle=false",
            "-Dio.netty.tryReflectionSetAccessible=true");

    static final String HOST = "127.0.0.1";
    private static final String EXECUTOR_CLASS = "org.apache.spark.executor.CoarseGrainedExecutorBackend";

    private final Path sparkHome;
    private final Path dir;
    private final int masterPort;
    private final int masterUiPort;
    private final List<Process> processes = new ArrayList<>();
    private final Set<ProcessHandle> executorsSeen = new LinkedHashSet<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread shutdownHook = new Thread(this::stopAll, "standalone-cluster-shutdown");
    private Process worker;

    private StandaloneCluster(Path sparkHome, Path dir, int masterPort, int masterUiPort) {
        this.sparkHome = sparkHome;
        this.dir = dir;
        this.masterPort = masterPort;
        this.masterUiPort = masterUiPort;
    }

    /**
     * Starts the Master and a Worker offering {@code cores} cores and {@code memory} (e.g. "6g") to
     * executors, and waits (at most {@code timeout}) until the worker is registered with the master.
     * Logs, the worker's executor folders and the local (shuffle, block) folders go under {@code dir}.
     */
    public static StandaloneCluster start(Path sparkHome, Path dir, int cores, String memory, Duration timeout)
            throws IOException, InterruptedException {
        if (!Files.isDirectory(sparkHome.resolve("jars"))) {
            throw new IllegalStateException(sparkHome.resolve("jars") + " does not exist: build the project first "
                    + "(mvn -B -q install -DskipTests assembles it)");
        }
        Files.createDirectories(dir.resolve("logs"));
        Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(dir.resolve("local"));
        StandaloneCluster c = new StandaloneCluster(sparkHome.toAbsolutePath(), dir.toAbsolutePath(), freePort(),
                freePort());
        Runtime.getRuntime().addShutdownHook(c.shutdownHook);
        try {
            List<String> daemonOptions = new ArrayList<>(List.of("-Xmx512m", "-Dspark.master.rest.enabled=false"));
            daemonOptions.addAll(AtlasVmFlags.FLAGS);
            daemonLogging().ifPresent(daemonOptions::add);
            c.launch("master", daemonOptions, "org.apache.spark.deploy.master.Master",
                    List.of("--host", HOST, "--port", Integer.toString(c.masterPort), "--webui-port",
                            Integer.toString(c.masterUiPort)), Map.of());
            c.worker = c.launch("worker", daemonOptions, "org.apache.spark.deploy.worker.Worker",
                    List.of("--host", HOST, "--webui-port", "0", "--cores", Integer.toString(cores), "--memory",
                            memory, "--work-dir", c.dir.resolve("work").toString(), c.masterUrl()),
                    Map.of("SPARK_LOCAL_DIRS", c.dir.resolve("local").toString()));
            c.awaitAliveWorkers(1, timeout);
            return c;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    public String masterUrl() {
        return "spark://" + HOST + ":" + masterPort;
    }

    public Path sparkHome() {
        return sparkHome;
    }

    /** The log file of a JVM started by {@link #launch} (stdout and stderr). */
    public Path log(String name) {
        return dir.resolve("logs").resolve(name + ".log");
    }

    /** The Worker's folder of application (executor) folders, holding each executor's stdout and stderr. */
    public Path workDir() {
        return dir.resolve("work");
    }

    /**
     * Starts {@code java OPTIONS -cp SPARK_HOME/conf/:SPARK_HOME/jars/* MAIN ARGS} with SPARK_HOME,
     * SPARK_SCALA_VERSION and SPARK_LOCAL_IP=127.0.0.1 in its environment (plus {@code env}), output to
     * {@link #log}(name); it is stopped by {@link #close}.
     */
    public synchronized Process launch(String name, List<String> jvmOptions, String mainClass, List<String> args,
                                       Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(JAVA17_OPTIONS);
        cmd.add("-cp");
        cmd.add(sparkHome.resolve("conf") + "/:" + sparkHome.resolve("jars") + "/*");
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log(name).toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> e = pb.environment();
        e.put("SPARK_HOME", sparkHome.toString());
        e.put("SPARK_SCALA_VERSION", "2.13");
        e.put("SPARK_LOCAL_IP", HOST);
        e.put("JAVA_HOME", System.getProperty("java.home"));
        e.remove("SPARK_CONF_DIR");
        e.remove("SPARK_DIST_CLASSPATH");
        e.remove("HADOOP_CONF_DIR");
        e.putAll(env);
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /** The master's state, from its web UI's JSON endpoint ({@code /json/}). */
    public JsonNode masterState() throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + masterUiPort + "/json/"))
                .timeout(Duration.ofSeconds(5)).GET().build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("master /json/ answered " + r.statusCode());
        }
        return new ObjectMapper().readTree(r.body());
    }

    /** Waits until the master reports {@code n} alive workers; fails if a daemon exits or on timeout. */
    public void awaitAliveWorkers(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            for (Process p : List.copyOf(processes)) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("a cluster JVM exited with code " + p.exitValue() + "; see "
                            + dir.resolve("logs"));
                }
            }
            try {
                JsonNode s = masterState();
                if (s.path("aliveworkers").asInt() >= n) {
                    return;
                }
                last = "aliveworkers " + s.path("aliveworkers").asInt();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the master did not report " + n + " alive worker(s) within " + timeout
                + " (" + last + "); logs in " + dir.resolve("logs"));
    }

    /** The live executor JVMs the Worker has launched, with their Spark executor ids. */
    public synchronized Map<String, ProcessHandle> executors() {
        Map<String, ProcessHandle> out = new HashMap<>();
        if (worker == null) {
            return out;
        }
        worker.toHandle().descendants().forEach(h -> executorId(h).ifPresent(id -> {
            out.put(id, h);
            executorsSeen.add(h);
        }));
        return out;
    }

    /** The {@code --executor-id} of a CoarseGrainedExecutorBackend JVM, empty for any other process. */
    public static Optional<String> executorId(ProcessHandle h) {
        Optional<String[]> args = h.info().arguments();
        if (args.isEmpty()) {
            return Optional.empty();
        }
        String[] a = args.get();
        boolean executor = false;
        String id = null;
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals(EXECUTOR_CLASS)) {
                executor = true;
            } else if (a[i].equals("--executor-id") && i + 1 < a.length) {
                id = a[i + 1];
            }
        }
        return executor && id != null ? Optional.of(id) : Optional.empty();
    }

    /** Stops every JVM of the cluster (drivers from {@link #launch}, executors, Worker, Master). */
    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // the JVM is already shutting down; the hook runs stopAll too
        }
    }

    private synchronized void stopAll() {
        // executors are children of the Worker; collect them before it goes
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : processes) {
            all.addAll(p.toHandle().descendants().toList());
        }
        all.addAll(executorsSeen);
        for (int i = processes.size() - 1; i >= 0; i--) {
            all.add(processes.get(i).toHandle());
        }
        for (ProcessHandle h : all) {
            h.destroy();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (ProcessHandle h : all) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    h.onExit().get(left, TimeUnit.NANOSECONDS);
                }
            } catch (Exception ignored) {
                // killed below
            }
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // nothing more to do
            }
        }
        processes.clear();
        executorsSeen.clear();
    }

    /**
     * The Master's and Worker's logging: Spark at WARN, but the Worker's own lines (executors launched
     * and finished, with their exit status) at INFO (the test resource cluster-log4j2.properties);
     * without it they log with Spark's default profile, INFO for everything.
     */
    private static Optional<String> daemonLogging() {
        java.net.URL url = StandaloneCluster.class.getResource("/cluster-log4j2.properties");
        if (url == null || !url.getProtocol().equals("file")) {
            return Optional.empty();
        }
        try {
            return Optional.of("-Dlog4j2.configurationFile=" + Path.of(url.toURI()));
        } catch (java.net.URISyntaxException e) {
            return Optional.empty();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Deletes the copies of the application jar in the executor folders (128 MB each); logs stay. */
    public void deleteExecutorJars() {
        try (var files = Files.walk(workDir())) {
            for (Path p : files.filter(f -> f.toString().endsWith(".jar")).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
