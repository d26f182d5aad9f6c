package io.hessianatlas.common.model.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.model.io.onnx.OnnxProto;

/**
 * Reads a feed-forward network from an ONNX file (docs/design.md §6), as {@code torch.onnx.export}
 * writes an MLP: protobuf-java parses the {@code ModelProto} with the classes protoc generates from
 * ONNX's published schema ({@code common/src/main/protobuf/onnx/onnx.proto}); {@link OnnxChain}
 * then reads the graph as one chain from the input to the output:
 * <pre>
 *   [Flatten | Reshape to (batch, n_0)]
 *   ( Gemm(x, W, b)  |  MatMul(x, Wᵀ) [Add b] )  [activation]     per layer, W (n_l × n_{l-1})
 *   ...
 *   [Softmax | LogSoftmax | Sigmoid]                              the output non-linearity
 * </pre>
 * with Identity nodes anywhere in between. The activations are Relu, LeakyRelu (alpha is the
 * slope), Tanh, Sigmoid, Softplus, Gelu with {@code approximate="tanh"} (opset 20) and the tanh-GELU
 * that torch.onnx writes below opset 20 as Mul/Add/Tanh on scalar constants (recognised by
 * evaluation, {@link OnnxChain}). The engine's gelu is the tanh approximation, so the exact (erf)
 * GELU is refused. Weights are float32 or float64 initializers or Constant nodes, widened to
 * float64 exactly. The final non-linearity is not a layer: the loss owns it (§1), so the network's
 * output is z^L, and it names the loss ({@link Imported#impliedLoss}).
 *
 * <p>Layers are named fc1..fcL, as a model.json without names. Anything else (Conv, a branch or skip
 * connection, a weight used by two nodes, an op outside the list, a second input, a default-domain
 * opset below {@value #MIN_OPSET}) is a one-line {@link ModelFormatException} naming the file and
 * the node (its 0-based position in the graph, its name and its op type) and what was expected.
 */
public final class OnnxModelReader {
    /** The oldest default-domain opset read (torch.onnx's oldest target is 7; 9 brought the ops used here). */
    public static final long MIN_OPSET = 9;
    /** protobuf's limit for one message; larger ONNX files keep their tensors in external files, not read. */
    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE;

    /**
     * A graph read as layers.
     *
     * @param file        the ONNX file
     * @param opset       the default-domain opset it imports
     * @param layers      layers 1..L, the last one's activation identity
     * @param impliedLoss the loss its final node names: softmax cross-entropy for Softmax/LogSoftmax,
     *                    binary cross-entropy for Sigmoid; null when the graph ends in the logits
     * @param outputNode  the node that writes the graph output, as messages name it
     */
    public record Imported(Path file, long opset, List<DenseLayer> layers, Loss impliedLoss, String outputNode) {
        public Imported {
            Objects.requireNonNull(file, "file");
            layers = List.copyOf(layers);
            Objects.requireNonNull(outputNode, "outputNode");
        }

        /**
         * The network with loss {@code loss}.
         *
         * @throws ModelFormatException naming the file when the layers do not chain
         */
        public Network network(Loss loss) {
            Objects.requireNonNull(loss, "loss");
            try {
                return new Network(layers, loss);
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(file + ": " + e.getMessage(), e);
            }
        }

        /**
         * The network with the loss the graph names.
         *
         * @throws ModelFormatException naming the file and its output node when the graph ends in the logits
         */
        public Network network() {
            if (impliedLoss == null) {
                throw new ModelFormatException(file + ": the graph ends in the logits (" + outputNode
                        + " writes the output), so it names no loss; expected a final Softmax, LogSoftmax or Sigmoid, "
                        + "or a loss given with the model");
            }
            return network(impliedLoss);
        }
    }

    private OnnxModelReader() {
    }

    /**
     * Parses {@code file} and reads its graph as layers.
     *
     * @throws ModelFormatException naming the file (and node) when it is missing, not an ONNX model
     *                              or not a feed-forward chain this engine reads
     */
    public static Imported read(Path file) {
        OnnxProto.ModelProto model = parse(file);
        long opset = defaultOpset(file, model);
        return OnnxChain.read(file, opset, model.getGraph());
    }

    /** Parses the ModelProto: one line naming the file for any I/O or protobuf failure. */
    static OnnxProto.ModelProto parse(Path file) {
        Objects.requireNonNull(file, "file");
        long size;
        try {
            if (!Files.isRegularFile(file)) {
                throw new ModelFormatException(file + (Files.exists(file) ? ": not a regular file" : ": not found")
                        + " (expected an ONNX model file)");
            }
            size = Files.size(file);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + ModelJson.oneLine(String.valueOf(e)), e);
        }
        if (size > MAX_FILE_BYTES) {
            throw new ModelFormatException(file + ": " + size + " bytes, over protobuf's 2 GiB limit for an ONNX "
                    + "model (models this large keep their weights in external data files, which are not read)");
        }
        OnnxProto.ModelProto model;
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE);
            model = OnnxProto.ModelProto.parseFrom(coded);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelFormatException(file + ": not an ONNX model (protobuf: "
                    + ModelJson.oneLine(String.valueOf(e.getMessage())) + ")", e);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file + ": not found", e);
        } catch (AccessDeniedException e) {
            throw new ModelFormatException(file + ": not readable (access denied)", e);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + ModelJson.oneLine(String.valueOf(e)), e);
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new ModelFormatException(file + ": not an ONNX model: no graph with nodes"
                    + (size == 0 ? " (the file is empty)" : " (ir_version " + model.getIrVersion() + ")"));
        }
        return model;
    }

    /** The version of the default domain ("" or "ai.onnx") the model imports, at least {@link #MIN_OPSET}. */
    private static long defaultOpset(Path file, OnnxProto.ModelProto model) {
        Long opset = null;
        for (OnnxProto.OperatorSetIdProto id : model.getOpsetImportList()) {
            if (OnnxChain.isDefaultDomain(id.getDomain())) {
                opset = id.getVersion();
            }
        }
        if (opset == null) {
            throw new ModelFormatException(file + ": imports no default-domain (ai.onnx) opset, expected opset "
                    + MIN_OPSET + " or later");
        }
        if (opset < MIN_OPSET) {
            throw new ModelFormatException(file + ": opset " + opset + ", expected " + MIN_OPSET
                    + " or later (export with opset_version=" + MIN_OPSET + " or higher)");
        }
        return opset;
    }

    /**
     * SHA-256 (lower-case hex) of the file's bytes, for run manifests.
     *
     * @throws ModelFormatException when the file is missing or unreadable
     */
    public static String digest(Path file) {
        return FileDigest.sha256(List.of(file));
    }
}
