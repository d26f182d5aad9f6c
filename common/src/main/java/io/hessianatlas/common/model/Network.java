package io.hessianatlas.common.model;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An immutable feed-forward network: layers 1..L chained by fan-in/fan-out, and the loss that
 * takes the logits z^L. The last layer's activation must be identity (its non-linearity belongs
 * to the loss, docs/design.md §6).
 */
public final class Network implements Serializable {
    private static final long serialVersionUID = 1L;

    private final List<DenseLayer> layers;
    private final Loss loss;

    /**
     * @throws IllegalArgumentException when there are no layers, consecutive shapes do not chain
     *                                  (the message names both layers and both shapes), or the
     *                                  last layer's activation is not identity
     */
    public Network(List<DenseLayer> layers, Loss loss) {
        Objects.requireNonNull(layers, "layers");
        this.loss = Objects.requireNonNull(loss, "loss");
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a network needs at least one layer");
        }
        for (int l = 1; l < layers.size(); l++) {
            DenseLayer prev = layers.get(l - 1);
            DenseLayer cur = layers.get(l);
            if (cur.fanIn() != prev.fanOut()) {
                throw new IllegalArgumentException("layer " + (l + 1) + " '" + cur.name() + "' has weight ("
                        + cur.fanOut() + " x " + cur.fanIn() + "), which does not chain with layer " + l + " '"
                        + prev.name() + "' of weight (" + prev.fanOut() + " x " + prev.fanIn() + "): expected fan-in "
                        + prev.fanOut());
            }
        }
        DenseLayer last = layers.get(layers.size() - 1);
        if (last.activation().kind() != Activation.Kind.IDENTITY) {
            throw new IllegalArgumentException("last layer '" + last.name() + "' has activation " + last.activation()
                    + ", expected identity (the output non-linearity belongs to the loss " + loss.jsonName() + ")");
        }
        this.layers = List.copyOf(new ArrayList<>(layers));
    }

    /** Layers in order; {@code layers().get(l-1)} is layer l. */
    public List<DenseLayer> layers() {
        return layers;
    }

    /** Layer l, 1-based as in docs/design.md §1. */
    public DenseLayer layer(int l) {
        return layers.get(l - 1);
    }

    public int depth() {
        return layers.size();
    }

    public Loss loss() {
        return loss;
    }

    public int inputSize() {
        return layers.get(0).fanIn();
    }

    public int outputSize() {
        return layers.get(layers.size() - 1).fanOut();
    }

    /** Classes its labels name ({@link Loss#classCount}); 0 when labels are not classes. */
    public int classCount() {
        return loss.classCount(outputSize());
    }

    public long parameterCount() {
        long n = 0;
        for (DenseLayer layer : layers) {
            n += layer.parameterCount();
        }
        return n;
    }

    /** Widths [n_0, n_1, ..., n_L]. */
    public int[] widths() {
        int[] w = new int[layers.size() + 1];
        w[0] = inputSize();
        for (int l = 0; l < layers.size(); l++) {
            w[l + 1] = layers.get(l).fanOut();
        }
        return w;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Network && ((Network) o).loss == loss && ((Network) o).layers.equals(layers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(layers, loss);
    }

    @Override
    public String toString() {
        return "Network" + layers + " + " + loss.jsonName();
    }
}
