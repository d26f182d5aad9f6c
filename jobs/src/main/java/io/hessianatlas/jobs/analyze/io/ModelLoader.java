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
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.model.io.NativeModelReader;
import io.hessianatlas.common.model.io.SparkMlpWeights;
import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;

/**
 * Detects and loads `--model`: a native directory (model.json + weights.safetensors), a Spark ML
 * MultilayerPerceptronClassificationModel directory, or a Spark ML PipelineModel whose last stage
 * is one (its earlier stages become the preprocessing applied to the data). Detection reads only
 * the folder's files, so a wrong folder fails before Spark starts.
 */
public final class ModelLoader {
    static final String MLP_CLASS = "org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel";
    static final String PIPELINE_CLASS = "org.apache.spark.ml.PipelineModel";

    public enum Kind {
        NATIVE("native"), SPARK_MLP("spark-ml-mlp"), SPARK_PIPELINE("spark-ml-pipeline");

        public final String label;

        Kind(String label) {
            this.label = label;
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

    /** Which kind of model folder this is; throws InputException naming the folder otherwise. */
    public static Kind detect(String model) {
        Path dir = Path.of(model);
        if (!Files.isDirectory(dir)) {
            throw new InputException("--model: " + model + " is not a directory (expected a native model directory "
                    + "or a saved Spark ML model)");
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

    /** Loads the native format without Spark; Spark ML kinds need a running session. */
    public static Loaded load(String model, Kind kind) {
        Path dir = Path.of(model);
        switch (kind) {
            case NATIVE:
                return new Loaded(NativeModelReader.read(dir), kind, NativeModelReader.digest(dir), List.of());
            case SPARK_MLP: {
                MultilayerPerceptronClassificationModel mlp = MultilayerPerceptronClassificationModel.load(model);
                return fromMlp(mlp, model, kind, List.of());
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
                return fromMlp((MultilayerPerceptronClassificationModel) stages[stages.length - 1], model, kind, pre);
            }
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    private static Loaded fromMlp(MultilayerPerceptronClassificationModel mlp, String model, Kind kind,
                                  List<Transformer> pre) {
        Network net = SparkMlpWeights.decode(mlp.getLayers(), mlp.weights().toArray(), "--model " + model);
        return new Loaded(net, kind, directoryDigest(Path.of(model)), pre);
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
