package io.hessianatlas.common.model.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;

/**
 * Reads a model in the native format (docs/design.md §6): a directory with
 * <pre>
 *   model.json           {"loss": "softmax_cross_entropy",
 *                         "layers": [{"name": "fc1", "weight": "0.weight", "bias": "0.bias",
 *                                     "activation": "relu"}, ...]}
 *   weights.safetensors  F64 or F32 tensors; weight shape [out, in] row-major (PyTorch nn.Linear),
 *                        bias shape [out]
 * </pre>
 * Per layer: {@code weight} and {@code activation} are required; {@code bias} is optional (absent
 * or null = zero); {@code negative_slope} is optional for leaky_relu (default 0.01); {@code name}
 * is optional (default "fc&lt;l&gt;"). Unknown keys are ignored. Only the tensors referenced by
 * model.json are read. Every error is a one-line {@link ModelFormatException} naming the file and,
 * where it applies, the layer and tensor.
 */
public final class NativeModelReader {
    public static final String MODEL_JSON = "model.json";
    public static final String WEIGHTS_FILE = "weights.safetensors";

    private static final long MAX_MODEL_JSON_BYTES = 16L << 20;

    private NativeModelReader() {
    }

    /**
     * Reads the network in {@code dir}.
     *
     * @throws ModelFormatException for any missing file or malformed/inconsistent content
     */
    public static Network read(Path dir) {
        Path modelJson = checkDirectory(dir);
        Path weights = dir.resolve(WEIGHTS_FILE);
        JsonNode root = parseModelJson(modelJson);

        JsonNode lossNode = root.get("loss");
        if (lossNode == null || lossNode.isNull()) {
            throw new ModelFormatException(modelJson + ": missing \"loss\" (one of softmax_cross_entropy, "
                    + "sigmoid_binary_cross_entropy, mse)");
        }
        if (!lossNode.isTextual()) {
            throw new ModelFormatException(modelJson + ": \"loss\" must be a string, found " + ModelJson.show(lossNode));
        }
        Loss loss;
        try {
            loss = Loss.parse(lossNode.textValue());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(modelJson + ": " + e.getMessage(), e);
        }

        JsonNode layersNode = root.get("layers");
        if (layersNode == null || layersNode.isNull()) {
            throw new ModelFormatException(modelJson + ": missing \"layers\" (an array of {name, weight, bias, activation})");
        }
        if (!layersNode.isArray() || layersNode.isEmpty()) {
            throw new ModelFormatException(modelJson + ": \"layers\" must be a non-empty array, found "
                    + ModelJson.show(layersNode));
        }

        if (!Files.exists(weights)) {
            throw new ModelFormatException(weights + ": weights file not found (a native model directory holds "
                    + MODEL_JSON + " and " + WEIGHTS_FILE + ")");
        }
        List<DenseLayer> layers = new ArrayList<>();
        try (SafetensorsReader st = SafetensorsReader.open(weights)) {
            for (int i = 0; i < layersNode.size(); i++) {
                layers.add(readLayer(modelJson, st, i + 1, layersNode.get(i)));
            }
        }
        try {
            return new Network(layers, loss);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(modelJson + ": " + e.getMessage(), e);
        }
    }

    private static DenseLayer readLayer(Path modelJson, SafetensorsReader st, int l, JsonNode node) {
        if (!node.isObject()) {
            throw new ModelFormatException(modelJson + ": layer " + l + " must be an object with weight, bias, "
                    + "activation, found " + ModelJson.show(node));
        }
        String name = "fc" + l;
        JsonNode nameNode = node.get("name");
        if (nameNode != null && !nameNode.isNull()) {
            if (!nameNode.isTextual() || nameNode.textValue().isBlank()) {
                throw new ModelFormatException(modelJson + ": layer " + l + ": \"name\" must be a non-empty string, found "
                        + ModelJson.show(nameNode));
            }
            name = nameNode.textValue();
        }
        String where = "layer " + l + " '" + name + "'";
        String weightName = requiredString(modelJson, where, node, "weight");
        String biasName = null;
        JsonNode biasNode = node.get("bias");
        if (biasNode != null && !biasNode.isNull()) {
            if (!biasNode.isTextual()) {
                throw new ModelFormatException(modelJson + ": " + where + ": \"bias\" must be a tensor name, found "
                        + ModelJson.show(biasNode));
            }
            biasName = biasNode.textValue();
        }
        String activationName = requiredString(modelJson, where, node, "activation");
        Double slope = null;
        JsonNode slopeNode = node.get("negative_slope");
        if (slopeNode != null && !slopeNode.isNull()) {
            if (!slopeNode.isNumber()) {
                throw new ModelFormatException(modelJson + ": " + where + ": \"negative_slope\" must be a number, found "
                        + ModelJson.show(slopeNode));
            }
            slope = slopeNode.doubleValue();
        }
        Activation activation;
        try {
            activation = Activation.parse(activationName, slope);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(modelJson + ": " + where + ": " + e.getMessage(), e);
        }

        Path weights = st.path();
        SafetensorsReader.TensorInfo wInfo = tensorInfo(st, modelJson, where, "weight", weightName);
        long[] ws = wInfo.shape();
        if (ws.length != 2) {
            throw new ModelFormatException(weights + ": " + where + ": weight tensor '" + weightName + "' has shape "
                    + Arrays.toString(ws) + ", expected 2-D [out, in]");
        }
        if (ws[0] <= 0 || ws[1] <= 0 || ws[0] > Integer.MAX_VALUE || ws[1] > Integer.MAX_VALUE) {
            throw new ModelFormatException(weights + ": " + where + ": weight tensor '" + weightName + "' has shape "
                    + Arrays.toString(ws) + ", expected positive dimensions");
        }
        int fanOut = (int) ws[0];
        int fanIn = (int) ws[1];
        double[] w = st.read(weightName).data();
        double[] b = null;
        if (biasName != null) {
            SafetensorsReader.TensorInfo bInfo = tensorInfo(st, modelJson, where, "bias", biasName);
            long[] bs = bInfo.shape();
            if (bs.length != 1 || bs[0] != fanOut) {
                throw new ModelFormatException(weights + ": " + where + ": bias tensor '" + biasName + "' has shape "
                        + Arrays.toString(bs) + ", expected [" + fanOut + "] to match weight '" + weightName + "' "
                        + Arrays.toString(ws));
            }
            b = st.read(biasName).data();
        }
        try {
            return new DenseLayer(name, fanOut, fanIn, w, b, activation);
        } catch (IllegalArgumentException e) {
            // DenseLayer's message starts "layer 'fc2': ", which `where` already says (with the number)
            String msg = e.getMessage();
            String own = "layer '" + name + "': ";
            throw new ModelFormatException(weights + ": " + where + ": "
                    + (msg.startsWith(own) ? msg.substring(own.length()) : msg), e);
        }
    }

