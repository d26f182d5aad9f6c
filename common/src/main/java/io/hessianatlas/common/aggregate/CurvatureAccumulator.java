package io.hessianatlas.common.aggregate;

import io.hessianatlas.common.nd4j.BatchWorkspace;
import io.hessianatlas.common.nd4j.SymmetricRankUpdate;
import io.hessianatlas.common.nd4j.BatchLayout;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Network;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.SampleScores;

/**
 * Accumulates the sums of a {@link CurvaturePlan} over mini-batches inside one task, with every
 * sum updated by one GEMM per layer per batch ({@code C = A Bᵀ + C}, beta = 1) into float64 ND4J
 * arrays; {@link #toSums()} turns them into serializable {@link CurvatureSums}.
 *
 * <pre>
 *   Σ ã ãᵀ          += Ã Ãᵀ                         Ã ((m+1) x B), symmetric rank-k update
 *   Σ Q   (ggn)     += C Cᵀ                         C (n x pB) sample-major, held as Cᵀ (pB x n); rank-k update
 *   Σ Q   (hessian) += Σ_s Q_s                      block sum of (n x nB)
 *   Σ H  (R-layout) += Xᵀ Y, X[s, j(m+1)+j'] = ã_j ã_j',  Y[s, i n + i'] = Q_s[i, i']
 *                      (one GEMM with inner dimension B; permuted once into θ order in toSums)
 *   Σ F             += U Uᵀ, U = ã ⊗ δ              ((m+1)n x B)
 *   Σ g             += vec(Δ Ãᵀ)                    column-major
 * </pre>
 * Not thread-safe; one instance per task.
 */
public final class CurvatureAccumulator {
    private final Network network;
    private final CurvaturePlan plan;
    private final int[] layers;
    private final INDArray[] sumA;
    private final INDArray[] sumG;
    private final INDArray[] sumHr;
    private final INDArray[] sumF;
    private final INDArray[] sumGradMatrix; // (n x (m+1)): Σ δ ãᵀ
    private final double[] sumTrace;
    private final INDArray[][] scratch;      // float32 batches: [layer][A, G, grad] per-batch products
    private long count;
    private double lossSum;
    private long correct;

    public CurvatureAccumulator(Network network, CurvaturePlan plan) {
        this.network = network;
        this.plan = plan;
        this.layers = plan.layers();
        int k = layers.length;
        sumA = new INDArray[k];
        sumG = new INDArray[k];
        sumHr = new INDArray[k];
        sumF = new INDArray[k];
        sumGradMatrix = new INDArray[k];
        sumTrace = new double[k];
        scratch = new INDArray[k][3];
        for (int i = 0; i < k; i++) {
            DenseLayer layer = network.layer(layers[i]);
            long m1 = layer.fanIn() + 1L;
            long n = layer.fanOut();
            sumA[i] = Nd4j.zeros(DataType.DOUBLE, m1, m1);
            sumG[i] = Nd4j.zeros(DataType.DOUBLE, n, n);
            sumGradMatrix[i] = Nd4j.zeros(DataType.DOUBLE, n, m1);
            if (plan.isDense(layers[i])) {
                sumHr[i] = Nd4j.zeros(DataType.DOUBLE, m1 * m1, n * n);
            }
            if (plan.empiricalFisher(layers[i])) {
                sumF[i] = Nd4j.zeros(DataType.DOUBLE, m1 * n, m1 * n);
            }
        }
    }

    /**
     * Adds one batch. {@code labels} are the class indices (for accuracy; null for other losses).
     * @param scores the batch's scores over exactly this plan's layers (traces are taken from them)
     */
    public void add(BatchCurvature batch, SampleScores scores, int[] labels) {
        if (batch.mode() != plan.mode()) {
            throw new IllegalArgumentException("batch mode " + batch.mode() + " differs from plan mode " + plan.mode());
        }
        int b = batch.batchSize();
        int p = network.outputSize();
        count += b;
        for (int s = 0; s < b; s++) {
            lossSum += scores.loss(s);
            if (labels != null && scores.predictedClass(s) == labels[s]) {
                correct++;
            }
        }
        for (int i = 0; i < layers.length; i++) {
            int l = layers[i];
            long n = network.layer(l).fanOut();
            long m1 = network.layer(l).fanIn() + 1L;
            INDArray aug = batch.augmentedInput(l);
            INDArray delta = batch.delta(l);
            addGram(aug, sumA[i], i, 0);
            addProduct(delta, false, aug, true, sumGradMatrix[i], i, 2);
            if (batch.mode() == CurvatureMode.GGN) {
                addGram(batch.factorRows(l).transpose(), sumG[i], i, 1);                       // C (n x pB)
            } else {
                sumG[i].addi(toDouble(batch.exactCurvature(l)).reshape('c', n, b, n).sum(1));
            }
            sumTrace[i] += scores.traceSum(i);
            if (sumHr[i] != null) {
                INDArray augT = toDouble(aug).transpose().dup('c');                                      // (B x m1)
                INDArray x = augT.reshape('c', b, m1, 1).mul(augT.reshape('c', b, 1, m1)).reshape('c', b, m1 * m1);
                INDArray y = toDouble(batch.perSampleCurvature(l)).reshape('c', b, n * n);
                Nd4j.gemm(x, y, sumHr[i], true, false, 1.0, 1.0);
            }
            if (sumF[i] != null) {
                INDArray u = BatchLayout.columnKron(toDouble(aug), toDouble(delta), 1);                            // (m1 n x B)
                Nd4j.gemm(u, u, sumF[i], false, true, 1.0, 1.0);
            }
        }
    }

