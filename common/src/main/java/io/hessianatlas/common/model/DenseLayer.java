package io.hessianatlas.common.model;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

import io.hessianatlas.common.nd4j.BatchWorkspace;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One affine layer {@code z = W a + b}, {@code a' = f(z)}, with W {@code (fanOut x fanIn)} and b
 * {@code (fanOut)}. Immutable: the weights are kept as float64 row-major Java arrays (so that a
 * network serializes cheaply to Spark executors) and turned into ND4J arrays on demand.
 */
public final class DenseLayer implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final int fanIn;
    private final int fanOut;
    private final double[] weights;
    private final double[] bias;
    private final Activation activation;
    private transient volatile INDArray weightCache;
    private transient volatile INDArray weightCache32;
    private transient volatile INDArray augmentedCache64;
    private transient volatile INDArray augmentedCache32;

    /**
     * @param weights W row-major, length fanOut * fanIn ({@code weights[i*fanIn + j] = W[i][j]})
     * @param bias    b, length fanOut (null means zero)
     * @throws IllegalArgumentException naming the layer and both shapes when the lengths do not fit,
     *                                  or the entry when a weight is NaN or infinite
     */
    public DenseLayer(String name, int fanOut, int fanIn, double[] weights, double[] bias, Activation activation) {
        this.name = Objects.requireNonNull(name, "name");
        if (fanOut <= 0 || fanIn <= 0) {
            throw new IllegalArgumentException("layer '" + name + "': weight shape (" + fanOut + " x " + fanIn
                    + ") must have positive dimensions");
        }
        if (weights == null || weights.length != (long) fanOut * fanIn) {
            throw new IllegalArgumentException("layer '" + name + "': weight has " + (weights == null ? 0 : weights.length)
                    + " values, expected (" + fanOut + " x " + fanIn + ") = " + (long) fanOut * fanIn);
        }
        double[] b = bias == null ? new double[fanOut] : bias;
        if (b.length != fanOut) {
            throw new IllegalArgumentException("layer '" + name + "': bias has shape (" + b.length
                    + "), expected (" + fanOut + ") to match weight (" + fanOut + " x " + fanIn + ")");
        }
        checkFinite(name, "weight", weights, fanIn);
        checkFinite(name, "bias", b, 1);
        this.fanIn = fanIn;
        this.fanOut = fanOut;
        this.weights = weights.clone();
        this.bias = b.clone();
        this.activation = Objects.requireNonNull(activation, "activation");
    }

    private static void checkFinite(String layer, String what, double[] values, int rowLength) {
        for (int k = 0; k < values.length; k++) {
            if (!Double.isFinite(values[k])) {
                String at = rowLength == 1 ? "[" + k + "]" : "[" + (k / rowLength) + "][" + (k % rowLength) + "]";
                throw new IllegalArgumentException("layer '" + layer + "': " + what + at + " is " + values[k]
                        + ", expected a finite number");
            }
        }
    }

    public String name() {
        return name;
    }

    public int fanIn() {
        return fanIn;
    }

    public int fanOut() {
        return fanOut;
    }

    /** Number of parameters of θ = [vec W; b]: fanOut * (fanIn + 1). */
    public long parameterCount() {
        return (long) fanOut * (fanIn + 1);
    }

    public Activation activation() {
        return activation;
    }

    /** A copy of W, row-major. */
    public double[] weightsRowMajor() {
        return weights.clone();
    }

    /** A copy of b. */
    public double[] biasValues() {
        return bias.clone();
    }

    /** W as a float64 {@code (fanOut x fanIn)} ND4J array (cached; do not modify). */
    public INDArray weightMatrix() {
        if (weightCache == null) {
            weightCache = BatchWorkspace.outside(() -> Nd4j.create(weights, new long[] {fanOut, fanIn}, 'c'));
        }
        return weightCache;
    }

    /**
     * W in the compute type {@code type} (DOUBLE or FLOAT), {@code (fanOut x fanIn)} (cached; do not modify).
     */
    public INDArray weightMatrix(DataType type) {
        if (type == DataType.DOUBLE) {
            return weightMatrix();
        }
        checkComputeType(type);
        if (weightCache32 == null) {
            INDArray w64 = weightMatrix();
            weightCache32 = BatchWorkspace.outside(() -> w64.castTo(DataType.FLOAT));
        }
        return weightCache32;
    }

    /**
     * W̃ = [W | b] in the compute type {@code type}, {@code (fanOut x (fanIn+1))}, so that
     * z = W̃ ã with ã = [a; 1] is one GEMM (cached; do not modify).
     */
    public INDArray augmentedWeightMatrix(DataType type) {
        checkComputeType(type);
        INDArray cached = type == DataType.DOUBLE ? augmentedCache64 : augmentedCache32;
        if (cached == null) {
            double[] w = new double[fanOut * (fanIn + 1)];
            for (int i = 0; i < fanOut; i++) {
                System.arraycopy(weights, i * fanIn, w, i * (fanIn + 1), fanIn);
                w[i * (fanIn + 1) + fanIn] = bias[i];
            }
            cached = BatchWorkspace.outside(() -> Nd4j.create(w, new long[] {fanOut, fanIn + 1}, 'c').castTo(type));
            if (type == DataType.DOUBLE) {
                augmentedCache64 = cached;
            } else {
                augmentedCache32 = cached;
            }
        }
        return cached;
    }

    private static void checkComputeType(DataType type) {
        if (type != DataType.DOUBLE && type != DataType.FLOAT) {
            throw new IllegalArgumentException("compute type " + type + " is not supported, expected DOUBLE or FLOAT");
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DenseLayer)) {
            return false;
        }
        DenseLayer other = (DenseLayer) o;
        return name.equals(other.name) && fanIn == other.fanIn && fanOut == other.fanOut
                && activation.equals(other.activation) && Arrays.equals(weights, other.weights)
                && Arrays.equals(bias, other.bias);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, fanIn, fanOut, activation, Arrays.hashCode(weights), Arrays.hashCode(bias));
    }

    @Override
    public String toString() {
        return name + "(" + fanIn + " -> " + fanOut + ", " + activation + ")";
    }
}
