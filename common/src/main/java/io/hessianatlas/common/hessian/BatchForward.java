package io.hessianatlas.common.hessian;

import java.util.Arrays;

import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Network;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Forward pass and first-order back-propagation of one mini-batch (samples as columns), the state
 * that every curvature computation starts from (docs/design.md §1-§2):
 * <pre>
 *   forward   a^0 = x,  z^l = W^l a^{l-1} + b^l,  a^l = f_l(z^l),  ã^{l-1} = [a^{l-1}; 1]   {@link #preActivation}
 *   delta     δ^L = dJ/dz^L,  g^l = W^{l+1 T} δ^{l+1},  δ^l = f_l'(z^l) ⊙ g^l                {@link #deltaRecursion}
 *   residual  r^l = f_l''(z^l) ⊙ g^l  (exact Hessian only)                                     {@link #curvatureResidual}
 * </pre>
 * f' and f'' are kept for the layers from {@code lowestLayer} up (f'' only when asked for).
 */
public final class BatchForward {
    final Network network;
    final int batchSize;
    final int lowestLayer;
    final INDArray targets;
    final INDArray logits;          // z^L in float64 (the loss is always evaluated in float64)
    final INDArray[] z;             // [l] (n_l x B), l = 1..L
    final INDArray[] aug;           // [l] = ã^{l-1}  ((n_{l-1}+1) x B)
    final INDArray[] delta;         // [l] (n_l x B), l >= lowestLayer
    final INDArray[] backDelta;     // [l] = W^{l+1 T} delta^{l+1}  (n_l x B), l in [lowest, L-1]
    final INDArray[] fp;            // [l] = f_l'(z^l), l in [lowest, L-1]
    final INDArray[] fpp;           // [l] = f_l''(z^l) or null (piecewise-linear, or not asked for)

    private BatchForward(Network network, int batchSize, int lowestLayer, INDArray targets, INDArray logits,
                         INDArray[] z, INDArray[] aug,
                         INDArray[] delta, INDArray[] backDelta, INDArray[] fp, INDArray[] fpp) {
        this.network = network;
        this.batchSize = batchSize;
        this.lowestLayer = lowestLayer;
        this.targets = targets;
        this.logits = logits;
        this.z = z;
        this.aug = aug;
        this.delta = delta;
        this.backDelta = backDelta;
        this.fp = fp;
        this.fpp = fpp;
    }

    /**
     * @param inputs  x {@code (n_0 x B)}; its data type (DOUBLE or FLOAT) is the compute type of
     *                every array of the batch
     * @param targets y {@code (p x B)} (one-hot for softmax cross-entropy)
     * @param secondDerivatives also keep f''(z^l) of the smooth activations (exact Hessian)
     * @throws IllegalArgumentException when the shapes do not fit the network (both shapes named)
     */
    public static BatchForward compute(Network network, INDArray inputs, INDArray targets, int lowestLayer,
                                       boolean secondDerivatives) {
        if (inputs.rank() != 2 || inputs.rows() != network.inputSize()) {
            throw new IllegalArgumentException("inputs have shape " + Arrays.toString(inputs.shape())
                    + ", expected (" + network.inputSize() + " x B)");
        }
        return computeAugmented(network, augment(inputs), targets, lowestLayer, secondDerivatives);
    }

    /**
     * The same from ã^0 = [x; 1] {@code ((n_0+1) x B)}, the form in which an input batch is built
     * once (no copy here). Its data type (DOUBLE or FLOAT) is the compute type: weights, z, a, δ, f'
     * and everything propagated from them are kept in it; the loss terms are evaluated in float64.
     *
     * @throws IllegalArgumentException when the shapes do not fit the network (both shapes named),
     *                                  or the last row is not all ones
     */
    public static BatchForward computeAugmented(Network network, INDArray augmentedInputs, INDArray targets,
                                                int lowestLayer, boolean secondDerivatives) {
        int depth = network.depth();
        if (lowestLayer < 1 || lowestLayer > depth) {
            throw new IllegalArgumentException("lowest layer " + lowestLayer + " is outside 1.." + depth);
        }
        int n0 = network.inputSize();
        if (augmentedInputs.rank() != 2 || augmentedInputs.rows() != n0 + 1) {
            throw new IllegalArgumentException("augmented inputs have shape " + Arrays.toString(augmentedInputs.shape())
                    + ", expected (" + (n0 + 1) + " x B)");
        }
        DataType type = augmentedInputs.dataType();
        if (type != DataType.DOUBLE && type != DataType.FLOAT) {
            throw new IllegalArgumentException("inputs have data type " + type + ", expected DOUBLE or FLOAT");
        }
        int b = (int) augmentedInputs.columns();
        if (targets.rank() != 2 || targets.rows() != network.outputSize() || targets.columns() != b) {
            throw new IllegalArgumentException("targets have shape " + Arrays.toString(targets.shape())
                    + ", expected (" + network.outputSize() + " x " + b + ") to match inputs "
                    + Arrays.toString(augmentedInputs.shape()));
        }
        INDArray onesRow = augmentedInputs.getRow(n0);
        if (onesRow.minNumber().doubleValue() != 1.0 || onesRow.maxNumber().doubleValue() != 1.0) {
            throw new IllegalArgumentException("augmented inputs: row " + n0 + " must be all ones");
        }
        INDArray y = targets.dataType() == DataType.DOUBLE ? targets : targets.castTo(DataType.DOUBLE);

        INDArray[] aug = new INDArray[depth + 1];
        INDArray[] z = new INDArray[depth + 1];
        aug[1] = augmentedInputs;
        for (int l = 1; l <= depth; l++) {
            DenseLayer layer = network.layer(l);
            z[l] = preActivation(layer, aug[l]);
            if (l < depth) {
                aug[l + 1] = augment(layer.activation().apply(z[l]));
            }
        }
        INDArray[] delta = new INDArray[depth + 1];
        INDArray[] back = new INDArray[depth + 1];
        INDArray[] fp = new INDArray[depth + 1];
        INDArray[] fpp = new INDArray[depth + 1];
        INDArray logits = inType(z[depth], DataType.DOUBLE);
        delta[depth] = inType(network.loss().delta(logits, y), type);
        for (int l = depth - 1; l >= lowestLayer; l--) {
            Activation f = network.layer(l).activation();
            fp[l] = f.derivative(z[l]);
            if (secondDerivatives && !f.isPiecewiseLinear()) {
                fpp[l] = f.secondDerivative(z[l]);
            }
            back[l] = Nd4j.createUninitialized(type, new long[] {network.layer(l).fanOut(), b}, 'c');
            delta[l] = deltaRecursion(network.layer(l + 1).weightMatrix(type), delta[l + 1], fp[l], back[l]);
        }
        return new BatchForward(network, b, lowestLayer, y, logits, z, aug, delta, back, fp, fpp);
    }

    /**
     * The affine step of layer l: {@code z^l = W^l a^{l-1} + b^l = [W^l b^l] ã^{l-1}}, with
     * [W b] {@code (n_l x (n_{l-1}+1))} and ã^{l-1} {@code ((n_{l-1}+1) x B)} giving z^l {@code (n_l x B)}
     * in ã's data type. The bias rides in the GEMM, written into a preallocated result (no layout copy).
     */
    static INDArray preActivation(DenseLayer layer, INDArray augmentedInput) {
        INDArray z = Nd4j.createUninitialized(augmentedInput.dataType(),
                new long[] {layer.fanOut(), augmentedInput.columns()}, 'c');
        Nd4j.gemm(layer.augmentedWeightMatrix(augmentedInput.dataType()), augmentedInput, z, false, false, 1.0, 0.0);
        return z;
    }

    /**
     * The delta recursion (docs/design.md §2), one layer down:
     * <pre>
     *   g^l = W^{l+1 T} δ^{l+1}        W^{l+1} (n_{l+1} x n_l),  δ^{l+1} (n_{l+1} x B)  →  (n_l x B)
     *   δ^l = f_l'(z^l) ⊙ g^l          f_l'(z^l) (n_l x B)                             →  (n_l x B)
     * </pre>
     * g^l is written into {@code backDelta} (preallocated {@code (n_l x B)}) because the residual
     * r^l = f_l'' ⊙ g^l of the Q recursion needs it too.
     *
     * @return δ^l, a new array
     */
    static INDArray deltaRecursion(INDArray wUp, INDArray deltaUp, INDArray fp, INDArray backDelta) {
        Nd4j.gemm(wUp, deltaUp, backDelta, true, false, 1.0, 0.0);
        return backDelta.mul(fp);
    }

    /**
     * The residual of the Q recursion (docs/design.md §2), {@code r^l = f_l''(z^l) ⊙ W^{l+1 T} δ^{l+1}}
     * {@code (n_l x B)}, a new array; null when f'' was not kept (piecewise-linear f_l, where r^l = 0,
     * or no second derivatives asked for).
     */
    INDArray curvatureResidual(int l) {
        return fpp[l] == null ? null : fpp[l].mul(backDelta[l]);
    }

    /** ã = [x; 1] {@code ((n+1) x B)} in x's data type, row-major (the top rows are one contiguous block). */
    public static INDArray augment(INDArray x) {
        long n = x.rows();
        INDArray aug = Nd4j.createUninitialized(x.dataType(), new long[] {n + 1, x.columns()}, 'c');
        aug.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).assign(x);
        aug.getRow(n).assign(1.0);
        return aug;
    }

    /** x in the compute type (a float64 loss term cast once). */
    public static INDArray inType(INDArray x, DataType type) {
        return x.dataType() == type ? x : x.castTo(type);
    }

    /** The compute type of the batch (DOUBLE or FLOAT). */
    public DataType dataType() {
        return aug[1].dataType();
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

    /** z^L  (p x B), float64 whatever the compute type. */
    public INDArray logits() {
        return logits;
    }

    /** y  (p x B). */
    public INDArray targets() {
        return targets;
    }
}
