package io.hessianatlas.common.curvature;

import java.util.Arrays;

import io.hessianatlas.common.nn.Activation;
import io.hessianatlas.common.nn.DenseLayer;
import io.hessianatlas.common.nn.Network;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Forward pass and first-order back-propagation of one mini-batch (samples as columns), the state
 * that every curvature computation starts from:
 * <pre>
 *   a^0 = x,  z^l = W^l a^{l-1} + b^l,  a^l = f_l(z^l),  ã^{l-1} = [a^{l-1}; 1]
 *   delta^L = dJ/dz^L,  g^l = W^{l+1 T} delta^{l+1},  delta^l = f_l'(z^l) ⊙ g^l
 * </pre>
 * f' and f'' are kept for the layers from {@code lowestLayer} up (f'' only when asked for).
 */
public final class BatchForward {
    final Network network;
    final int batchSize;
    final int lowestLayer;
    final INDArray targets;
    final INDArray[] z;             // [l] (n_l x B), l = 1..L
    final INDArray[] aug;           // [l] = ã^{l-1}  ((n_{l-1}+1) x B)
    final INDArray[] delta;         // [l] (n_l x B), l >= lowestLayer
    final INDArray[] backDelta;     // [l] = W^{l+1 T} delta^{l+1}  (n_l x B), l in [lowest, L-1]
    final INDArray[] fp;            // [l] = f_l'(z^l), l in [lowest, L-1]
    final INDArray[] fpp;           // [l] = f_l''(z^l) or null (piecewise-linear, or not asked for)

    private BatchForward(Network network, int batchSize, int lowestLayer, INDArray targets, INDArray[] z, INDArray[] aug,
                         INDArray[] delta, INDArray[] backDelta, INDArray[] fp, INDArray[] fpp) {
        this.network = network;
        this.batchSize = batchSize;
        this.lowestLayer = lowestLayer;
        this.targets = targets;
        this.z = z;
        this.aug = aug;
        this.delta = delta;
        this.backDelta = backDelta;
        this.fp = fp;
        this.fpp = fpp;
    }

    /**
     * @param inputs  x {@code (n_0 x B)}
     * @param targets y {@code (p x B)} (one-hot for softmax cross-entropy)
     * @param secondDerivatives also keep f''(z^l) of the smooth activations (exact Hessian)
     * @throws IllegalArgumentException when the shapes do not fit the network (both shapes named)
     */
    public static BatchForward compute(Network network, INDArray inputs, INDArray targets, int lowestLayer,
                                       boolean secondDerivatives) {
        int depth = network.depth();
        if (lowestLayer < 1 || lowestLayer > depth) {
            throw new IllegalArgumentException("lowest layer " + lowestLayer + " is outside 1.." + depth);
        }
        if (inputs.rank() != 2 || inputs.rows() != network.inputSize()) {
            throw new IllegalArgumentException("inputs have shape " + Arrays.toString(inputs.shape())
                    + ", expected (" + network.inputSize() + " x B)");
        }
        int b = (int) inputs.columns();
        if (targets.rank() != 2 || targets.rows() != network.outputSize() || targets.columns() != b) {
            throw new IllegalArgumentException("targets have shape " + Arrays.toString(targets.shape())
                    + ", expected (" + network.outputSize() + " x " + b + ") to match inputs "
                    + Arrays.toString(inputs.shape()));
        }
        INDArray x = inputs.dataType() == DataType.DOUBLE ? inputs : inputs.castTo(DataType.DOUBLE);
        INDArray y = targets.dataType() == DataType.DOUBLE ? targets : targets.castTo(DataType.DOUBLE);

        INDArray[] aug = new INDArray[depth + 1];
        INDArray[] z = new INDArray[depth + 1];
        INDArray a = x;
        INDArray ones = Nd4j.ones(DataType.DOUBLE, 1, b);
        for (int l = 1; l <= depth; l++) {
            DenseLayer layer = network.layer(l);
            aug[l] = Nd4j.vstack(a, ones);
            z[l] = layer.weightMatrix().mmul(a).addiColumnVector(layer.biasColumn());
            a = l < depth ? layer.activation().apply(z[l]) : null;
        }
        INDArray[] delta = new INDArray[depth + 1];
        INDArray[] back = new INDArray[depth + 1];
        INDArray[] fp = new INDArray[depth + 1];
        INDArray[] fpp = new INDArray[depth + 1];
        delta[depth] = network.loss().delta(z[depth], y);
        for (int l = depth - 1; l >= lowestLayer; l--) {
            Activation f = network.layer(l).activation();
            fp[l] = f.derivative(z[l]);
            if (secondDerivatives && !f.isPiecewiseLinear()) {
                fpp[l] = f.secondDerivative(z[l]);
            }
            back[l] = network.layer(l + 1).weightMatrix().transpose().mmul(delta[l + 1]);
            delta[l] = back[l].mul(fp[l]);
        }
        return new BatchForward(network, b, lowestLayer, y, z, aug, delta, back, fp, fpp);
    }

    public Network network() {
        return network;
    }

    public int batchSize() {
        return batchSize;
    }

    public int lowestLayer() {
        return lowestLayer;
    }

    /** ã^{l-1} = [a^{l-1}; 1]  ((n_{l-1}+1) x B). */
    public INDArray augmentedInput(int l) {
        return aug[l];
    }

    /** delta^l = dJ/dz^l  (n_l x B). */
    public INDArray delta(int l) {
        return delta[l];
    }

    /** z^L  (p x B). */
    public INDArray logits() {
        return z[network.depth()];
    }

    /** y  (p x B). */
    public INDArray targets() {
        return targets;
    }
}
