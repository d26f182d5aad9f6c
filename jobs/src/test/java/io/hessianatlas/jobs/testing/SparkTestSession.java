package io.hessianatlas.jobs.testing;

import org.apache.spark.sql.SparkSession;

/**
 * The local[2] SparkSession of one test class: created in @BeforeAll, stopped in @AfterAll. The
 * CLI reuses an active session instead of starting its own.
 */
public final class SparkTestSession {
    private SparkTestSession() {
    }

    public static SparkSession start(String testClass) {
        System.setProperty("org.bytedeco.javacpp.cachedir",
                System.getProperty("org.bytedeco.javacpp.cachedir", "target/javacpp-cache"));
        return SparkSession.builder()
                .appName(testClass)
                .master("local[2]")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
    }

    public static void stop(SparkSession spark) {
        if (spark != null) {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }
}
