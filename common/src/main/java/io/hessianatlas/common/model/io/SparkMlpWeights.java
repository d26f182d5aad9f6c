package io.hessianatlas.common.model.io;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;

/**
 * Decodes the flat weight vector of a Spark ML {@code MultilayerPerceptronClassificationModel}.
 * For layer l (1-based) with {@code nIn = sizes[l-1]}, {@code nOut = sizes[l]}, the vector holds,
 * in order, {@code nOut * nIn} values of W stored column-major (Breeze
 * {@code DenseMatrix(nOut, nIn, data, offset)}: {@code W[i][j] = data[offset + j * nOut + i]}),
 * then the {@code nOut} biases. Total length: sum over layers of {@code nOut * (nIn + 1)}.
 * Hidden layers are sigmoid, the last layer identity, loss softmax cross-entropy; layers are
 * named "fc1", "fc2", ... and W is converted to {@link DenseLayer}'s row-major layout.
 */
public final class SparkMlpWeights {
    private SparkMlpWeights() {
    }

    /** Same as {@link #decode(int[], double[], String)} with source "Spark MLP weights". */
    public static Network decode(int[] layerSizes, double[] flatWeights) {
        return decode(layerSizes, flatWeights, "Spark MLP weights");
    }

    /**
     * @param layerSizes  [n_0, n_1, ..., n_L], at least 2 entries, all positive
     * @param flatWeights the model's {@code weights} vector
     * @param source      what to name in error messages (e.g. the model directory)
     * @throws ModelFormatException when the sizes are invalid, the length does not match (both
     *                              numbers are stated) or a weight is NaN/infinite
     */
    public static Network decode(int[] layerSizes, double[] flatWeights, String source) {
        if (layerSizes == null || layerSizes.length < 2) {
            throw new ModelFormatException(source + ": layers " + Arrays.toString(layerSizes)
                    + " must list at least 2 sizes (input and output)");
        }
        for (int s : layerSizes) {
            if (s <= 0) {
                throw new ModelFormatException(source + ": layers " + Arrays.toString(layerSizes)
                        + " must all be positive");
            }
        }
        long expected = 0;
        for (int l = 1; l < layerSizes.length; l++) {
            expected += (long) layerSizes[l] * (layerSizes[l - 1] + 1L);
        }
        if (flatWeights == null || flatWeights.length != expected) {
            throw new ModelFormatException(source + ": weight vector has " + (flatWeights == null ? 0 : flatWeights.length)
                    + " values, expected " + expected + " = sum of nOut * (nIn + 1) for layers "
                    + Arrays.toString(layerSizes));
        }
        List<DenseLayer> layers = new ArrayList<>();
        int offset = 0;
        for (int l = 1; l < layerSizes.length; l++) {
            int nIn = layerSizes[l - 1];
            int nOut = layerSizes[l];
            double[] w = new double[nOut * nIn];
            for (int i = 0; i < nOut; i++) {
                for (int j = 0; j < nIn; j++) {
                    w[i * nIn + j] = flatWeights[offset + j * nOut + i];
                }
            }
            offset += nOut * nIn;
            double[] b = Arrays.copyOfRange(flatWeights, offset, offset + nOut);
            offset += nOut;
            Activation act = l == layerSizes.length - 1 ? Activation.IDENTITY : Activation.SIGMOID;
            try {
                layers.add(new DenseLayer("fc" + l, nOut, nIn, w, b, act));
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(source + ": " + e.getMessage(), e);
            }
        }
        return new Network(layers, Loss.SOFTMAX_CROSS_ENTROPY);
    }
}