    private static SafetensorsReader.TensorInfo tensorInfo(SafetensorsReader st, Path modelJson, String where,
                                                           String role, String tensor) {
        if (!st.contains(tensor)) {
            throw new ModelFormatException(st.path() + ": " + where + ": " + role + " tensor '" + tensor
                    + "' (named in " + modelJson.getFileName() + ") is not in the file");
        }
        SafetensorsReader.TensorInfo info = st.info(tensor);
        if (!"F64".equals(info.dtype()) && !"F32".equals(info.dtype())) {
            throw new ModelFormatException(st.path() + ": " + where + ": " + role + " tensor '" + tensor
                    + "' has unsupported dtype " + info.dtype() + ", expected F64 or F32");
        }
        return info;
    }

    private static String requiredString(Path modelJson, String where, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new ModelFormatException(modelJson + ": " + where + ": missing \"" + key + "\"");
        }
        if (!v.isTextual()) {
            throw new ModelFormatException(modelJson + ": " + where + ": \"" + key + "\" must be a string, found "
                    + ModelJson.show(v));
        }
        return v.textValue();
    }

    /** Checks the directory and returns its model.json path. */
    private static Path checkDirectory(Path dir) {
        if (dir == null) {
            throw new ModelFormatException("model directory not given");
        }
        if (!Files.exists(dir)) {
            throw new ModelFormatException(dir + ": model directory not found");
        }
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir + ": not a directory (a native model is a directory with "
                    + MODEL_JSON + " and " + WEIGHTS_FILE + ")");
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            if (!s.iterator().hasNext()) {
                throw new ModelFormatException(dir + ": model directory is empty, expected " + MODEL_JSON + " and "
                        + WEIGHTS_FILE);
            }
        } catch (IOException e) {
            throw new ModelFormatException(dir + ": cannot list model directory: " + e, e);
        }
        Path modelJson = dir.resolve(MODEL_JSON);
        if (!Files.isRegularFile(modelJson)) {
            throw new ModelFormatException(modelJson + ": not found (a native model directory holds " + MODEL_JSON
                    + " and " + WEIGHTS_FILE + ")");
        }
        return modelJson;
    }

    private static JsonNode parseModelJson(Path modelJson) {
        byte[] bytes;
        try {
            long size = Files.size(modelJson);
            if (size > MAX_MODEL_JSON_BYTES) {
                throw new ModelFormatException(modelJson + ": " + size + " bytes, larger than the "
                        + MAX_MODEL_JSON_BYTES + "-byte limit for a model description");
            }
            bytes = Files.readAllBytes(modelJson);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(modelJson + ": not found", e);
        } catch (AccessDeniedException e) {
            throw new ModelFormatException(modelJson + ": not readable (access denied)", e);
        } catch (IOException e) {
            throw new ModelFormatException(modelJson + ": cannot read: " + ModelJson.oneLine(String.valueOf(e)), e);
        }
        JsonNode root;
        try {
            root = ModelJson.parse(bytes, 0, bytes.length);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(modelJson + ": not valid JSON: " + ModelJson.describe(e), e);
        }
        if (!root.isObject()) {
            throw new ModelFormatException(modelJson + ": expected a JSON object with \"loss\" and \"layers\", found "
                    + root.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        return root;
    }

    /**
     * SHA-256 (lower-case hex) over the bytes of model.json followed by the bytes of
     * weights.safetensors, for run manifests.
     *
     * @throws ModelFormatException when the directory or either file is missing or unreadable
     */
    public static String digest(Path dir) {
        Path modelJson = checkDirectory(dir);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new ModelFormatException(weights + ": weights file not found (a native model directory holds "
                    + MODEL_JSON + " and " + WEIGHTS_FILE + ")");
        }
        return FileDigest.sha256(List.of(modelJson, weights));
    }
}
