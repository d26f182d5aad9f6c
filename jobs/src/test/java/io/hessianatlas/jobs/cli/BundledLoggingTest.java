package io.hessianatlas.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.URL;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * spark-submit without a log configuration: Spark's default profile (root INFO) is replaced by the
 * bundled conf/log4j2.properties (root WARN, io.hessianatlas INFO); any other configuration is kept.
 */
class BundledLoggingTest {
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final URL before = locationUrl();

    @AfterEach
    void restore() throws Exception {
        if (before != null) {
            Configurator.reconfigure(before.toURI());
        }
    }

    @Test
    void sparksDefaultProfileIsReplaced() throws Exception {
        URL sparkDefault = getClass().getResource("/org/apache/spark/log4j2-defaults.properties");
        assertNotNull(sparkDefault, "Spark's default profile is on the test classpath");
        Configurator.reconfigure(sparkDefault.toURI());
        assertEquals(Level.INFO, context.getRootLogger().getLevel());
        BundledLogging.applyUnlessConfigured();
        assertEquals(Level.WARN, context.getRootLogger().getLevel());
        assertEquals(Level.INFO, context.getLogger("io.hessianatlas.analyze").getLevel());
    }

    @Test
    void aUsersConfigurationIsKept() throws Exception {
        URL own = getClass().getResource("/users-log4j2.properties");
        Configurator.reconfigure(own.toURI());
        BundledLogging.applyUnlessConfigured();
        assertEquals(Level.INFO, context.getRootLogger().getLevel());
    }

    private URL locationUrl() {
        try {
            String loc = context.getConfiguration().getConfigurationSource().getLocation();
            return loc == null ? null : new java.io.File(loc).toURI().toURL();
        } catch (Exception e) {
            return null;
        }
    }
}
