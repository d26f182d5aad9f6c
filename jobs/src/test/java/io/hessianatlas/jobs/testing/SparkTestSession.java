package io.hessianatlas.jobs.testing;

import java.util.HashMap;
import java.util.Map;

import org.apache.spark.sql.SparkSession;

/**
 * The local[2] SparkSession of the test classes: a test class takes it in @BeforeAll
 * ({@link #start}) and hands it back in @AfterAll ({@link #stop}). One session serves every class of
 * a test JVM (a surefire fork runs the classes one after another): starting Spark, and warming its
 * planner and code generation, once per fork instead of once per class. Handing it back leaves it as
 * the next class must find it: its cached data dropped, every runtime SQL setting a class or a run's
 * --spark-conf changed put back to the value it had at start, and no active session on the thread. The
 * session stops with the JVM (Spark's shutdown hook); {@link #stopForGood} stops it earlier. The CLI
 * reuses the running session instead of starting its own.
 */
public final class SparkTestSession {
    private static SparkSession shared;
    /** The runtime SQL settings at start, which {@link #stop} restores. */
    private static Map<String, String> initialConf;

    private SparkTestSession() {
    }

    public static synchronized SparkSession start(String testClass) {
        if (shared != null && !shared.sparkContext().isStopped()) {
            SparkSession.setActiveSession(shared);
            SparkSession.setDefaultSession(shared);
            return shared;
        }
        System.setProperty("org.bytedeco.javacpp.cachedir",
                System.getProperty("org.bytedeco.javacpp.cachedir", "target/javacpp-cache"));
        shared = SparkSession.builder()
                .appName("jobs tests")
                .master("local[2]")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        initialConf = new HashMap<>(scala.jdk.javaapi.CollectionConverters.asJava(shared.conf().getAll()));
        return shared;
    }

    /**
     * Hands the session back: drops cached data and restores the runtime SQL settings; the session
     * keeps running for the next class of this JVM.
     */
    public static synchronized void stop(SparkSession spark) {
        if (spark == null || spark.sparkContext().isStopped()) {
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
            return;
        }
        spark.catalog().clearCache();
        Map<String, String> now = scala.jdk.javaapi.CollectionConverters.asJava(spark.conf().getAll());
        for (Map.Entry<String, String> e : now.entrySet()) {
            String before = initialConf.get(e.getKey());
            if (before == null) {
                if (spark.conf().isModifiable(e.getKey())) {
                    spark.conf().unset(e.getKey());
                }
            } else if (!before.equals(e.getValue()) && spark.conf().isModifiable(e.getKey())) {
                spark.conf().set(e.getKey(), before);
            }
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }

    /** Stops the shared session now (a tool that ends by itself, or a class that needs Spark gone). */
    public static synchronized void stopForGood() {
        if (shared != null) {
            shared.stop();
            shared = null;
            initialConf = null;
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }
}
