package io.hessianatlas.common.curvature;

import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.nn.BatchLayout;
import io.hessianatlas.common.nn.Network;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Cheap exact per-sample scores of one mini-batch (DESIGN.md §4), for every analysed layer:
 * <pre>
 *   trace_s      = tr H_θ,s = ||ã_s||² tr Q_s
 *   lambdaMax_s  = λ_max((ã_s ã_sᵀ) ⊗ Q_s) = ||ã_s||² max(λ_max(Q_s), 0)
 *   gradNorm_s   = ||δ_s ã_sᵀ||_F = ||δ_s|| ||ã_s||
 * </pre>
 * plus the loss, the output a^L and (softmax) the predicted class. In ggn mode λ_max(Q_s) is taken
 * from the smaller of C_sᵀ C_s (p x p) and C_s C_sᵀ (n x n). The many small eigenproblems are solved
 * in plain Java ({@link SymmetricEigen}) on one bulk copy of the batched Gram matrices.
 * Arrays are indexed {@code [layerIndex][sample]} with layerIndex the position in {@link #layers()}.
 */
public final class SampleScores {
    private final int batchSize;
    private final int outputWidth;
    private final int[] layers;
    private final double[] loss;
    private final double[] output;       // [s*p + k]
    private final int[] predictedClass;  // -1 when the loss is not a classification
    private final double[][] trace;
    private final double[][] lambdaMax;  // null when not computed
    private final double[][] gradNorm;

    private SampleScores(int batchSize, int outputWidth, int[] layers, double[] loss, double[] output,
                         int[] predictedClass, double[][] trace, double[][] lambdaMax, double[][] gradNorm) {
        this.batchSize = batchSize;
        this.outputWidth = outputWidth;
        this.layers = layers;
        this.loss = loss;
        this.output = output;
        this.predictedClass = predictedClass;
        this.trace = trace;
        this.lambdaMax = lambdaMax;
        this.gradNorm = gradNorm;
    }

    /**
     * @param layers          1-based layers to score (each must have been computed by the batch)
     * @param withLambdaMax   solve the per-sample eigenproblems (the costly part)
     * @param eigen           a reusable solver (one per task; not thread-safe)
     */
    public static SampleScores compute(BatchCurvature batch, int[] layers, boolean withLambdaMax, SymmetricEigen eigen) {
        Network network = batch.network();
        int b = batch.batchSize();
        int p = network.outputSize();
        double[] loss = batch.losses().data().asDouble();
        INDArray out = batch.output();
        double[] output = out.transpose().dup('c').data().asDouble();
        int[] predicted = new int[b];
        if (network.loss().isClassification()) {
            for (int s = 0; s < b; s++) {
                int best = 0;
                for (int k = 1; k < p; k++) {
                    if (output[s * p + k] > output[s * p + best]) {
                        best = k;
                    }
                }
                predicted[s] = best;
            }
        } else {
            java.util.Arrays.fill(predicted, -1);
        }

        double[][] trace = new double[layers.length][];
        double[][] lambda = withLambdaMax ? new double[layers.length][] : null;
        double[][] grad = new double[layers.length][];
        for (int li = 0; li < layers.length; li++) {
            int l = layers[li];
            int n = network.layer(l).fanOut();
            // one bulk copy per array, then plain loops: no ND4J op (and no allocation) per reduction
            double[] augNorm2 = BatchLayout.columnSquaredNorms(BatchLayout.rowMajorValues(batch.augmentedInput(l)), b);
            double[] deltaNorm2 = BatchLayout.columnSquaredNorms(BatchLayout.rowMajorValues(batch.delta(l)), b);
            double[] values;
            int k;
            if (batch.mode() == CurvatureMode.GGN) {
                values = BatchLayout.rowMajorValues(batch.factor(l));                 // C (n x pB)
                k = p;
            } else {
                values = BatchLayout.rowMajorValues(batch.exactCurvature(l));         // Q (n x nB)
                k = n;
            }
            double[] traceQ = batch.mode() == CurvatureMode.GGN
                    ? blockFrobenius2(values, n, b, p) : blockTraces(values, n, b);
            trace[li] = new double[b];
            grad[li] = new double[b];
            for (int s = 0; s < b; s++) {
                trace[li][s] = augNorm2[s] * traceQ[s];
                grad[li][s] = Math.sqrt(deltaNorm2[s] * augNorm2[s]);
            }
            if (withLambdaMax) {
                lambda[li] = new double[b];
                double[] grams;
                if (batch.mode() == CurvatureMode.GGN) {
                    // the smaller Gram matrix of C_s: C_sᵀ C_s (p x p) or C_s C_sᵀ (n x n), same non-zero spectrum
                    if (p < n) {
                        grams = factorGrams(values, n, b, p);
                        k = p;
                    } else {
                        grams = factorOuterGrams(values, n, b, p);
                        k = n;
                    }
                } else {
                    grams = null;
                }
                for (int s = 0; s < b; s++) {
                    double top = grams != null ? eigen.largestEigenvalue(grams, s * k * k, k)
                            // exact Q_s is row i of block s: entry (i, j) at i*nB + s*n + j
                            : eigen.largestEigenvalue(values, s * n, n, n * b);
                    lambda[li][s] = augNorm2[s] * Math.max(top, 0.0);
                }
            }
        }
        return new SampleScores(b, p, layers.clone(), loss, output, predicted, trace, lambda, grad);
    }

    /** ||C_s||_F² per sample of C {@code (n x kB)} sample-major, row-major values. */
    private static double[] blockFrobenius2(double[] c, int n, int b, int k) {
        double[] out = new double[b];
        int cols = k * b;
        for (int i = 0; i < n; i++) {
            int row = i * cols;
            for (int s = 0; s < b; s++) {
                int o = row + s * k;
                double t = 0;
                for (int j = 0; j < k; j++) {
                    double v = c[o + j];
                    t += v * v;
                }
                out[s] += t;
            }
        }
        return out;
    }

    /** tr Q_s per sample of Q {@code (n x nB)} sample-major, row-major values. */
    private static double[] blockTraces(double[] q, int n, int b) {
        double[] out = new double[b];
        int cols = n * b;
        for (int s = 0; s < b; s++) {
            double t = 0;
            for (int i = 0; i < n; i++) {
                t += q[i * cols + s * n + i];
            }
            out[s] = t;
        }
        return out;
    }

    /**
     * C_sᵀ C_s {@code (k x k)} for every sample of C {@code (n x kB)} sample-major (row-major values),
     * returned as B consecutive row-major blocks. Streams C once; only the upper triangle is summed.
     */
    static double[] factorGrams(double[] c, int n, int b, int k) {
        double[] g = new double[b * k * k];
        int cols = k * b;
        for (int i = 0; i < n; i++) {
            int row = i * cols;
            for (int s = 0; s < b; s++) {
                int o = row + s * k;
                int go = s * k * k;
                for (int a = 0; a < k; a++) {
                    double ca = c[o + a];
                    if (ca == 0.0) {
                        continue;   // dead ReLU units zero whole rows of C_s
                    }
                    int ga = go + a * k;
                    for (int e = a; e < k; e++) {
                        g[ga + e] += ca * c[o + e];
                    }
                }
            }
        }
        mirrorUpper(g, b, k);
        return g;
    }

    /** C_s C_sᵀ {@code (n x n)} for every sample of C {@code (n x kB)} sample-major (row-major values). */
    static double[] factorOuterGrams(double[] c, int n, int b, int k) {
        double[] g = new double[b * n * n];
        int cols = k * b;
        for (int s = 0; s < b; s++) {
            int go = s * n * n;
            for (int i = 0; i < n; i++) {
                int oi = i * cols + s * k;
                for (int j = i; j < n; j++) {
                    int oj = j * cols + s * k;
                    double t = 0;
                    for (int a = 0; a < k; a++) {
                        t += c[oi + a] * c[oj + a];
                    }
                    g[go + i * n + j] = t;
                }
            }
        }
        mirrorUpper(g, b, n);
        return g;
    }

    private static void mirrorUpper(double[] g, int b, int k) {
        for (int s = 0; s < b; s++) {
            int go = s * k * k;
            for (int a = 0; a < k; a++) {
                for (int e = a + 1; e < k; e++) {
                    g[go + e * k + a] = g[go + a * k + e];
                }
            }
        }
    }

    public int batchSize() {
        return batchSize;
    }

    public int outputWidth() {
        return outputWidth;
    }

    public int[] layers() {
        return layers.clone();
    }

    public double loss(int s) {
        return loss[s];
    }

    /** a^L of sample s, length p. */
    public double[] output(int s) {
        double[] o = new double[outputWidth];
        System.arraycopy(output, s * outputWidth, o, 0, outputWidth);
        return o;
    }

    /** argmax of the softmax output, or -1 for non-classification losses. */
    public int predictedClass(int s) {
        return predictedClass[s];
    }

    public double trace(int layerIndex, int s) {
        return trace[layerIndex][s];
    }

    public boolean hasLambdaMax() {
        return lambdaMax != null;
    }

    public double lambdaMax(int layerIndex, int s) {
        if (lambdaMax == null) {
            throw new IllegalStateException("lambda_max was not computed for this batch");
        }
        return lambdaMax[layerIndex][s];
    }

    public double gradNorm(int layerIndex, int s) {
        return gradNorm[layerIndex][s];
    }

    /** Σ_s trace of layer index li over the batch. */
    double traceSum(int layerIndex) {
        double t = 0;
        for (double v : trace[layerIndex]) {
            t += v;
        }
        return t;
    }
}
