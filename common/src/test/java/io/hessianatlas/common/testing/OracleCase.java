package io.hessianatlas.common.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One reference case of ../shared/oracle (copied to test resources /oracle): values computed
 * independently with PyTorch autograd in float64 (see /oracle/README.md). The network is built
 * from the reference JSON's own W, b and activations, not through the model readers.
 */
public final class OracleCase {
    public static final String[] CASES = {
        "c01_softmax_relu_4-5-3", "c02_softmax_tanh_6-8-8-4", "c03_bce_sigmoid_10-7-1", "c04_mse_tanh_3-4-2",
        "c05_mse_relu_6-8-8-4", "c07_softmax_sigmoid_3-4-2", "c08_bce_multilabel_tanh_5-6-3",
    };

    private static final ObjectMapper JSON = new ObjectMapper();

    /** (case name, mode) for every case in both modes: the arguments of the parameterised oracle tests. */
    public static List<org.junit.jupiter.params.provider.Arguments> inBothModes() {
        List<org.junit.jupiter.params.provider.Arguments> out = new ArrayList<>();
        for (String c : CASES) {
            for (io.hessianatlas.common.hessian.CurvatureMode m : io.hessianatlas.common.hessian.CurvatureMode.values()) {
                out.add(org.junit.jupiter.params.provider.Arguments.of(c, m));
            }
        }
        return out;
    }

    private final String name;
    private final JsonNode root;

    private OracleCase(String name, JsonNode root) {
        this.name = name;
        this.root = root;
    }

    public static OracleCase load(String name) {
        String resource = "/oracle/reference/" + name + ".json";
        try (InputStream in = OracleCase.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            return new OracleCase(name, JSON.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public JsonNode root() {
        return root;
    }

    public int sampleCount() {
        return root.get("N").asInt();
    }

    public Network network() {
        JsonNode layers = root.get("model").get("layers");
        JsonNode acts = root.get("activations");
        List<DenseLayer> out = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            double[][] w = matrix(layers.get(l).get("W"));
            double[] b = vector(layers.get(l).get("b"));
            int rows = w.length;
            int cols = w[0].length;
            double[] flat = new double[rows * cols];
            for (int i = 0; i < rows; i++) {
                System.arraycopy(w[i], 0, flat, i * cols, cols);
            }
            Activation f = l == layers.size() - 1 ? Activation.IDENTITY : Activation.parse(acts.get(l).asText(), null);
            out.add(new DenseLayer("fc" + (l + 1), rows, cols, flat, b, f));
        }
        return new Network(out, Loss.parse(root.get("loss").asText()));
    }

    /** X as (n_0 x N), samples as columns. */
    public INDArray inputs() {
        return Nd4j.create(matrix(root.get("data").get("X"))).transpose().dup('c');
    }

    /** Y as (p x N) (one-hot for softmax). */
    public INDArray targets() {
        return Nd4j.create(matrix(root.get("data").get("Y"))).transpose().dup('c');
    }

    /** Class index per sample: the argmax of the one-hot Y (softmax), or the 0/1 label of binary BCE (-1 if soft). */
    public int[] classLabels() {
        double[][] y = matrix(root.get("data").get("Y"));
        int[] c = new int[y.length];
        for (int s = 0; s < y.length; s++) {
            if (y[s].length == 1) {            // binary cross-entropy: 0 or 1, a soft label names no class
                c[s] = y[s][0] == 0.0 || y[s][0] == 1.0 ? (int) y[s][0] : -1;
                continue;
            }
            for (int k = 1; k < y[s].length; k++) {
                if (y[s][k] > y[s][c[s]]) {
                    c[s] = k;
                }
            }
        }
        return c;
    }

    /** Follows a path of object keys and array indices, e.g. at("kfac", 0, "A_aug"). */
    public JsonNode at(Object... path) {
        JsonNode node = root;
        for (Object key : path) {
            node = key instanceof Integer ? node.get((Integer) key) : node.get((String) key);
            if (node == null) {
                throw new IllegalArgumentException(name + ": no field " + java.util.Arrays.toString(path));
            }
        }
        return node;
    }

    public static double[][] matrix(JsonNode node) {
        double[][] m = new double[node.size()][];
        for (int i = 0; i < node.size(); i++) {
            m[i] = vector(node.get(i));
        }
        return m;
    }

    public static double[] vector(JsonNode node) {
        double[] v = new double[node.size()];
        for (int i = 0; i < node.size(); i++) {
            v[i] = node.get(i).asDouble();
        }
        return v;
    }

    /** A matrix field flattened row-major. */
    public static double[] flat(JsonNode node) {
        double[][] m = matrix(node);
        int cols = m.length == 0 ? 0 : m[0].length;
        double[] f = new double[m.length * cols];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, f, i * cols, cols);
        }
        return f;
    }

    @Override
    public String toString() {
        return name;
    }
}
