package io.hessianatlas.jobs.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Copies ONNX import fixtures (common's test resources under /onnx, made by make_fixtures.py) from
 * the classpath into a folder so the CLI can read them: a case's ONNX files, its native twin
 * (model/model.json, model/weights.safetensors) and data.jsonl, or files of /onnx/bad.
 */
public final class OnnxInputs {
    /** The native twin and the data of a good case. */
    public static final List<String> TWIN_AND_DATA = List.of("model/model.json", "model/weights.safetensors", "data.jsonl");

    private OnnxInputs() {
    }

    /** Copies {@code files} of /onnx/{@code caseName} into {@code dir}/{@code caseName} and returns that folder. */
    public static Path materialize(String caseName, List<String> files, Path dir) {
        Path target = dir.resolve(caseName);
        try {
            for (String f : files) {
                String resource = "/onnx/" + caseName + "/" + f;
                Files.createDirectories(target.resolve(f).getParent());
                try (InputStream in = OnnxInputs.class.getResourceAsStream(resource)) {
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
