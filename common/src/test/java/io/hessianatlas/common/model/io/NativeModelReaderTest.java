package io.hessianatlas.common.model.io;

import static io.hessianatlas.common.model.io.SafetensorsReaderTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class NativeModelReaderTest {

    @TempDir
    Path tmp;

    // ---- helpers -------------------------------------------------------------------------

    private static Path resource(String path) {
        URL url = NativeModelReaderTest.class.getResource(path);
        assertTrue(url != null, "test resource " + path + " is missing");
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<String> oracleCases() throws IOException {
        try (Stream<Path> dirs = Files.list(resource("/oracle/inputs"))) {
            List<String> names = dirs.filter(d -> Files.isDirectory(d.resolve("model")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
            assertTrue(names.contains("c01_softmax_relu_4-5-3"), "oracle cases found: " + names);
            return names.stream();
        }
    }

    /** A standard 3-2 relu / 2-? tensor set: 0.weight [2,3], 0.bias [2], 1.weight [2,2], 1.bias [2]. */
    private static SafetensorsWriter tensors() {
        return new SafetensorsWriter()
                .add("0.weight", "F64", new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6})
                .add("0.bias", "F64", new long[] {2}, new double[] {0.5, -0.5})
                .add("1.weight", "F64", new long[] {2, 2}, new double[] {1, 0, 0, 1})
                .add("1.bias", "F64", new long[] {2}, new double[] {0, 0});
    }

    private static final String GOOD_LAYERS = "[{\"name\":\"fc1\",\"weight\":\"0.weight\",\"bias\":\"0.bias\",\"activation\":\"relu\"},"
            + "{\"name\":\"fc2\",\"weight\":\"1.weight\",\"bias\":\"1.bias\",\"activation\":\"identity\"}]";

    private Path model(String name, String modelJson, SafetensorsWriter weights) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        if (modelJson != null) {
            Files.writeString(dir.resolve("model.json"), modelJson, StandardCharsets.UTF_8);
        }
        if (weights != null) {
            weights.write(dir.resolve("weights.safetensors"));
        }
        return dir;
    }

    private Path model(String name, String layersJson) throws IOException {
        return model(name, "{\"loss\":\"softmax_cross_entropy\",\"layers\":" + layersJson + "}", tensors());
    }

    private static ModelFormatException assertReadFails(Path dir, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> NativeModelReader.read(dir));
        assertMessage(e, fragments);
        return e;
    }

    // ---- reading ---------------------------------------------------------------------------

    /** Every oracle model reads and its W, b, loss and activations equal the oracle reference JSON. */
    @ParameterizedTest
    @MethodSource("oracleCases")
    void oracleModelMatchesReferenceJson(String name) throws IOException {
        Network net = NativeModelReader.read(resource("/oracle/inputs/" + name + "/model"));
        JsonNode ref = new ObjectMapper().readTree(resource("/oracle/reference/" + name + ".json").toFile());

        JsonNode arch = ref.get("architecture");
        assertEquals(arch.size(), net.widths().length, name + " depth");
        for (int i = 0; i < arch.size(); i++) {
            assertEquals(arch.get(i).asInt(), net.widths()[i], name + " width " + i);
        }
        assertEquals(Loss.parse(ref.get("loss").asText()), net.loss(), name + " loss");
        JsonNode layers = ref.get("model").get("layers");
        assertEquals(layers.size(), net.depth());
        for (int l = 1; l <= net.depth(); l++) {
            DenseLayer layer = net.layer(l);
            JsonNode wRows = layers.get(l - 1).get("W");
            JsonNode b = layers.get(l - 1).get("b");
            assertEquals(wRows.size(), layer.fanOut());
            double[] w = layer.weightsRowMajor();
            for (int i = 0; i < layer.fanOut(); i++) {
                assertEquals(layer.fanIn(), wRows.get(i).size());
                for (int j = 0; j < layer.fanIn(); j++) {
                    assertEquals(wRows.get(i).get(j).asDouble(), w[i * layer.fanIn() + j], 0.0,
                            name + " layer " + l + " W[" + i + "][" + j + "]");
                }
            }
            double[] bias = layer.biasValues();
            for (int i = 0; i < layer.fanOut(); i++) {
                assertEquals(b.get(i).asDouble(), bias[i], 0.0, name + " layer " + l + " b[" + i + "]");
            }
            String expectedAct = l < net.depth() ? ref.get("activations").get(l - 1).asText() : "identity";
            assertEquals(expectedAct, layer.activation().name(), name + " layer " + l + " activation");
        }
    }

    @Test
    void c01LayerOneWeightMatchesReference() throws IOException {
        String name = "c01_softmax_relu_4-5-3";
        Network net = NativeModelReader.read(resource("/oracle/inputs/" + name + "/model"));
        JsonNode w = new ObjectMapper().readTree(resource("/oracle/reference/" + name + ".json").toFile())
                .get("model").get("layers").get(0).get("W");
        assertEquals(5, net.layer(1).fanOut());
        assertEquals(4, net.layer(1).fanIn());
        assertEquals("fc1", net.layer(1).name());
        assertEquals(Activation.RELU, net.layer(1).activation());
        double[] expected = new double[20];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 4; j++) {
                expected[i * 4 + j] = w.get(i).get(j).asDouble();
            }
        }
        assertArrayEquals(expected, net.layer(1).weightsRowMajor(), 0.0);
    }

    @Test
    void writerRoundTripPreservesEverything() {
        Network net = new Network(List.of(
                new DenseLayer("in", 3, 2, new double[] {0.1, -0.2, 0.3, Math.PI, -1e-200, 7}, new double[] {1, 2, 3},
                        Activation.leakyRelu(0.2)),
                new DenseLayer("mid", 2, 3, new double[] {1.0 / 3, 2, 3, 4, 5, 6}, null, Activation.GELU),
                new DenseLayer("out", 4, 2, new double[] {1, 2, 3, 4, 5, 6, 7, 8}, new double[] {-1, -2, -3, -4},
                        Activation.IDENTITY)), Loss.MSE);
        Path dir = tmp.resolve("nested/written");
        NativeModelWriter.write(net, dir);
        Network back = NativeModelReader.read(dir);
        assertEquals(net, back);
        assertEquals(0.2, back.layer(1).activation().negativeSlope(), 0.0);
        assertArrayEquals(new double[] {0, 0}, back.layer(2).biasValues(), 0.0);
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("weights.safetensors"))) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"),
                    List.copyOf(r.tensorNames()));
            assertEquals("F64", r.info("1.weight").dtype());
            assertArrayEquals(new long[] {2, 3}, r.info("1.weight").shape());
        }
        // rewriting over an existing model replaces it
        Network other = new Network(List.of(new DenseLayer("only", 1, 1, new double[] {9}, null, Activation.IDENTITY)),
                Loss.SIGMOID_BINARY_CROSS_ENTROPY);
        NativeModelWriter.write(other, dir);
        assertEquals(other, NativeModelReader.read(dir));
    }

    @Test
    void f32WeightsAbsentBiasDefaultsAndLeakySlope() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter()
                .add("a", "F32", new long[] {2, 3}, new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6})
                .add("b", "F32", new long[] {1, 2}, new double[] {1.5, -2.5});
        Path dir = model("f32", "{\"loss\":\"sigmoid_binary_cross_entropy\",\"layers\":["
                + "{\"weight\":\"a\",\"activation\":\"leaky_relu\",\"negative_slope\":0.125},"
                + "{\"name\":\"head\",\"weight\":\"b\",\"bias\":null,\"activation\":\"identity\",\"extra\":1}]}", w);
        Network net = NativeModelReader.read(dir);
        assertEquals(Loss.SIGMOID_BINARY_CROSS_ENTROPY, net.loss());
        assertEquals("fc1", net.layer(1).name());
        assertEquals("head", net.layer(2).name());
        assertEquals(Activation.leakyRelu(0.125), net.layer(1).activation());
        assertArrayEquals(new double[] {0, 0}, net.layer(1).biasValues(), 0.0);
        double[] got = net.layer(1).weightsRowMajor();
        double[] want = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
        for (int k = 0; k < 6; k++) {
            assertEquals((float) want[k], got[k], 0.0);
        }
        assertArrayEquals(new double[] {1.5, -2.5}, net.layer(2).weightsRowMajor(), 0.0);

        Path dflt = model("leaky-default", "[{\"weight\":\"0.weight\",\"activation\":\"leaky_relu\"},"
                + "{\"weight\":\"1.weight\",\"activation\":\"identity\"}]");
        assertEquals(Activation.DEFAULT_LEAKY_SLOPE, NativeModelReader.read(dflt).layer(1).activation().negativeSlope());
    }

    // ---- directory and file errors ---------------------------------------------------------

    @Test
    void missingNotADirectoryOrEmptyDirectory() throws IOException {
        Path absent = tmp.resolve("absent");
        assertReadFails(absent, absent.toString(), "model directory not found");
        Path file = Files.writeString(tmp.resolve("plain.txt"), "x");
        assertReadFails(file, file.toString(), "not a directory");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertReadFails(empty, empty.toString(), "empty", "model.json", "weights.safetensors");
        assertThrows(ModelFormatException.class, () -> NativeModelReader.read(null));
    }

    @Test
    void missingModelJsonOrWeights() throws IOException {
        Path noJson = model("nojson", null, tensors());
        assertReadFails(noJson, noJson.resolve("model.json").toString(), "not found");
        Path noWeights = model("noweights", "{\"loss\":\"mse\",\"layers\":" + GOOD_LAYERS + "}", null);
        assertReadFails(noWeights, noWeights.resolve("weights.safetensors").toString(), "weights file not found");
    }

    @Test
    void modelJsonNotJsonOrNotAnObject() throws IOException {
        Path bad = model("bad", "{\"loss\": \"mse\", layers: }", tensors());
        assertReadFails(bad, bad.resolve("model.json").toString(), "not valid JSON", "line 1");
        Path arr = model("arr", "[]", tensors());
        assertReadFails(arr, arr.resolve("model.json").toString(), "expected a JSON object", "array");
        Path empty = model("emptyjson", "", tensors());
        assertReadFails(empty, "model.json", "not valid JSON");
    }

    @Test
    void missingLossOrLayers() throws IOException {
        Path noLoss = model("noloss", "{\"layers\":" + GOOD_LAYERS + "}", tensors());
        assertReadFails(noLoss, noLoss.resolve("model.json").toString(), "missing \"loss\"");
        Path noLayers = model("nolayers", "{\"loss\":\"mse\"}", tensors());
        assertReadFails(noLayers, noLayers.resolve("model.json").toString(), "missing \"layers\"");
        Path emptyLayers = model("emptylayers", "{\"loss\":\"mse\",\"layers\":[]}", tensors());
        assertReadFails(emptyLayers, "model.json", "\"layers\" must be a non-empty array");
        Path lossNumber = model("lossnum", "{\"loss\":3,\"layers\":" + GOOD_LAYERS + "}", tensors());
        assertReadFails(lossNumber, "model.json", "\"loss\" must be a string");
    }

    @Test
    void unknownLossOrActivation() throws IOException {
        Path loss = model("badloss", "{\"loss\":\"hinge\",\"layers\":" + GOOD_LAYERS + "}", tensors());
        assertReadFails(loss, loss.resolve("model.json").toString(), "unknown loss 'hinge'", "softmax_cross_entropy");
        Path act = model("badact", "[{\"name\":\"fc1\",\"weight\":\"0.weight\",\"activation\":\"swish\"},"
                + "{\"name\":\"fc2\",\"weight\":\"1.weight\",\"activation\":\"identity\"}]");
        assertReadFails(act, act.resolve("model.json").toString(), "layer 1 'fc1'", "unknown activation 'swish'");
        Path slope = model("badslope", "[{\"weight\":\"0.weight\",\"activation\":\"leaky_relu\",\"negative_slope\":\"x\"},"
                + "{\"weight\":\"1.weight\",\"activation\":\"identity\"}]");
        assertReadFails(slope, "model.json", "layer 1 'fc1'", "\"negative_slope\" must be a number");
        Path noAct = model("noact", "[{\"weight\":\"0.weight\"},{\"weight\":\"1.weight\",\"activation\":\"identity\"}]");
        assertReadFails(noAct, "model.json", "layer 1 'fc1'", "missing \"activation\"");
        Path noWeight = model("noweight", "[{\"weight\":\"0.weight\",\"activation\":\"relu\"},{\"activation\":\"identity\"}]");
        assertReadFails(noWeight, "model.json", "layer 2 'fc2'", "missing \"weight\"");
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path dir = model("notensor", "[{\"name\":\"fc1\",\"weight\":\"0.weight\",\"bias\":\"0.bias\",\"activation\":\"relu\"},"
                + "{\"name\":\"fc2\",\"weight\":\"2.weight\",\"bias\":\"1.bias\",\"activation\":\"identity\"}]");
        assertReadFails(dir, dir.resolve("weights.safetensors").toString(), "layer 2 'fc2'",
                "weight tensor '2.weight'", "not in the file");
        Path bias = model("nobias", "[{\"name\":\"fc1\",\"weight\":\"0.weight\",\"bias\":\"9.bias\",\"activation\":\"relu\"},"
                + "{\"name\":\"fc2\",\"weight\":\"1.weight\",\"activation\":\"identity\"}]");
        assertReadFails(bias, "layer 1 'fc1'", "bias tensor '9.bias'", "not in the file");
    }

    @Test
    void weightNot2dOrBiasWrongShape() throws IOException {
        SafetensorsWriter w = tensors()
                .add("w3", "F64", new long[] {2, 3, 1}, new double[6])
                .add("w1", "F64", new long[] {6}, new double[6])
                .add("b2d", "F64", new long[] {2, 1}, new double[2])
                .add("b3", "F64", new long[] {3}, new double[3]);
        String tail = ",{\"weight\":\"1.weight\",\"activation\":\"identity\"}]";
        Path d3 = model("w3", "{\"loss\":\"mse\",\"layers\":[{\"weight\":\"w3\",\"activation\":\"relu\"}" + tail + "}", w);
        assertReadFails(d3, "weights.safetensors", "layer 1 'fc1'", "weight tensor 'w3' has shape [2, 3, 1], expected 2-D");
        Path d1 = model("w1", "{\"loss\":\"mse\",\"layers\":[{\"weight\":\"w1\",\"activation\":\"relu\"}" + tail + "}", w);
        assertReadFails(d1, "weight tensor 'w1' has shape [6], expected 2-D");
        Path b2 = model("b2d", "{\"loss\":\"mse\",\"layers\":[{\"weight\":\"0.weight\",\"bias\":\"b2d\",\"activation\":\"relu\"}"
                + tail + "}", w);
        assertReadFails(b2, "layer 1 'fc1'", "bias tensor 'b2d' has shape [2, 1], expected [2]");
        Path b3 = model("b3", "{\"loss\":\"mse\",\"layers\":[{\"weight\":\"0.weight\",\"bias\":\"b3\",\"activation\":\"relu\"}"
                + tail + "}", w);
        assertReadFails(b3, "layer 1 'fc1'", "bias tensor 'b3' has shape [3], expected [2]", "[2, 3]");
    }

    @Test
    void shapesThatDoNotChain() throws IOException {
        SafetensorsWriter w = tensors().add("bad", "F64", new long[] {2, 5}, new double[10]);
        Path dir = model("chain", "{\"loss\":\"mse\",\"layers\":[{\"name\":\"fc1\",\"weight\":\"0.weight\",\"activation\":\"relu\"},"
                + "{\"name\":\"fc2\",\"weight\":\"bad\",\"activation\":\"identity\"}]}", w);
        assertReadFails(dir, dir.resolve("model.json").toString(), "'fc2'", "(2 x 5)", "does not chain", "'fc1'",
                "expected fan-in 2");
    }

    @Test
    void lastLayerMustBeIdentity() throws IOException {
        Path dir = model("lastrelu", "[{\"weight\":\"0.weight\",\"activation\":\"relu\"},{\"weight\":\"1.weight\",\"activation\":\"relu\"}]");
        assertReadFails(dir, "model.json", "last layer 'fc2'", "expected identity");
    }

    @Test
    void nanOrInfiniteWeights() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter()
                .add("0.weight", "F64", new long[] {2, 3}, new double[] {1, 2, 3, 4, Double.NaN, 6})
                .add("0.bias", "F64", new long[] {2}, new double[] {0, Double.POSITIVE_INFINITY})
                .add("1.weight", "F64", new long[] {2, 2}, new double[] {1, 0, 0, 1});
        Path dir = model("nan", "{\"loss\":\"mse\",\"layers\":" + GOOD_LAYERS.replace(",\"bias\":\"1.bias\"", "") + "}", w);
        assertReadFails(dir, dir.resolve("weights.safetensors").toString(), "layer 1 'fc1'", "weight[1][1] is NaN");
        SafetensorsWriter inf = new SafetensorsWriter()
                .add("0.weight", "F32", new long[] {2, 3}, new double[6])
                .add("0.bias", "F64", new long[] {2}, new double[] {0, Double.NEGATIVE_INFINITY})
                .add("1.weight", "F64", new long[] {2, 2}, new double[] {1, 0, 0, 1});
        Path dir2 = model("inf", "{\"loss\":\"mse\",\"layers\":" + GOOD_LAYERS.replace(",\"bias\":\"1.bias\"", "") + "}", inf);
        assertReadFails(dir2, "weights.safetensors", "layer 1 'fc1'", "bias[1] is -Infinity");
    }

    @Test
    void unsupportedTensorDtypeNamesLayerAndTensor() throws IOException {
        Path dir = model("bf16", "{\"loss\":\"mse\",\"layers\":[{\"weight\":\"w\",\"activation\":\"identity\"}]}", null);
        byte[] header = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8 + header.length + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length).put(header);
        Files.write(dir.resolve("weights.safetensors"), buf.array());
        assertReadFails(dir, "weights.safetensors", "layer 1 'fc1'", "weight tensor 'w'", "unsupported dtype BF16");
    }

    @Test
    void corruptWeightsFileIsReportedWithItsPath() throws IOException {
        Path dir = model("corrupt", "{\"loss\":\"mse\",\"layers\":" + GOOD_LAYERS + "}", null);
        Files.write(dir.resolve("weights.safetensors"), new byte[] {(byte) 0xff, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertReadFails(dir, dir.resolve("weights.safetensors").toString(), "header length");
    }

    // ---- digest ----------------------------------------------------------------------------

    @Test
    void digestIsSha256OfModelJsonThenWeights() throws Exception {
        Path dir = resource("/oracle/inputs/c01_softmax_relu_4-5-3/model");
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(Files.readAllBytes(dir.resolve("model.json")));
        sha.update(Files.readAllBytes(dir.resolve("weights.safetensors")));
        String expected = HexFormat.of().formatHex(sha.digest());
        String digest = NativeModelReader.digest(dir);
        assertEquals(expected, digest);
        assertEquals(64, digest.length());
        assertTrue(digest.matches("[0-9a-f]{64}"));

        Path copy = Files.createDirectories(tmp.resolve("copy"));
        Files.copy(dir.resolve("model.json"), copy.resolve("model.json"));
        Files.copy(dir.resolve("weights.safetensors"), copy.resolve("weights.safetensors"));
        assertEquals(digest, NativeModelReader.digest(copy));
        byte[] w = Files.readAllBytes(copy.resolve("weights.safetensors"));
        w[w.length - 1] ^= 1;
        Files.write(copy.resolve("weights.safetensors"), w);
        assertNotEquals(digest, NativeModelReader.digest(copy));

        Path noWeights = model("digest-noweights", "{}", null);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> NativeModelReader.digest(noWeights));
        assertMessage(e, noWeights.resolve("weights.safetensors").toString(), "not found");
    }
}