    /**
     * sum += op(x) op(y) (op = transpose when asked). A float64 batch accumulates in the GEMM itself
     * (beta = 1); a float32 batch forms its product in float32 (the fast part) and adds it to the
     * float64 sum, so the error of a sum over many batches stays that of one batch's float32 product.
     */
    private void addProduct(INDArray x, boolean transposeX, INDArray y, boolean transposeY, INDArray sum,
                            int layerIndex, int slot) {
        if (x.dataType() == DataType.DOUBLE) {
            Nd4j.gemm(x, y, sum, transposeX, transposeY, 1.0, 1.0);
            return;
        }
        INDArray product = scratch(layerIndex, slot, x.dataType(), sum);
        Nd4j.gemm(x, y, product, transposeX, transposeY, 1.0, 0.0);
        sum.addi(product.castTo(DataType.DOUBLE));
    }

    /**
     * sum += x xᵀ as a symmetric rank-k update (half a GEMM's flops; one triangle, completed in
     * {@link #toSums}); float32 batches through a float32 per-batch product as in {@link #addProduct}.
     */
    private void addGram(INDArray x, INDArray sum, int layerIndex, int slot) {
        if (x.dataType() == DataType.DOUBLE) {
            SymmetricRankUpdate.update(x, sum, 1.0);
            return;
        }
        INDArray product = scratch(layerIndex, slot, x.dataType(), sum);
        SymmetricRankUpdate.update(x, product, 0.0);
        sum.addi(product.castTo(DataType.DOUBLE));
    }

    /**
     * The per-batch product buffer of one sum in the batch's type, made once outside the batch
     * workspace. Zeros: the triangle syrk leaves alone stays 0 in the float64 sum.
     */
    private INDArray scratch(int layerIndex, int slot, DataType type, INDArray sum) {
        if (scratch[layerIndex][slot] == null) {
            scratch[layerIndex][slot] = BatchWorkspace.outside(() -> Nd4j.zeros(type, sum.shape()));
        }
        return scratch[layerIndex][slot];
    }

    private static INDArray toDouble(INDArray x) {
        return x.dataType() == DataType.DOUBLE ? x : x.castTo(DataType.DOUBLE);
    }

    public long count() {
        return count;
    }

    /** The accumulated sums as serializable float64 arrays (the dense block in θ order). */
    public CurvatureSums toSums() {
        LayerCurvatureSums[] out = new LayerCurvatureSums[layers.length];
        for (int i = 0; i < layers.length; i++) {
            DenseLayer layer = network.layer(layers[i]);
            long m1 = layer.fanIn() + 1L;
            long n = layer.fanOut();
            double[] h = null;
            if (sumHr[i] != null) {
                // R[j*(m+1)+j', i*n+i'] -> H[j*n+i, j'*n+i']
                h = sumHr[i].reshape('c', m1, m1, n, n).permute(0, 2, 1, 3).dup('c').data().asDouble();
            }
            double[] f = sumF[i] == null ? null : sumF[i].dup('c').data().asDouble();
            // vec column-major: g[j*n+i] = (Σ δ ãᵀ)[i, j] -> the transpose, read row-major
            double[] grad = sumGradMatrix[i].transpose().dup('c').data().asDouble();
            double[] a = sumA[i].dup('c').data().asDouble();
            double[] g = sumG[i].dup('c').data().asDouble();
            SymmetricRankUpdate.symmetrize(a, (int) m1);
            SymmetricRankUpdate.symmetrize(g, (int) n);
            out[i] = new LayerCurvatureSums(layers[i], layer.fanIn(), layer.fanOut(), count, a, g, h, f, grad, sumTrace[i]);
        }
        return new CurvatureSums(count, lossSum, correct, out);
    }
}
