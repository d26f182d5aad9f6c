package io.hessianatlas.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.io.OnnxModelReader;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.InputException;
import io.hessianatlas.jobs.analyze.api.InputFormat;
import io.hessianatlas.jobs.analyze.api.LossChoice;
import io.hessianatlas.jobs.analyze.io.ModelLoader;
import io.hessianatlas.jobs.testing.CliRun;
import io.hessianatlas.jobs.testing.OnnxInputs;
import io.hessianatlas.jobs.testing.OutputTables;
import io.hessianatlas.jobs.testing.SparkTestSession;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * `atlas analyze --model FILE.onnx` end to end through the CLI on the ONNX fixtures (common's
 * src/test/resources/onnx): each graph against its native twin (the same weights in
 * model.json + weights.safetensors) on the same data.jsonl, in ggn and hessian mode, gives the same
 * tables; bad graphs and a missing or contradicting --loss exit 2 with one line naming the node or
 * the option.
 */
class OnnxModelEndToEndTest {
    /**
     * The two runs read the same network (OnnxModelReaderTest: bit for bit) and do the same
     * arithmetic, so they agree to rounding of the summation at most: relative, and as a floor
     * relative to each matrix's or column's scale.
     */
    private static final double SAME_NETWORK_RELATIVE = 1e-12;
    private static final List<String> TABLES = List.of("layers", "spectrum", "factors", "samples", "sample_layers");

