package io.hessianatlas.common.model.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.io.onnx.OnnxProto.AttributeProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.GraphProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.NodeProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.TensorProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.TensorShapeProto;
import io.hessianatlas.common.model.io.onnx.OnnxProto.ValueInfoProto;

/**
 * Reads an ONNX graph as a chain of layers ({@link OnnxModelReader} states the grammar). The walk
 * follows one tensor from the graph input: every tensor on the way has exactly one consumer, except
 * a layer's output feeding a decomposed GELU. The nodes of the chain are marked; a node left
 * unmarked at the end (other than a Constant the chain used) is not part of a feed-forward chain
 * and is reported. Nodes are named in messages by their 0-based position in {@code graph.node},
 * their name and op type: {@code node #3 '/1/Relu' (Relu)}.
 *
 * <p><b>Decomposed GELU.</b> Below opset 20 torch.onnx writes {@code nn.GELU(approximate='tanh')} as
 * {@code 0.5 · z · (1 + tanh(c · (z + k · z·z·z)))} in Mul/Add/Tanh nodes on scalar Constants (and
 * {@code nn.GELU()} as {@code 0.5 · z · (1 + erf(z/√2))}). Such a region — the nodes of
 * {@link #ELEMENTWISE} reached from a layer's output whose other inputs are scalar constants, with
 * one tensor leaving it — is evaluated at {@link #PROBES} and taken for the engine's gelu when it
 * agrees with {@code z/2 (1 + tanh(√(2/π)(z + 0.044715 z³)))} within {@link #GELU_TOLERANCE}; a
 * region with Erf is the exact GELU, which the engine does not compute, and is refused.
 */
final class OnnxChain {
    /** Element-wise ops a decomposed activation is made of. */
    private static final Set<String> ELEMENTWISE = Set.of("Mul", "Add", "Sub", "Div", "Pow", "Tanh", "Erf", "Sqrt",
            "Neg", "Reciprocal", "Identity");
    /** Where a decomposed activation is evaluated: both tails, the curved middle, and 0. */
    private static final double[] PROBES = {-8, -4, -3, -2, -1.5, -1, -0.5, -0.25, -0.1, 0, 0.1, 0.25, 0.5, 1, 1.5, 2,
        3, 4, 8};
    /**
     * |f(z) − gelu(z)| ≤ tol · (1 + |gelu(z)|) at every probe. The exporter rounds c and k to float32
     * (relative 6e-8, a change below 1e-7 in f at the probes); the exact GELU differs from the tanh
     * form by up to 5e-4, and any other function by far more.
     */
    private static final double GELU_TOLERANCE = 1e-6;
    private static final double GELU_C = Math.sqrt(2.0 / Math.PI);
    private static final double GELU_K = 0.044715;
    private static final String SUPPORTED = "a feed-forward chain has Gemm or MatMul(+Add) layers, activations Relu, "
            + "LeakyRelu, Tanh, Sigmoid, Softplus, Gelu (tanh approximation) and Identity, Flatten/Reshape of the input "
            + "and a final Softmax, LogSoftmax or Sigmoid";

    private final Path file;
    private final long opset;
    private final List<NodeProto> nodes;
    private final String input;
    private final String output;
    private final ValueInfoProto inputInfo;
    /** Initializers and the outputs of Constant nodes. */
    private final Map<String, TensorProto> constants = new HashMap<>();
    private final Map<String, Integer> producer = new HashMap<>();
    /** The nodes that take a tensor, each once, in graph order. */
    private final Map<String, List<Integer>> consumers = new HashMap<>();
    private final boolean[] onChain;

    private final List<DenseLayer> layers = new ArrayList<>();
    private Pending pending;
    /** The width a Reshape of the input fixed (-1: none or inferred). */
    private long reshapeWidth = -1;
    private boolean inputReshaped;
    private Loss impliedLoss;

    /** A layer read, waiting for its activation. */
    private static final class Pending {
        final int node;
        final int fanOut;
        final int fanIn;
        final double[] weights;
        final double[] bias;
        Activation activation;
        int activationNode = -1;

        Pending(int node, int fanOut, int fanIn, double[] weights, double[] bias) {
            this.node = node;
            this.fanOut = fanOut;
            this.fanIn = fanIn;
            this.weights = weights;
            this.bias = bias;
        }
    }

