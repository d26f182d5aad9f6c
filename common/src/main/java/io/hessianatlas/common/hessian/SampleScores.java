package io.hessianatlas.common.hessian;

import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchLayout;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cheap exact per-sample scores of one mini-batch (docs/design.md §4), for every analysed layer:
 * <pre>
 *   trace_s      = tr H_θ,s = ||ã_s||² tr Q_s
 *   lambdaMax_s  = λ_max((ã_s ã_sᵀ) ⊗ Q_s) = ||ã_s||² max(λ_max(Q_s), 0)
 *   gradNorm_s   = ||δ_s ã_sᵀ||_F = ||δ_s|| ||ã_s||
 * </pre>
 * plus the loss, the output a^L and (softmax) the predicted class. In ggn mode λ_max(Q_s) is taken
 * from the smaller of C_sᵀ C_s (p x p) and C_s C_sᵀ (n x n), all formed by one batched GEMM. The many
 * small eigenproblems are solved in plain Java ({@link SymmetricEigen}: tridiagonal reduction, then
 * λ_max alone by a certified Laguerre iteration) on one bulk copy of the Gram matrices; the squared
 * column norms are plain loops over chunks read in bulk from the arrays' buffers
 * ({@link BatchLayout#columnSquaredNorms(INDArray)}).
 * Arrays are indexed {@code [layerIndex][sample]} with layerIndex the position in {@link #layers()}.
 */
public final class SampleScores {
    private final int batchSize;
    private final int outputWidth;
    private final int[] layers;
    private final double[] loss;
    private final double[] output;       // [s*p + k]
    private final int[] predictedClass;  // -1 when labels are not classes (Loss#classCount)
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
        for (int s = 0; s < b; s++) {
            predicted[s] = network.loss().predictedClass(output, s * p, p);
        }

        double[][] trace = new double[layers.length][];
        double[][] lambda = withLambdaMax ? new double[layers.length][] : null;
        double[][] grad = new double[layers.length][];
        for (int li = 0; li < layers.length; li++) {
            int l = layers[li];
            int n = network.layer(l).fanOut();
            // norms from bulk chunks of each array's buffer: no ND4J op, no whole copy, no per-element call
            double[] augNorm2 = BatchLayout.columnSquaredNorms(batch.augmentedInput(l));
            double[] deltaNorm2 = BatchLayout.columnSquaredNorms(batch.delta(l));
            double[] traceQ;
            double[] grams = null;
            double[] exactQ = null;
            int k = 0;
            if (batch.mode() == CurvatureMode.GGN) {
                INDArray rows = batch.factorRows(l);                                  // C_sᵀ blocks (pB x n)
                if (withLambdaMax) {
                    // the smaller Gram matrix of C_s, C_sᵀ C_s (p x p) or C_s C_sᵀ (n x n): same non-zero
                    // spectrum, one batched GEMM on the contiguous C_sᵀ blocks (no copy)
                    boolean outputSide = p <= n;
                    k = Math.min(p, n);
                    INDArray ct = rows.reshape('c', b, p, n);
                    INDArray g = Nd4j.createUninitialized(rows.dataType(), new long[] {b, k, k}, 'c');
                    Nd4j.matmul(ct, ct, g, !outputSide, outputSide, false);
                    grams = BatchLayout.rowMajorValues(g);
                    traceQ = blockTraces(grams, b, k);                               // tr C_sᵀC_s = ||C_s||²
                } else {
                    traceQ = blockSquaredNorms(BatchLayout.rowMajorValues(rows), b);
                }
            } else {
                exactQ = BatchLayout.rowMajorValues(batch.exactCurvature(l));        // Q (n x nB)
                traceQ = sampleMajorTraces(exactQ, n, b);
            }
            trace[li] = new double[b];
            grad[li] = new double[b];
            for (int s = 0; s < b; s++) {
                trace[li][s] = augNorm2[s] * traceQ[s];
                grad[li][s] = Math.sqrt(deltaNorm2[s] * augNorm2[s]);
            }
            if (withLambdaMax) {
                lambda[li] = new double[b];
                for (int s = 0; s < b; s++) {
                    double top = grams != null ? eigen.largestEigenvalue(grams, s * k * k, k)
                            // exact Q_s is row i of block s: entry (i, j) at i*nB + s*n + j
                            : eigen.largestEigenvalue(exactQ, s * n, n, n * b);
                    lambda[li][s] = augNorm2[s] * Math.max(top, 0.0);
                }
            }
        }
        return new SampleScores(b, p, layers.clone(), loss, output, predicted, trace, lambda, grad);
    }

    /** Σ of squares of each of B equal consecutive blocks (||C_s||_F² from the rows layout). */
    private static double[] blockSquaredNorms(double[] v, int b) {
        double[] out = new double[b];
        int len = v.length / b;
        for (int s = 0; s < b; s++) {
            double t = 0;
            for (int i = s * len, end = i + len; i < end; i++) {
                t += v[i] * v[i];
            }
            out[s] = t;
        }
        return out;
    }

    /** Traces of B consecutive row-major {@code (k x k)} blocks. */
    private static double[] blockTraces(double[] g, int b, int k) {
        double[] out = new double[b];
        for (int s = 0; s < b; s++) {
            double t = 0;
            for (int a = 0; a < k; a++) {
                t += g[s * k * k + a * k + a];
            }
            out[s] = t;
        }
        return out;
    }

    /** tr Q_s per sample of Q {@code (n x nB)} sample-major, row-major values. */
    private static double[] sampleMajorTraces(double[] q, int n, int b) {
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
    public double traceSum(int layerIndex) {
        double t = 0;
        for (double v : trace[layerIndex]) {
            t += v;
        }
        return t;
    }
}
