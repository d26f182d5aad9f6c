package io.hessianatlas.common.model.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Network;

/**
 * Writes a {@link Network} in the native format read by {@link NativeModelReader}: model.json
 * and an F64 weights.safetensors holding, for layer l (0-based index i = l - 1), tensors
 * {@code "<i>.weight"} of shape [fanOut, fanIn] (row-major) and {@code "<i>.bias"} of shape
 * [fanOut]. leaky_relu layers carry their {@code negative_slope}. Each file is written through a
 * temporary sibling and moved into place (weights first, then model.json).
 */
public final class NativeModelWriter {
    private NativeModelWriter() {
    }

    /**
     * Writes {@code network} into {@code dir} (created if needed; existing model files are replaced).
     *
     * @throws UncheckedIOException when the directory or files cannot be written
     */
    public static void write(Network network, Path dir) {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(dir, "dir");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create model directory " + dir + ": " + e.getMessage(), e);
        }
        SafetensorsWriter weights = new SafetensorsWriter().metadata("format", "pt");
        ObjectNode root = ModelJson.MAPPER.createObjectNode();
        root.put("loss", network.loss().jsonName());
        ArrayNode layers = root.putArray("layers");
        List<DenseLayer> list = network.layers();
        for (int i = 0; i < list.size(); i++) {
            DenseLayer layer = list.get(i);
            String w = i + ".weight";
            String b = i + ".bias";
            weights.add(w, "F64", new long[] {layer.fanOut(), layer.fanIn()}, layer.weightsRowMajor());
            weights.add(b, "F64", new long[] {layer.fanOut()}, layer.biasValues());
            ObjectNode entry = layers.addObject();
            entry.put("name", layer.name());
            entry.put("weight", w);
            entry.put("bias", b);
            Activation act = layer.activation();
            entry.put("activation", act.name());
            if (act.kind() == Activation.Kind.LEAKY_RELU) {
                entry.put("negative_slope", act.negativeSlope());
            }
        }
        byte[] json;
        try {
            json = ModelJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize model.json", e);
        }
        weights.write(dir.resolve(NativeModelReader.WEIGHTS_FILE));
        AtomicFiles.write(dir.resolve(NativeModelReader.MODEL_JSON), json);
    }
}
