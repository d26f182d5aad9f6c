package io.hessianatlas.common.curvature;

import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.nn.Network;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
            INDArray aug = batch.augmentedInput(l);
            double[] augNorm2 = aug.mul(aug).sum(0).data().asDouble();
            double[] deltaNorm2 = batch.delta(l).mul(batch.delta(l)).sum(0).data().asDouble();
            double[] traceQ;
            if (batch.mode() == CurvatureMode.GGN) {
                INDArray c = batch.factor(l);
                traceQ = c.mul(c).sum(0).reshape('c', b, p).sum(1).data().asDouble();
            } else {
                INDArray q = batch.exactCurvature(l);
                INDArray diag = q.mul(io.hessianatlas.common.nn.BatchLayout.tiledIdentity(n, b, DataType.DOUBLE));
                traceQ = diag.sum(0).reshape('c', b, n).sum(1).data().asDouble();
            }
            trace[li] = new double[b];
            grad[li] = new double[b];
            for (int s = 0; s < b; s++) {
                trace[li][s] = augNorm2[s] * traceQ[s];
                grad[li][s] = Math.sqrt(deltaNorm2[s] * augNorm2[s]);
            }
            if (withLambdaMax) {
                lambda[li] = new double[b];
                int k;
                double[] grams;
                if (batch.mode() == CurvatureMode.GGN && p < n) {
                    INDArray c = batch.factor(l).reshape('c', n, b, p).permute(1, 2, 0).dup('c'); // (B x p x n)
                    grams = Nd4j.matmul(c, c.permute(0, 2, 1).dup('c')).data().asDouble();     // (B x p x p)
                    k = p;
                } else {
                    grams = batch.perSampleCurvature(l).data().asDouble();                      // (B x n x n)
                    k = n;
                }
                for (int s = 0; s < b; s++) {
                    double top = eigen.largestEigenvalue(grams, s * k * k, k);
                    lambda[li][s] = augNorm2[s] * Math.max(top, 0.0);
                }
            }
        }
        return new SampleScores(b, p, layers.clone(), loss, output, predicted, trace, lambda, grad);
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
