package io.hessianatlas.jobs.analyze.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.model.io.NativeModelReader;
import io.hessianatlas.common.model.io.OnnxModelReader;
import io.hessianatlas.common.model.io.SparkMlpWeights;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;

/**
 * Detects and loads `--model`: a native directory (model.json + weights.safetensors), a Spark ML
 * MultilayerPerceptronClassificationModel directory, a Spark ML PipelineModel whose last stage
 * is one (its earlier stages become the preprocessing applied to the data), or an ONNX file.
 * Detection reads only the folder's files, so a wrong folder fails before Spark starts. Every other
 * kind is a directory, so a regular file, whatever its name, is read as ONNX (a file that is not an
 * ONNX ModelProto fails naming it).
 *
 * <p>`--loss` (README "Options"): AUTO takes the model's loss. An ONNX graph records no loss, only
 * its output non-linearity, so there a named loss decides (it overrides what a final
 * Softmax/LogSoftmax or Sigmoid implies) and is required when the graph ends in its logits. A
 * native model.json and a Spark ML MLP state their loss, so there a named loss that disagrees is an
 * input error naming both.
 */
public final class ModelLoader {
    static final String MLP_CLASS = "org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel";
    static final String PIPELINE_CLASS = "org.apache.spark.ml.PipelineModel";

    public enum Kind {
        NATIVE("native"), SPARK_MLP("spark-ml-mlp"), SPARK_PIPELINE("spark-ml-pipeline"), ONNX("onnx");

        public final String label;

        Kind(String label) {
            this.label = label;
        }

        /** Read by plain Java, so before Spark starts; the Spark ML kinds need a session. */
        public boolean readsWithoutSpark() {
            return this == NATIVE || this == ONNX;
        }
    }

    /** A loaded model: the network, its kind, a SHA-256 digest of its files and any preprocessing stages. */
    /**
     * @param digest        SHA-256 of the model's files
     * @param preprocessing a Spark ML pipeline's stages before the MLP (empty for native models)
     */
    public record Loaded(Network network, Kind kind, String digest, List<Transformer> preprocessing) {
    }

    private ModelLoader() {
    }

    /** Which kind of model this is; throws InputException naming the path otherwise. */
    public static Kind detect(String model) {
        Path dir = Path.of(model);
        if (Files.isRegularFile(dir)) {
            String name = dir.getFileName().toString();
            if (name.equals(NativeModelReader.MODEL_JSON) || name.equals(NativeModelReader.WEIGHTS_FILE)) {
                throw new InputException("--model: " + model + " is a file of a native model; expected its directory "
                        + dir.toAbsolutePath().getParent());
            }
            return Kind.ONNX;
        }
        if (!Files.isDirectory(dir)) {
            throw new InputException("--model: " + model + (Files.exists(dir) ? " is neither a directory nor a file"
                    : " does not exist") + " (expected a native model directory, a saved Spark ML model or an ONNX file)");
        }
        if (Files.exists(dir.resolve(NativeModelReader.MODEL_JSON))) {
            return Kind.NATIVE;
        }
        String cls = sparkMlClass(dir);
        if (cls == null) {
            throw new InputException("--model: " + model + " has neither " + NativeModelReader.MODEL_JSON
                    + " nor Spark ML metadata/part-00000 (expected a native model directory or a saved Spark ML model)");
        }
        if (cls.equals(MLP_CLASS)) {
            return Kind.SPARK_MLP;
        }
        if (cls.equals(PIPELINE_CLASS)) {
            return Kind.SPARK_PIPELINE;
        }
        throw new InputException("--model: " + model + " is a Spark ML " + cls + ", expected a "
                + "MultilayerPerceptronClassificationModel or a PipelineModel ending in one");
    }

