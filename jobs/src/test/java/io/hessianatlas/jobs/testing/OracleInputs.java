package io.hessianatlas.jobs.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Copies one oracle case's inputs (the product's formats: model/model.json,
 * model/weights.safetensors, data.jsonl) from the classpath (common's test jar) into a folder,
 * so the CLI can be pointed at real files.
 */
public final class OracleInputs {
    private OracleInputs() {
    }

    /** Returns the case folder under {@code dir} holding model/ and data.jsonl. */
    public static Path materialize(String caseName, Path dir) {
        return copyResources("/oracle/inputs/" + caseName, List.of("model/model.json", "model/weights.safetensors",
                "data.jsonl"), dir.resolve(caseName));
    }

    /** Copies the classpath resources {@code folder}/f for each f into {@code target}/f; returns target. */
    static Path copyResources(String folder, List<String> files, Path target) {
        try {
            for (String f : files) {
                String resource = folder + "/" + f;
                Files.createDirectories(target.resolve(f).getParent());
                try (InputStream in = OracleInputs.class.getResourceAsStream(resource)) {
                    if (in == null) {
                        throw new IllegalStateException("missing test resource " + resource);
                    }
                    Files.copy(in, target.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