    private static SparkSession spark;
    private static OutputTables tables;
    /** Output of the native twin per case and mode, run once for the case's ONNX files. */
    private static final Map<String, Path> TWIN_RUNS = new HashMap<>();

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestSession.start(OnnxModelEndToEndTest.class.getSimpleName());
        tables = new OutputTables(spark);
    }

    @AfterAll
    static void stopSpark() {
        SparkTestSession.stop(spark);
    }

    static Stream<Arguments> models() {
        List<Arguments> out = new ArrayList<>();
        String[][] files = {
            {"a_softmax_relu", "op9.onnx", null}, {"a_softmax_relu", "op17.onnx", null},
            {"b_mse_tanh_f64", "op9.onnx", "mse"}, {"b_mse_tanh_f64", "op17.onnx", "mse"},
            {"c_bce_sigmoid", "op9.onnx", null}, {"c_bce_sigmoid", "op17.onnx", null},
            {"d_mixed", "op13.onnx", null}, {"e_gelu_op20", "op20.onnx", null},
        };
        for (String mode : List.of("ggn", "hessian")) {
            for (String[] f : files) {
                out.add(Arguments.of(f[0], f[1], f[2], mode));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}/{1} {3}")
    @MethodSource("models")
    void onnxWritesTheTablesOfItsNativeTwin(String caseName, String file, String loss, String mode) throws Exception {
        Path in = inputs(caseName, file);
        Path twin = TWIN_RUNS.computeIfAbsent(caseName + "-" + mode,
                k -> analyze(in.resolve("model"), in, mode, null, tmp.resolve("out-twin-" + k)));
        Path onnx = analyze(in.resolve(file), in, mode, loss, tmp.resolve("out-" + caseName + "-" + file + "-" + mode));
        String what = caseName + "/" + file + " " + mode + " vs native twin";
        for (String table : TABLES) {
            tables.assertClose(what, table, twin, onnx, SAME_NETWORK_RELATIVE, SAME_NETWORK_RELATIVE, Set.of());
        }
        JsonNode model = OutputTables.runJson(onnx).get("model");
        assertEquals("onnx", model.get("kind").asText(), what + ": run.json model.kind");
        assertEquals(OnnxModelReader.digest(in.resolve(file)), model.get("sha256").asText(), what + ": run.json model.sha256");
    }

    static Stream<Arguments> badModels() {
        return Stream.of(
                Arguments.of("conv.onnx", List.of("conv.onnx", "node #0 '/0/Conv' (Conv)", "unsupported op")),
                Arguments.of("branch.onnx", List.of("node #3 '/fc3/Gemm' (Gemm)", "branch")),
                Arguments.of("unsupported_op.onnx", List.of("node #1 '/1/Elu' (Elu)", "unsupported op")),
                Arguments.of("gelu_erf.onnx", List.of("node #3 '/1/Erf' (Erf)", "exact (erf) GELU")),
                Arguments.of("shared_weight.onnx", List.of("node #2 '/fc_1/Gemm' (Gemm)", "shared weight")),
                Arguments.of("second_input.onnx", List.of("2 inputs", "node #1 '/Add' (Add)")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badModels")
    void badGraphsExitTwoNamingTheNode(String file, List<String> fragments) {
        Path bad = OnnxInputs.materialize("bad", List.of(file), tmp.resolve("bad-in"));
        Path data = inputs("a_softmax_relu", "op17.onnx").resolve("data.jsonl");
        CliRun run = cli(bad.resolve(file), data, "ggn", null, tmp.resolve("out-bad-" + file));
        assertEquals(2, run.exitCode, run.toString());
        AnalyzeBadInputTest.assertErrorLine(run, fragments);
        assertFalse(run.err.contains("\tat "), "no stack trace:\n" + run.err);
    }

    /** --loss: required for logits, an override for ONNX, a check for native models; a model.json file is not a model. */
    @Test
    void lossOptionAndModelPathErrors() {
        Path b = inputs("b_mse_tanh_f64", "op17.onnx");
        CliRun noLoss = cli(b.resolve("op17.onnx"), b, "ggn", null, tmp.resolve("out-no-loss"));
        assertEquals(2, noLoss.exitCode, noLoss.toString());
        AnalyzeBadInputTest.assertErrorLine(noLoss, List.of("--loss", "ends in its logits", "node #5 '/4/Gemm' (Gemm)"));

        Path a = inputs("a_softmax_relu", "op17.onnx");
        CliRun disagree = cli(a.resolve("model"), a, "ggn", "mse", tmp.resolve("out-disagree"));
        assertEquals(2, disagree.exitCode, disagree.toString());
        AnalyzeBadInputTest.assertErrorLine(disagree, List.of("--loss", "mse", "softmax_cross_entropy", "model.json"));

        CliRun file = cli(a.resolve("model/model.json"), a, "ggn", null, tmp.resolve("out-json-file"));
        assertEquals(2, file.exitCode, file.toString());
        AnalyzeBadInputTest.assertErrorLine(file, List.of("--model", "model.json", "directory"));

        // the loaded network, without a run: --loss overrides an ONNX graph's final Softmax, agrees with model.json
        assertEquals(Loss.MSE, ModelLoader.load(input(a.resolve("op17.onnx"), LossChoice.MSE), ModelLoader.Kind.ONNX)
                .network().loss());
        assertEquals(Loss.SOFTMAX_CROSS_ENTROPY, ModelLoader.load(input(a.resolve("model"), LossChoice.SOFTMAX_CROSS_ENTROPY),
                ModelLoader.Kind.NATIVE).network().loss());
        assertThrows(InputException.class, () -> ModelLoader.load(input(b.resolve("op17.onnx"), LossChoice.AUTO),
                ModelLoader.Kind.ONNX));
        assertEquals(ModelLoader.Kind.ONNX, ModelLoader.detect(a.resolve("op17.onnx").toString()));
    }

    // ---- helpers ----

    private static Path inputs(String caseName, String file) {
        List<String> files = new ArrayList<>(OnnxInputs.TWIN_AND_DATA);
        files.add(file);
        return OnnxInputs.materialize(caseName, files, tmp.resolve("in"));
    }

    private static AnalyzeOptions.Input input(Path model, LossChoice loss) {
        return new AnalyzeOptions.Input(model.toString(), loss, "data.jsonl", InputFormat.JSON, List.of("features"), "label",
                null, 1.0, 42, 0, AnalyzeOptions.InvalidRowPolicy.FAIL);
    }

    /** Runs analyze (exit 0 expected) and returns --out. */
    private static Path analyze(Path model, Path in, String mode, String loss, Path out) {
        CliRun run = cli(model, in.resolve("data.jsonl"), mode, loss, out);
        assertEquals(0, run.exitCode, run.toString());
        return out;
    }

    private static CliRun cli(Path model, Path dataOrCase, String mode, String loss, Path out) {
        Path data = dataOrCase.toString().endsWith(".jsonl") ? dataOrCase : dataOrCase.resolve("data.jsonl");
        List<String> args = new ArrayList<>(List.of("analyze", "--model", model.toString(), "--data", data.toString(),
                "--format", "json", "--out", out.toString(), "--mode", mode, "--top-k", "1000", "--batch-size", "4"));
        if (loss != null) {
            args.add("--loss");
            args.add(loss);
        }
        return CliRun.of(args.toArray(String[]::new));
    }
}