    /**
     * Loads `--model` with the loss `--loss` settles (class comment): native and ONNX without Spark,
     * the Spark ML kinds in a running session.
     */
    public static Loaded load(AnalyzeOptions.Input input, Kind kind) {
        String model = input.model();
        Loss named = input.loss().loss();
        Path dir = Path.of(model);
        switch (kind) {
            case NATIVE: {
                Network net = agreeing(NativeModelReader.read(dir), named, "the loss of " + dir.resolve(NativeModelReader.MODEL_JSON));
                return new Loaded(net, kind, NativeModelReader.digest(dir), List.of());
            }
            case ONNX: {
                OnnxModelReader.Imported graph = OnnxModelReader.read(dir);
                Loss loss = named != null ? named : graph.impliedLoss();
                if (loss == null) {
                    throw new InputException("--loss: " + model + " ends in its logits (" + graph.outputNode()
                            + " writes the output) and so names no loss; expected --loss softmax_cross_entropy, "
                            + "sigmoid_binary_cross_entropy or mse");
                }
                return new Loaded(graph.network(loss), kind, OnnxModelReader.digest(dir), List.of());
            }
            case SPARK_MLP: {
                MultilayerPerceptronClassificationModel mlp = MultilayerPerceptronClassificationModel.load(model);
                return fromMlp(mlp, model, kind, List.of(), named);
            }
            case SPARK_PIPELINE: {
                PipelineModel pipeline = PipelineModel.load(model);
                Transformer[] stages = pipeline.stages();
                if (stages.length == 0 || !(stages[stages.length - 1] instanceof MultilayerPerceptronClassificationModel)) {
                    throw new InputException("--model: the PipelineModel " + model + " must end in a "
                            + "MultilayerPerceptronClassificationModel, but its last stage is "
                            + (stages.length == 0 ? "missing" : stages[stages.length - 1].getClass().getSimpleName()));
                }
                List<Transformer> pre = new ArrayList<>(List.of(stages).subList(0, stages.length - 1));
                return fromMlp((MultilayerPerceptronClassificationModel) stages[stages.length - 1], model, kind, pre, named);
            }
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    private static Loaded fromMlp(MultilayerPerceptronClassificationModel mlp, String model, Kind kind,
                                  List<Transformer> pre, Loss named) {
        Network net = SparkMlpWeights.decode(mlp.getLayers(), mlp.weights().toArray(), "--model " + model);
        return new Loaded(agreeing(net, named, "the loss a Spark ML MLP is trained with"), kind,
                directoryDigest(Path.of(model)), pre);
    }

    /** The model's network when `--loss` is AUTO or names the model's own loss; otherwise an input error naming both. */
    private static Network agreeing(Network net, Loss named, String source) {
        if (named != null && named != net.loss()) {
            throw new InputException("--loss: " + named.jsonName() + " disagrees with " + net.loss().jsonName() + ", "
                    + source + " (leave --loss auto, or change the model)");
        }
        return net;
    }

    private static String sparkMlClass(Path dir) {
        Path meta = dir.resolve("metadata");
        if (!Files.isDirectory(meta)) {
            return null;
        }
        try (Stream<Path> files = Files.list(meta)) {
            Path part = files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().findFirst().orElse(null);
            if (part == null) {
                return null;
            }
            try (InputStream in = Files.newInputStream(part)) {
                String firstLine = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n", 2)[0];
                JsonNode node = new ObjectMapper().readTree(firstLine);
                return node.hasNonNull("class") ? node.get("class").asText() : null;
            }
        } catch (IOException e) {
            throw new InputException("--model: cannot read the Spark ML metadata of " + dir + ": " + e.getMessage(), e);
        }
    }

    /** SHA-256 over the relative paths and bytes of every file of a directory, in path order. */
    static String directoryDigest(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Path> files = walk.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().endsWith(".crc"))
                    .sorted().toList();
            for (Path f : files) {
                sha.update(dir.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update(Files.readAllBytes(f));
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new InputException("--model: cannot read " + dir + ": " + e.getMessage(), e);
        }
    }
}
