package io.hessianatlas.common.model.io;

import static io.hessianatlas.common.model.io.SafetensorsReaderTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import com.google.protobuf.ByteString;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.model.io.onnx.OnnxProto.AttributeProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.GraphProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.ModelProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.NodeProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.OperatorSetIdProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.TensorProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.TypeProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link OnnxModelReader} on the fixtures of {@code src/test/resources/onnx} (torch.onnx.export of
 * small MLPs, each with its native twin written from the same weights by make_fixtures.py): the
 * network read from ONNX equals the twin's (names, shapes, activations, loss, and every weight bit
 * for bit — float32 models are widened to float64 on both sides); the bad graphs, and graphs built
 * here with the generated protobuf builders, fail with one line naming the node.
 */
class OnnxModelReaderTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> goodModels() {
        return Stream.of(
                Arguments.of("a_softmax_relu", "op9.onnx"),
                Arguments.of("a_softmax_relu", "op17.onnx"),
                Arguments.of("b_mse_tanh_f64", "op9.onnx"),
                Arguments.of("b_mse_tanh_f64", "op17.onnx"),
                Arguments.of("c_bce_sigmoid", "op9.onnx"),
                Arguments.of("c_bce_sigmoid", "op17.onnx"),
                Arguments.of("d_mixed", "op13.onnx"),
                Arguments.of("e_gelu_op20", "op20.onnx"));
    }

    @ParameterizedTest(name = "{0}/{1}")
    @MethodSource("goodModels")
    void readsTheSameNetworkAsTheNativeTwin(String caseName, String file) {
        Path dir = resource("/onnx/" + caseName);
        Network twin = NativeModelReader.read(dir.resolve("model"));
        OnnxModelReader.Imported imported = OnnxModelReader.read(dir.resolve(file));
        String at = caseName + "/" + file;
        if (caseName.startsWith("b_")) {
            assertNull(imported.impliedLoss(), at + ": a graph ending in the logits names no loss");
        } else {
            assertEquals(twin.loss(), imported.impliedLoss(), at + ": loss from the final node");
        }
        Network net = imported.network(twin.loss());
        assertEquals(twin.depth(), net.depth(), at + ": depth");
        for (int l = 1; l <= twin.depth(); l++) {
            DenseLayer t = twin.layer(l);
            DenseLayer o = net.layer(l);
            String layer = at + " layer " + l;
            assertEquals(t.name(), o.name(), layer + " name");
            assertEquals(t.fanOut() + "x" + t.fanIn(), o.fanOut() + "x" + o.fanIn(), layer + " shape");
            assertEquals(t.activation(), o.activation(), layer + " activation");
            assertArrayEquals(t.weightsRowMajor(), o.weightsRowMajor(), layer + " weights, bit for bit");
            assertArrayEquals(t.biasValues(), o.biasValues(), layer + " bias, bit for bit");
        }
        assertEquals(twin, net, at);
    }

    static Stream<Arguments> badModels() {
        return Stream.of(
                Arguments.of("conv.onnx", List.of("node #0 '/0/Conv' (Conv)", "unsupported op")),
                Arguments.of("branch.onnx", List.of("node #3 '/fc3/Gemm' (Gemm)", "takes '/Relu_output_0'", "branch")),
                Arguments.of("unsupported_op.onnx", List.of("node #1 '/1/Elu' (Elu)", "unsupported op")),
                Arguments.of("gelu_erf.onnx", List.of("node #3 '/1/Erf' (Erf)", "exact (erf) GELU", "tanh approximation")),
                Arguments.of("shared_weight.onnx", List.of("node #2 '/fc_1/Gemm' (Gemm)", "weight 'fc.weight'",
                        "node #0 '/fc/Gemm' (Gemm)", "shared weight")),
                Arguments.of("second_input.onnx", List.of("2 inputs", "'in1'", "node #1 '/Add' (Add)")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badModels")
    void badGraphsNameTheNode(String file, List<String> fragments) {
        Path path = resource("/onnx/bad/" + file);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(path));
        assertMessage(e, fragments.toArray(String[]::new));
        assertTrue(e.getMessage().startsWith(path.toString()), e.getMessage());
    }

    @Test
    void digestIsTheFilesSha256() throws Exception {
        Path path = resource("/onnx/a_softmax_relu/op17.onnx");
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(path)));
        assertEquals(expected, OnnxModelReader.digest(path));
    }

    // ---- graphs built here ------------------------------------------------------------------

    @Test
    void notAnOnnxFile() throws IOException {
        Path json = Files.writeString(tmp.resolve("model.onnx"), "{\"loss\": \"mse\"}\n");
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(json)),
                json.toString(), "not an ONNX model");
        Path empty = Files.write(tmp.resolve("empty.onnx"), new byte[0]);
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(empty)),
                "not an ONNX model", "empty");
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(tmp.resolve("missing.onnx"))),
                "missing.onnx", "not found");
    }

    @Test
    void opsetBelowNineIsRefused() throws IOException {
        Path p = write("old", model(8, List.of(gemm("fc1", "x", "w1", "b1", "y", 1)), weights(2, 3, "w1", "b1", 1), 3));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(p)), "opset 8", "9 or later");
    }

    @Test
    void transBZeroAndMatMulReadTheTransposedWeight() throws IOException {
        // W = [[1, 2, 3], [4, 5, 6]] (out 2, in 3) stored as Wᵀ [3, 2] for Gemm(transB=0) and for MatMul
        List<TensorProto> wt = List.of(floatTensor("wt", new long[] {3, 2}, 1, 4, 2, 5, 3, 6),
                floatTensor("b", new long[] {2}, 0.5f, -0.5f));
        Path gemm = write("gemm", model(17, List.of(gemm("g", "x", "wt", "b", "y", 0)), wt, 3));
        Path matMul = write("matmul", model(17, List.of(node("MatMul", "m", List.of("x", "wt"), "h"),
                node("Add", "a", List.of("b", "h"), "y")), wt, 3));
        for (Path p : List.of(gemm, matMul)) {
            Network net = OnnxModelReader.read(p).network(Loss.MSE);
            assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, net.layer(1).weightsRowMajor(), p.toString());
            assertArrayEquals(new double[] {0.5, -0.5}, net.layer(1).biasValues(), p.toString());
        }
    }

    @Test
    void attributeFloatsAreTheirShortestDecimal() throws IOException {
        List<NodeProto> nodes = List.of(gemm("fc1", "x", "w1", "b1", "h", 1),
                node("LeakyRelu", "act", List.of("h"), "a", floatAttr("alpha", 0.01f)),
                gemm("fc2", "a", "w2", "b2", "y", 1));
        List<TensorProto> w = new ArrayList<>(weights(2, 3, "w1", "b1", 1));
        w.addAll(weights(2, 2, "w2", "b2", 2));
        Network net = OnnxModelReader.read(write("leaky", model(17, nodes, w, 3))).network(Loss.MSE);
        assertEquals(Activation.leakyRelu(0.01), net.layer(1).activation(), "0.01f is read as 0.01");
        assertEquals(Activation.IDENTITY, net.layer(2).activation());
    }

    @Test
    void unsupportedLayersAndEndingsNameTheNode() throws IOException {
        List<TensorProto> w = weights(2, 3, "w1", "b1", 1);
        Path alpha = write("alpha", model(17, List.of(gemm("fc1", "x", "w1", "b1", "y", 1).toBuilder()
                .addAttribute(floatAttr("alpha", 0.5f)).build()), w, 3));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(alpha)),
                "node #0 'fc1' (Gemm)", "alpha 0.5", "expected 1");

        Path tanhEnd = write("tanh-end", model(17, List.of(gemm("fc1", "x", "w1", "b1", "h", 1),
                node("Tanh", "squash", List.of("h"), "y")), w, 3));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(tanhEnd)),
                "node #1 'squash' (Tanh)", "ends in the activation tanh");

        Path erfGelu = write("gelu-none", model(20, List.of(gemm("fc1", "x", "w1", "b1", "h", 1),
                node("Gelu", "gelu", List.of("h"), "y")), w, 3));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(erfGelu)),
                "node #1 'gelu' (Gelu)", "exact (erf) GELU");

        Path scaled = write("scaled", model(17, List.of(gemm("fc1", "x", "w1", "b1", "h", 1),
                node("Constant", "two", List.of(), "c", tensorAttr("value", floatTensor("", new long[0], 2f))),
                node("Mul", "double", List.of("h", "c"), "y")), w, 3));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(scaled)),
                "node #2 'double' (Mul)", "no supported activation");

        Path wideInput = write("wide", model(17, List.of(gemm("fc1", "x", "w1", "b1", "y", 1)), w, 4));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(wideInput)),
                "input 'x'", "4 features per sample", "first layer takes 3");
    }

    @Test
    void logitsNeedALossAndUnreadableTensorsAreNamed() throws IOException {
        List<TensorProto> w = weights(2, 3, "w1", "b1", 1);
        OnnxModelReader.Imported logits = OnnxModelReader.read(write("logits",
                model(17, List.of(gemm("fc1", "x", "w1", "b1", "y", 1)), w, 3)));
        assertMessage(assertThrows(ModelFormatException.class, logits::network), "ends in the logits",
                "node #0 'fc1' (Gemm)", "names no loss");
        assertEquals(Loss.MSE, logits.network(Loss.MSE).loss());

        TensorProto half = w.get(0).toBuilder().setDataType(10).build();
        Path f16 = write("f16", model(17, List.of(gemm("fc1", "x", "w1", "b1", "y", 1)), List.of(half, w.get(1)), 3));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(f16)),
                "node #0 'fc1' (Gemm)", "weight 'w1'", "FLOAT16", "expected float32 or float64");

        TensorProto external = w.get(0).toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL).build();
        Path ext = write("ext", model(17, List.of(gemm("fc1", "x", "w1", "b1", "y", 1)), List.of(external, w.get(1)), 3));
        assertMessage(assertThrows(ModelFormatException.class, () -> OnnxModelReader.read(ext)),
                "weight 'w1'", "external file");
    }

    // ---- builders -----------------------------------------------------------------------------

    private Path write(String name, ModelProto model) throws IOException {
        return Files.write(tmp.resolve(name + ".onnx"), model.toByteArray());
    }

    /** A model with input "x" of shape [batch, width], output "y" and the given nodes and initializers. */
    private static ModelProto model(long opset, List<NodeProto> nodes, List<TensorProto> initializers, int width) {
        TypeProto.Tensor.Builder type = TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.FLOAT);
        type.getShapeBuilder().addDimBuilder().setDimParam("batch");
        type.getShapeBuilder().addDimBuilder().setDimValue(width);
        GraphProto graph = GraphProto.newBuilder().setName("g").addAllNode(nodes).addAllInitializer(initializers)
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder().setTensorType(type)))
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .build();
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("OnnxModelReaderTest")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
    }

    private static NodeProto node(String op, String name, List<String> inputs, String output, AttributeProto... attrs) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output);
        for (AttributeProto a : attrs) {
            b.addAttribute(a);
        }
        return b.build();
    }

    private static NodeProto gemm(String name, String x, String w, String b, String out, int transB) {
        return node("Gemm", name, List.of(x, w, b), out, AttributeProto.newBuilder().setName("transB")
                .setType(AttributeProto.AttributeType.INT).setI(transB).build());
    }

    private static AttributeProto floatAttr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static AttributeProto tensorAttr(String name, TensorProto value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(value).build();
    }

    /** A float32 tensor in raw_data, little-endian, as torch.onnx writes initializers. */
    private static TensorProto floatTensor(String name, long[] dims, float... values) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(OnnxTensors.FLOAT)
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    /** W [out, in] with entries seed + 0.25 k and b [out]. */
    private static List<TensorProto> weights(int out, int in, String w, String b, int seed) {
        float[] wv = new float[out * in];
        for (int k = 0; k < wv.length; k++) {
            wv[k] = seed + 0.25f * k;
        }
        float[] bv = new float[out];
        for (int k = 0; k < out; k++) {
            bv[k] = -0.5f * k;
        }
        return List.of(floatTensor(w, new long[] {out, in}, wv), floatTensor(b, new long[] {out}, bv));
    }

    private static Path resource(String path) {
        URL url = OnnxModelReaderTest.class.getResource(path);
        assertTrue(url != null, "test resource " + path + " is missing");
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
