package io.hessianatlas.jobs.cli;

import java.net.URISyntaxException;
import java.net.URL;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Under spark-submit without a log4j2 configuration of the user's, Spark logs with its own default
 * profile (root at INFO: hundreds of lines per run). The application jar bundles conf/log4j2.properties
 * (Spark at WARN, the job's phase lines at INFO); this switches to it, but only when Spark's default
 * profile (or log4j's bare default) is the one in use, so a cluster's or user's configuration wins.
 */
final class BundledLogging {
    static final String BUNDLED = "/log4j2.properties";
    private static final String SPARK_DEFAULT = "org/apache/spark/log4j2-defaults.properties";

    private BundledLogging() {
    }

    static void applyUnlessConfigured() {
        try {
            if (!(LogManager.getContext(false) instanceof LoggerContext context)) {
                return;
            }
            Configuration current = context.getConfiguration();
            String location = current.getConfigurationSource() == null ? null
                    : current.getConfigurationSource().getLocation();
            boolean sparkDefault = location != null && location.endsWith(SPARK_DEFAULT);
            boolean bareDefault = current instanceof org.apache.logging.log4j.core.config.DefaultConfiguration;
            URL bundled = BundledLogging.class.getResource(BUNDLED);
            if ((sparkDefault || bareDefault) && bundled != null) {
                Configurator.reconfigure(bundled.toURI());
            }
        } catch (URISyntaxException | RuntimeException | LinkageError e) {
            // logging setup is best effort: never fail a run over it
        }
    }
}
