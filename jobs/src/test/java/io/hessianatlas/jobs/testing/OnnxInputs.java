package io.hessianatlas.jobs.testing;

import java.nio.file.Path;
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
        return OracleInputs.copyResources("/onnx/" + caseName, files, dir.resolve(caseName));
    }
}
