package io.hessianatlas.jobs.analyze;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The versions this build was made with (hessian-atlas-version.properties, filled in by Maven). */
public final class BuildVersions {
    private BuildVersions() {
    }

    /** {@code version}, {@code spark.version} and {@code nd4j.version} of this build (empty when unknown). */
    public static Properties read() {
        Properties p = new Properties();
        try (InputStream in = BuildVersions.class.getResourceAsStream("/hessian-atlas-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // versions are informational only
        }
        return p;
    }
}