    private OnnxChain(Path file, long opset, GraphProto graph) {
        this.file = file;
        this.opset = opset;
        this.nodes = graph.getNodeList();
        this.onChain = new boolean[nodes.size()];
        for (TensorProto t : graph.getInitializerList()) {
            constants.put(t.getName(), t);
        }
        if (graph.getSparseInitializerCount() > 0) {
            throw new ModelFormatException(file + ": the graph has sparse initializers, which are not read "
                    + "(expected dense float32 or float64 weights)");
        }
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            if (!isDefaultDomain(n.getDomain())) {
                throw fail(i, "an op of domain '" + n.getDomain() + "', expected the default ONNX domain (" + SUPPORTED + ")");
            }
            for (String out : n.getOutputList()) {
                if (!out.isEmpty()) {
                    producer.put(out, i);
                }
            }
            for (String in : new LinkedHashSet<>(n.getInputList())) {
                if (!in.isEmpty()) {
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
                }
            }
            if (n.getOpType().equals("Constant")) {
                constants.put(n.getOutput(0), constantValue(i));
            }
        }
        List<ValueInfoProto> inputs = new ArrayList<>();
        for (ValueInfoProto v : graph.getInputList()) {
            if (!constants.containsKey(v.getName())) {
                inputs.add(v);
            }
        }
        if (inputs.isEmpty()) {
            throw new ModelFormatException(file + ": the graph has no input (every graph input is an initializer), "
                    + "expected one, the features");
        }
        if (inputs.size() > 1) {
            String second = inputs.get(1).getName();
            List<Integer> users = consumers.getOrDefault(second, List.of());
            throw new ModelFormatException(file + ": the graph has " + inputs.size() + " inputs ('" + inputs.get(0).getName()
                    + "', '" + second + "'" + (inputs.size() > 2 ? ", ..." : "") + "); expected one, the features"
                    + (users.isEmpty() ? "" : " (the second is used by " + describe(users.get(0)) + ")"));
        }
        inputInfo = inputs.get(0);
        input = inputInfo.getName();
        if (graph.getOutputCount() != 1) {
            throw new ModelFormatException(file + ": the graph has " + graph.getOutputCount() + " outputs, expected one");
        }
        output = graph.getOutput(0).getName();
    }

    /** Reads the graph of a model whose default-domain opset is {@code opset}. */
    static OnnxModelReader.Imported read(Path file, long opset, GraphProto graph) {
        return new OnnxChain(file, opset, graph).walk();
    }

    static boolean isDefaultDomain(String domain) {
        return domain.isEmpty() || domain.equals("ai.onnx");
    }

    private OnnxModelReader.Imported walk() {
        String cur = input;
        while (!cur.equals(output)) {
            List<Integer> users = consumers.getOrDefault(cur, List.of());
            if (users.isEmpty()) {
                throw new ModelFormatException(file + ": tensor '" + cur + "' is used by no node and is not the graph "
                        + "output '" + output + "'; expected a chain from input '" + input + "' to the output");
            }
            if (users.size() > 1 && !(openActivation() && allElementwise(users))) {
                throw fail(users.get(1), "takes '" + cur + "', which " + describe(users.get(0))
                        + " takes too: a branch; expected a chain (one consumer per tensor)");
            }
            int i = users.get(0);
            NodeProto n = nodes.get(i);
            if (users.size() > 1 || startsDecomposition(n)) {
                cur = decomposedActivation(cur);
                continue;
            }
            if (n.getInputCount() == 0 || !n.getInput(0).equals(cur)) {
                throw fail(i, "takes '" + cur + "' as input " + n.getInputList().indexOf(cur) + ", expected it as the first input");
            }
            onChain[i] = true;
            switch (n.getOpType()) {
                case "Identity":
                    cur = n.getOutput(0);
                    break;
                case "Flatten":
                case "Reshape":
                    cur = inputReshape(i);
                    break;
                case "Gemm":
                    cur = gemm(i);
                    break;
                case "MatMul":
                    cur = matMul(i);
                    break;
                case "Relu":
                    cur = activation(i, Activation.RELU);
                    break;
                case "LeakyRelu":
                    cur = activation(i, Activation.leakyRelu(decimal(attrFloat(i, "alpha", 0.01f))));
                    break;
                case "Tanh":
                    cur = activation(i, Activation.TANH);
                    break;
                case "Softplus":
                    cur = activation(i, Activation.SOFTPLUS);
                    break;
                case "Gelu":
                    cur = gelu(i);
                    break;
                case "Sigmoid":
                    cur = reachesOutput(n.getOutput(0)) ? finalNode(i, Loss.SIGMOID_BINARY_CROSS_ENTROPY)
                            : activation(i, Activation.SIGMOID);
                    break;
                case "Softmax":
                case "LogSoftmax":
                    cur = softmax(i);
                    break;
                case "Erf":
                    throw fail(i, exactGelu());
                default:
                    throw fail(i, "unsupported op (" + SUPPORTED + ")");
            }
        }
        if (pending == null && layers.isEmpty()) {
            throw new ModelFormatException(file + ": no Gemm or MatMul layer between input '" + input + "' and output '"
                    + output + "' (" + SUPPORTED + ")");
        }
        if (pending != null) {
            if (pending.activation != null) {
                throw fail(pending.activationNode, "the graph ends in the activation " + pending.activation.name()
                        + " after its last linear layer; expected it to end in the logits z^L, or in a Softmax, "
                        + "LogSoftmax or Sigmoid that the loss then owns");
            }
            close(Activation.IDENTITY);
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (!onChain[i] && !usedConstant(i)) {
                throw fail(i, "is not on the chain from input '" + input + "' to output '" + output + "' (" + SUPPORTED + ")");
            }
        }
        checkInputShape();
        int last = producer.getOrDefault(output, -1);
        return new OnnxModelReader.Imported(file, opset, layers, impliedLoss,
                last < 0 ? "input '" + input + "'" : describe(last));
    }

    // ---- layers ----

    /** Gemm(A = x, B, C): Y = alpha A' B' + beta C with transA = 0, alpha = beta = 1; W = B (transB = 1) or Bᵀ. */
    private String gemm(int i) {
        NodeProto n = nodes.get(i);
        requireInputs(i, 2);
        if (attrInt(i, "transA", 0) != 0) {
            throw fail(i, "transA=1, expected 0 (x as the first input, samples as rows)");
        }
        float alpha = attrFloat(i, "alpha", 1f);
        float beta = attrFloat(i, "beta", 1f);
        if (alpha != 1f || beta != 1f) {
            throw fail(i, "alpha " + alpha + ", beta " + beta + ", expected 1 and 1 (as torch.onnx writes nn.Linear)");
        }
        boolean transB = attrInt(i, "transB", 0) != 0;
        TensorProto b = weight(i, n.getInput(1), "weight");
        long[] d = OnnxTensors.dims(b);
        if (d.length != 2 || d[0] <= 0 || d[1] <= 0) {
            throw fail(i, "weight '" + b.getName() + "' has shape " + Arrays.toString(d) + ", expected 2-D "
                    + (transB ? "[out, in]" : "[in, out]"));
        }
        int fanOut = (int) (transB ? d[0] : d[1]);
        int fanIn = (int) (transB ? d[1] : d[0]);
        double[] values = OnnxTensors.floats(b, where(i, "weight '" + b.getName() + "'"));
        double[] w = transB ? values : transpose(values, fanIn, fanOut);
        double[] bias = null;
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            bias = bias(i, weight(i, n.getInput(2), "bias"), fanOut);
        }
        openLayer(i, fanOut, fanIn, w, bias);
        return n.getOutput(0);
    }

    /** MatMul(x, B) with B = Wᵀ [in, out] constant, then an optional Add of a bias [out]. */
    private String matMul(int i) {
        NodeProto n = nodes.get(i);
        requireInputs(i, 2);
        TensorProto b = weight(i, n.getInput(1), "weight");
        long[] d = OnnxTensors.dims(b);
        if (d.length != 2 || d[0] <= 0 || d[1] <= 0) {
            throw fail(i, "weight '" + b.getName() + "' has shape " + Arrays.toString(d) + ", expected 2-D [in, out]");
        }
        int fanIn = (int) d[0];
        int fanOut = (int) d[1];
        double[] w = transpose(OnnxTensors.floats(b, where(i, "weight '" + b.getName() + "'")), fanIn, fanOut);
        String out = n.getOutput(0);
        double[] bias = null;
        List<Integer> users = consumers.getOrDefault(out, List.of());
        if (users.size() == 1 && nodes.get(users.get(0)).getOpType().equals("Add") && !out.equals(output)) {
            int a = users.get(0);
            NodeProto add = nodes.get(a);
            String other = add.getInput(0).equals(out) ? add.getInput(1) : add.getInput(0);
            if (add.getInputCount() == 2 && constants.containsKey(other)) {
                bias = bias(a, weight(a, other, "bias"), fanOut);
                onChain[a] = true;
                out = add.getOutput(0);
            }
        }
        openLayer(i, fanOut, fanIn, w, bias);
        return out;
    }

    private double[] bias(int i, TensorProto c, int fanOut) {
        long[] d = OnnxTensors.dims(c);
        boolean vector = d.length == 1 && d[0] == fanOut || d.length == 2 && d[0] == 1 && d[1] == fanOut;
        if (!vector) {
            throw fail(i, "bias '" + c.getName() + "' has shape " + Arrays.toString(d) + ", expected [" + fanOut + "]");
        }
        return OnnxTensors.floats(c, where(i, "bias '" + c.getName() + "'"));
    }

    /** A layer's weight or bias: a constant that no other node uses. */
    private TensorProto weight(int i, String name, String role) {
        TensorProto t = constants.get(name);
        if (t == null) {
            Integer p = producer.get(name);
            throw fail(i, role + " '" + name + "' is " + (name.equals(input) ? "the graph input"
                    : p != null ? "computed by " + describe(p) : "not defined in the graph")
                    + ", expected an initializer or a Constant (export with do_constant_folding=True)");
        }
        for (int other : consumers.getOrDefault(name, List.of())) {
            if (other != i) {
                int later = Math.max(i, other);
                throw fail(later, "uses " + role + " '" + name + "' of " + describe(Math.min(i, other))
                        + " too: a shared weight; expected each layer to have its own");
            }
        }
        return t;
    }

    private void openLayer(int i, int fanOut, int fanIn, double[] w, double[] bias) {
        if (pending != null) {
            if (fanIn != pending.fanOut) {
                throw fail(i, "has fan-in " + fanIn + " (weight " + fanOut + " x " + fanIn + "), which does not chain with layer "
                        + (layers.size() + 1) + " of " + describe(pending.node) + " with " + pending.fanOut + " outputs");
            }
            close(pending.activation == null ? Activation.IDENTITY : pending.activation);
        } else if (reshapeWidth > 0 && reshapeWidth != fanIn) {
            throw fail(i, "has fan-in " + fanIn + ", but the input is reshaped to width " + reshapeWidth);
        }
        pending = new Pending(i, fanOut, fanIn, w, bias);
    }

    private void close(Activation activation) {
        String name = "fc" + (layers.size() + 1);
        try {
            layers.add(new DenseLayer(name, pending.fanOut, pending.fanIn, pending.weights, pending.bias, activation));
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            String own = "layer '" + name + "': ";
            throw fail(pending.node, msg.startsWith(own) ? msg.substring(own.length()) : msg);
        }
        pending = null;
    }

    // ---- activations and the output ----

    private boolean openActivation() {
        return pending != null && pending.activation == null;
    }

    private String activation(int i, Activation a) {
        if (pending == null) {
            throw fail(i, "an activation before the first Gemm or MatMul layer; expected a layer first");
        }
        if (pending.activation != null) {
            throw fail(i, "a second activation after layer " + (layers.size() + 1) + "'s " + describe(pending.activationNode)
                    + "; expected one per layer");
        }
        pending.activation = a;
        pending.activationNode = i;
        return nodes.get(i).getOutput(0);
    }

    /** Gelu (opset 20): approximate="tanh" is the engine's gelu; "none" (the default) is the exact one. */
    private String gelu(int i) {
        String approximate = attrString(i, "approximate", "none");
        if (approximate.equals("tanh")) {
            return activation(i, Activation.GELU);
        }
        throw fail(i, approximate.equals("none") ? exactGelu() : "approximate='" + approximate + "', expected 'tanh'");
    }

    private static String exactGelu() {
        return "the exact (erf) GELU, which the engine does not compute: its gelu is the tanh approximation "
                + "(export nn.GELU(approximate='tanh'))";
    }

    /** A Softmax or LogSoftmax over the class axis: the last node, naming softmax cross-entropy. */
    private String softmax(int i) {
        long axis = attrInt(i, "axis", opset >= 13 ? -1 : 1);
        if (axis != 1 && axis != -1) {
            throw fail(i, "axis " + axis + ", expected 1 or -1 (the classes of each sample)");
        }
        if (!reachesOutput(nodes.get(i).getOutput(0))) {
            throw fail(i, "is not the last node (followed by more than Identity); expected it to end the graph");
        }
        return finalNode(i, Loss.SOFTMAX_CROSS_ENTROPY);
    }

    /** The output non-linearity: the loss owns it, so the last layer stays linear; Identity nodes may follow. */
    private String finalNode(int i, Loss loss) {
        if (pending == null) {
            throw fail(i, "an output non-linearity without a Gemm or MatMul layer before it");
        }
        if (pending.activation != null) {
            throw fail(i, "follows layer " + (layers.size() + 1) + "'s activation " + describe(pending.activationNode)
                    + "; expected the output non-linearity right after the last linear layer");
        }
        impliedLoss = loss;
        String t = nodes.get(i).getOutput(0);
        while (!t.equals(output)) {
            int next = consumers.get(t).get(0);
            onChain[next] = true;
            t = nodes.get(next).getOutput(0);
        }
        return output;
    }

    /** True when {@code t} is the graph output or reaches it through single-consumer Identity nodes. */
    private boolean reachesOutput(String t) {
        while (!t.equals(output)) {
            List<Integer> users = consumers.getOrDefault(t, List.of());
            if (users.size() != 1 || !nodes.get(users.get(0)).getOpType().equals("Identity")) {
                return false;
            }
            t = nodes.get(users.get(0)).getOutput(0);
        }
        return consumers.getOrDefault(t, List.of()).isEmpty();
    }

    private boolean allElementwise(List<Integer> users) {
        for (int u : users) {
            if (!ELEMENTWISE.contains(nodes.get(u).getOpType())) {
                return false;
            }
        }
        return true;
    }

    /** An element-wise op that is no activation of its own: the start of a decomposed one. */
    private boolean startsDecomposition(NodeProto n) {
        String op = n.getOpType();
        return openActivation() && ELEMENTWISE.contains(op) && !op.equals("Identity") && !op.equals("Tanh")
                && !op.equals("Erf");
    }

    /**
     * The element-wise region reached from {@code z} (class comment): taken as gelu when it evaluates
     * to the tanh-approximation GELU; returns the one tensor leaving it.
     */
    private String decomposedActivation(String z) {
        int layer = layers.size() + 1;
        TreeSet<Integer> region = new TreeSet<>();
        Set<String> known = new LinkedHashSet<>(List.of(z));
        boolean grew = true;
        while (grew) {
            grew = false;
            for (String t : new ArrayList<>(known)) {
                for (int c : consumers.getOrDefault(t, List.of())) {
                    if (region.contains(c) || !ELEMENTWISE.contains(nodes.get(c).getOpType())) {
                        continue;
                    }
                    if (inputsKnown(c, known)) {
                        region.add(c);
                        known.addAll(nodes.get(c).getOutputList());
                        grew = true;
                    }
                }
            }
        }
        List<String> leaving = new ArrayList<>();
        for (String t : known) {
            for (int c : consumers.getOrDefault(t, List.of())) {
                if (region.contains(c)) {
                    continue;
                }
                if (ELEMENTWISE.contains(nodes.get(c).getOpType())) {
                    String outside = null;
                    for (String in : nodes.get(c).getInputList()) {
                        if (!in.isEmpty() && !known.contains(in) && !constants.containsKey(in)) {
                            outside = in;
                        }
                    }
                    throw fail(c, "takes '" + outside + "', which is not computed from layer " + layer + "'s output '" + z
                            + "': a branch or skip connection; expected a chain");
                }
                if (t.equals(z)) {
                    throw fail(c, "takes layer " + layer + "'s output '" + z + "' beside "
                            + (region.isEmpty() ? "other nodes" : "the element-wise " + describe(region.first()))
                            + ": a branch; expected a chain");
                }
                if (!leaving.contains(t)) {
                    leaving.add(t);
                }
            }
            if (t.equals(output) && !leaving.contains(t)) {
                leaving.add(t);
            }
        }
        if (leaving.size() != 1) {
            String second = leaving.size() > 1 ? leaving.get(1) : null;
            int at = second == null ? region.last() : producer.get(second);
            throw fail(at, "the element-wise nodes after layer " + layer + " have " + leaving.size()
                    + " results used outside them " + leaving + "; expected one (an activation)");
        }
        for (int c : region) {
            if (nodes.get(c).getOpType().equals("Erf")) {
                throw fail(c, exactGelu());
            }
        }
        if (!isTanhGelu(region, z)) {
            throw fail(region.first(), "starts " + region.size() + " element-wise nodes (#" + region.first() + " to #"
                    + region.last() + ") after layer " + layer + " that compute no supported activation (" + SUPPORTED
                    + "; a decomposed activation is read only as GELU's tanh approximation)");
        }
        pending.activation = Activation.GELU;
        pending.activationNode = region.first();
        for (int c : region) {
            onChain[c] = true;
        }
        return leaving.get(0);
    }

    private boolean inputsKnown(int c, Set<String> known) {
        for (String in : nodes.get(c).getInputList()) {
            if (!in.isEmpty() && !known.contains(in) && !constants.containsKey(in)) {
                return false;
            }
        }
        return true;
    }

    /** Evaluates the region (graph order is topological) at every probe against the engine's gelu. */
    private boolean isTanhGelu(TreeSet<Integer> region, String z) {
        Map<String, double[]> values = new HashMap<>();
        values.put(z, PROBES.clone());
        for (int c : region) {
            NodeProto n = nodes.get(c);
            double[] a = operand(c, n.getInput(0), values);
            double[] b = n.getInputCount() > 1 ? operand(c, n.getInput(1), values) : null;
            double[] r = new double[PROBES.length];
            for (int p = 0; p < r.length; p++) {
                r[p] = switch (n.getOpType()) {
                    case "Mul" -> a[p] * b[p];
                    case "Add" -> a[p] + b[p];
                    case "Sub" -> a[p] - b[p];
                    case "Div" -> a[p] / b[p];
                    case "Pow" -> Math.pow(a[p], b[p]);
                    case "Tanh" -> Math.tanh(a[p]);
                    case "Sqrt" -> Math.sqrt(a[p]);
                    case "Neg" -> -a[p];
                    case "Reciprocal" -> 1 / a[p];
                    case "Identity" -> a[p];
                    default -> throw new IllegalStateException(n.getOpType());
                };
            }
            values.put(n.getOutput(0), r);
        }
        double[] f = values.get(nodes.get(region.last()).getOutput(0));
        for (int p = 0; p < PROBES.length; p++) {
            double x = PROBES[p];
            double gelu = 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_K * x * x * x)));
            if (!(Math.abs(f[p] - gelu) <= GELU_TOLERANCE * (1 + Math.abs(gelu)))) {
                return false;
            }
        }
        return true;
    }

    private double[] operand(int c, String name, Map<String, double[]> values) {
        double[] v = values.get(name);
        if (v != null) {
            return v;
        }
        double s = OnnxTensors.scalar(constants.get(name), where(c, "constant '" + name + "'"));
        double[] out = new double[PROBES.length];
        Arrays.fill(out, s);
        return out;
    }

    // ---- input ----

    /** Flatten (axis 1) or Reshape to (batch, width) of the input, before the first layer. */
    private String inputReshape(int i) {
        NodeProto n = nodes.get(i);
        if (pending != null || !layers.isEmpty()) {
            throw fail(i, "after the first layer; expected " + n.getOpType() + " only on the input");
        }
        if (n.getOpType().equals("Flatten")) {
            long axis = attrInt(i, "axis", 1);
            if (axis != 1) {
                throw fail(i, "axis " + axis + ", expected 1 (keep the batch, flatten each sample)");
            }
        } else {
            if (n.getInputCount() < 2 || !constants.containsKey(n.getInput(1))) {
                throw fail(i, "takes its shape from a computed tensor, expected a constant (batch, width), e.g. [-1, n]");
            }
            long[] shape = OnnxTensors.ints(constants.get(n.getInput(1)), where(i, "shape '" + n.getInput(1) + "'"));
            boolean ok = shape.length == 2 && shape[0] >= -1 && (shape[1] > 0 || shape[1] == -1 && shape[0] != -1);
            if (!ok) {
                throw fail(i, "shape " + Arrays.toString(shape) + ", expected (batch, width) such as [-1, n]");
            }
            if (shape[1] > 0) {
                reshapeWidth = shape[1];
            }
        }
        inputReshaped = true;
        return n.getOutput(0);
    }

    /** The input's declared shape, when static, must hold n_0 features per sample. */
    private void checkInputShape() {
        if (!inputInfo.hasType() || !inputInfo.getType().hasTensorType()
                || !inputInfo.getType().getTensorType().hasShape()) {
            return;
        }
        TensorShapeProto shape = inputInfo.getType().getTensorType().getShape();
        int rank = shape.getDimCount();
        List<String> shown = new ArrayList<>();
        long perSample = 1;
        boolean known = true;
        for (int k = 0; k < rank; k++) {
            TensorShapeProto.Dimension d = shape.getDim(k);
            shown.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?");
            if (k > 0 || rank == 1) {
                if (d.hasDimValue()) {
                    perSample *= d.getDimValue();
                } else {
                    known = false;
                }
            }
        }
        int n0 = layers.get(0).fanIn();
        if (rank > 2 && !inputReshaped) {
            throw new ModelFormatException(file + ": input '" + input + "' has shape " + shown
                    + ", expected (batch, features) or a Flatten/Reshape of it before the first layer");
        }
        if (rank >= 1 && known && perSample != n0) {
            throw new ModelFormatException(file + ": input '" + input + "' has shape " + shown + ", " + perSample
                    + " features per sample, but the first layer takes " + n0);
        }
    }

    // ---- graph helpers ----

    private void requireInputs(int i, int count) {
        if (nodes.get(i).getInputCount() < count || nodes.get(i).getInput(count - 1).isEmpty()) {
            throw fail(i, nodes.get(i).getInputCount() + " inputs, expected at least " + count);
        }
    }

    /** A Constant node's tensor: its {@code value} attribute. */
    private TensorProto constantValue(int i) {
        for (AttributeProto a : nodes.get(i).getAttributeList()) {
            if (a.getName().equals("value") && a.hasT()) {
                return a.getT();
            }
        }
        throw fail(i, "a Constant without a tensor 'value' attribute, expected value (float32, float64 or int64)");
    }

    /** A Constant node all of whose consumers are on the chain (or that nothing uses). */
    private boolean usedConstant(int i) {
        if (!nodes.get(i).getOpType().equals("Constant")) {
            return false;
        }
        for (int c : consumers.getOrDefault(nodes.get(i).getOutput(0), List.of())) {
            if (!onChain[c]) {
                return false;
            }
        }
        return true;
    }

    private long attrInt(int i, String name, long dflt) {
        AttributeProto a = attribute(i, name);
        if (a == null) {
            return dflt;
        }
        if (a.getType() != AttributeProto.AttributeType.INT) {
            throw fail(i, "attribute " + name + " has type " + a.getType() + ", expected INT");
        }
        return a.getI();
    }

    private float attrFloat(int i, String name, float dflt) {
        AttributeProto a = attribute(i, name);
        if (a == null) {
            return dflt;
        }
        if (a.getType() != AttributeProto.AttributeType.FLOAT) {
            throw fail(i, "attribute " + name + " has type " + a.getType() + ", expected FLOAT");
        }
        return a.getF();
    }

    private String attrString(int i, String name, String dflt) {
        AttributeProto a = attribute(i, name);
        if (a == null) {
            return dflt;
        }
        if (a.getType() != AttributeProto.AttributeType.STRING) {
            throw fail(i, "attribute " + name + " has type " + a.getType() + ", expected STRING");
        }
        return a.getS().toStringUtf8();
    }

    private AttributeProto attribute(int i, String name) {
        for (AttributeProto a : nodes.get(i).getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    /**
     * A float32 attribute as the shortest decimal that rounds to it: ONNX stores attributes in
     * float32, so LeakyReLU(0.01) arrives as 0.0099999998; the exporter was given 0.01.
     */
    static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    /** W row-major [rows x cols] → Wᵀ row-major [cols x rows]. */
    private static double[] transpose(double[] w, int rows, int cols) {
        double[] t = new double[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = w[r * cols + c];
            }
        }
        return t;
    }

    /** {@code node #3 '/1/Relu' (Relu)}. */
    String describe(int i) {
        NodeProto n = nodes.get(i);
        String name = ModelJson.oneLine(n.getName());
        return "node #" + i + (name.isEmpty() ? " (unnamed, " : " '" + name + "' (") + ModelJson.oneLine(n.getOpType()) + ")";
    }

    private String where(int i, String what) {
        return file + ": " + describe(i) + ": " + what;
    }

    private ModelFormatException fail(int i, String what) {
        return new ModelFormatException(where(i, what));
    }
}
