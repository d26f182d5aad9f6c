package io.hessianatlas.common.aggregate;

import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.SampleScores;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchWorkspace;
import io.hessianatlas.common.nd4j.SymmetricRankUpdate;
import io.hessianatlas.common.nd4j.ThetaIndex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Accumulates the sums of a {@link CurvaturePlan} over mini-batches inside one task, with every
 * sum updated by one GEMM per layer per batch ({@code C = A Bᵀ + C}, beta = 1) into float64 ND4J
 * arrays; {@link #toSums()} turns them into serializable {@link CurvatureSums} (docs/design.md §3).
 *
 * <pre>
 *   Σ ã ãᵀ          += Ã Ãᵀ                         Ã ((m+1) x B), symmetric rank-k update
 *   Σ Q   (ggn)     += C Cᵀ                         C (n x pB) sample-major, held as Cᵀ (pB x n); rank-k update
 *   Σ Q   (hessian) += Σ_s Q_s                      block sum of (n x nB)
 *   Σ H             += Σ_s (ã_s ã_sᵀ) ⊗ Q_s         {@link #addThetaBlocks}: one GEMM in the pair layout
 *   Σ F             += U Uᵀ, U = ã ⊗ δ              ((m+1)n x B)
 *   Σ g             += δ Ãᵀ                          (n x (m+1)), θ = its column-major vec
 * </pre>
 * θ indices are those of {@link ThetaIndex}. With per-class sums ({@link CurvaturePlan#withClasses})
 * it holds one accumulator per class under the plan's per-class plan and adds each class's samples
 * to it as well. Not thread-safe; one instance per task.
 */
public final class CurvatureAccumulator {
    private final Network network;
    private final CurvaturePlan plan;
    private final int[] layers;
    private final INDArray[] sumA;
    private final INDArray[] sumG;
    private final INDArray[] sumHr;          // Σ H in the pair layout, see addThetaBlocks
    private final INDArray[] sumF;
    private final INDArray[] sumGradMatrix; // (n x (m+1)): Σ δ ãᵀ
    private final double[] sumTrace;
    private final INDArray[][] scratch;      // [layer][A, G, grad, H] per-batch products (float32, or shared)
    private final CurvatureAccumulator[] classes;   // [class] with per-class sums, else null
    private long count;
    private double lossSum;
    private long labelled;
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
        scratch = new INDArray[k][4];
        if (plan.perClass() != null) {
            classes = new CurvatureAccumulator[plan.classCount()];
            for (int c = 0; c < classes.length; c++) {
                classes[c] = new CurvatureAccumulator(network, plan.perClass());
            }
        } else {
            classes = null;
        }
        for (int i = 0; i < k; i++) {
            ThetaIndex theta = theta(layers[i]);
            long m1 = theta.augmentedFanIn();
            long n = theta.fanOut();
            sumA[i] = Nd4j.zeros(DataType.DOUBLE, m1, m1);
            sumG[i] = Nd4j.zeros(DataType.DOUBLE, n, n);
            sumGradMatrix[i] = Nd4j.zeros(DataType.DOUBLE, n, m1);
            if (plan.isDense(layers[i])) {
                sumHr[i] = Nd4j.zeros(DataType.DOUBLE, m1 * m1, n * n);
            }
            if (plan.empiricalFisher(layers[i])) {
                sumF[i] = Nd4j.zeros(DataType.DOUBLE, theta.dimension(), theta.dimension());
            }
        }
    }

    private ThetaIndex theta(int layer) {
        DenseLayer l = network.layer(layer);
        return ThetaIndex.forLayer(l.fanOut(), l.fanIn());
    }

    /**
     * Adds one batch, and with per-class sums each run of equal labels to that class's sums (a
     * batch ordered by label is one run per class, so one GEMM per class and sum).
     *
     * @param labels the class of each sample, -1 where the label names none ({@link
     *               io.hessianatlas.common.model.Loss#classCount}); null when labels are not classes
     * @param scores the batch's scores over exactly this plan's layers (traces are taken from them)
     */
    public void add(BatchCurvature batch, SampleScores scores, int[] labels) {
        if (classes == null) {
            addSamples(batch, scores, labels, 0, batch.batchSize(), null);
            return;
        }
        if (labels == null) {
            throw new IllegalArgumentException("per-class sums need the class of every sample");
        }
        int b = batch.batchSize();
        if (b > 0 && labels[0] >= 0 && labels[0] == labels[b - 1] && singleRun(labels)) {
            // one class (the input arrives in class batches with --by-class): one product per sum, added to both
            addSamples(batch, scores, labels, 0, b, classes[labels[0]]);
            return;
        }
        addSamples(batch, scores, labels, 0, b, null);
        for (int from = 0, to; from < b; from = to) {
            to = from + 1;
            while (to < b && labels[to] == labels[from]) {
                to++;
            }
            if (labels[from] >= 0) {
                classes[labels[from]].addSamples(batch, scores, labels, from, to, null);
            }
        }
    }

    private static boolean singleRun(int[] labels) {
        for (int label : labels) {
            if (label != labels[0]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Adds the batch's samples {@code from..to-1} (a column range of every batch array) to these
     * sums and, when {@code also} is given, to its sums too: each batch product is then formed once
     * (into a float64 buffer) and added to both, for every sum {@code also} keeps.
     */
    private void addSamples(BatchCurvature batch, SampleScores scores, int[] labels, int from, int to,
                            CurvatureAccumulator also) {
        if (batch.mode() != plan.mode()) {
            throw new IllegalArgumentException("batch mode " + batch.mode() + " differs from plan mode " + plan.mode());
        }
        boolean whole = from == 0 && to == batch.batchSize();
        int b = to - from;
        int p = network.outputSize();
        addCounts(scores, labels, from, to);
        if (also != null) {
            also.addCounts(scores, labels, from, to);
        }
        for (int i = 0; i < layers.length; i++) {
            int l = layers[i];
            ThetaIndex theta = theta(l);
            long n = theta.fanOut();
            INDArray aug = sampleColumns(batch.augmentedInput(l), from, to, 1, whole);
            INDArray delta = sampleColumns(batch.delta(l), from, to, 1, whole);
            if (also == null) {
                addGram(aug, sumA[i], i, 0);
                addProduct(delta, false, aug, true, sumGradMatrix[i], i, 2);
            } else {
                addToBoth(gram(aug, i, 0, sumA[i]), sumA[i], also.sumA[i]);
                addToBoth(product(delta, false, aug, true, i, 2, sumGradMatrix[i]), sumGradMatrix[i], also.sumGradMatrix[i]);
            }
            if (batch.mode() == CurvatureMode.GGN) {
                // C (n x pB) held as its rows (pB x n): sample s owns rows s·p .. s·p + p - 1
                INDArray rows = whole ? batch.factorRows(l)
                        : batch.factorRows(l).get(NDArrayIndex.interval((long) from * p, (long) to * p), NDArrayIndex.all()).dup('c');
                if (also == null) {
                    addGram(rows.transpose(), sumG[i], i, 1);
                } else {
                    addToBoth(gram(rows.transpose(), i, 1, sumG[i]), sumG[i], also.sumG[i]);
                }
            } else {
                INDArray q = sampleColumns(batch.exactCurvature(l), from, to, (int) n, whole);      // (n x nB)
                addToBoth(toDouble(q).reshape('c', n, b, n).sum(1), sumG[i], also == null ? null : also.sumG[i]);
            }
            double trace = 0;
            for (int s = from; s < to; s++) {
                trace += scores.trace(i, s);
            }
            sumTrace[i] += trace;
            if (also != null) {
                also.sumTrace[i] += trace;
            }
            INDArray alsoH = also == null ? null : also.sumHr[i];
            if (sumHr[i] != null || alsoH != null) {
                INDArray q = batch.perSampleCurvature(l);                                           // (B x n x n)
                q = whole ? q : q.get(NDArrayIndex.interval(from, to), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
                if (sumHr[i] != null && alsoH != null) {
                    INDArray blocks = scratch(i, 3, DataType.DOUBLE, sumHr[i]);
                    addThetaBlocks(aug, q, blocks, 0.0);
                    addToBoth(blocks, sumHr[i], alsoH);
                } else {
                    addThetaBlocks(aug, q, sumHr[i] != null ? sumHr[i] : alsoH, 1.0);
                }
            }
            if (sumF[i] != null) {
                INDArray u = theta.outerProductColumns(toDouble(aug), toDouble(delta));                 // (d x B)
                Nd4j.gemm(u, u, sumF[i], false, true, 1.0, 1.0);
            }
        }
    }

    private void addCounts(SampleScores scores, int[] labels, int from, int to) {
        count += to - from;
        for (int s = from; s < to; s++) {
            lossSum += scores.loss(s);
            if (labels != null && labels[s] >= 0) {
                labelled++;
                if (scores.predictedClass(s) == labels[s]) {
                    correct++;
                }
            }
        }
    }

    /** first += product and, when given, second += product (float64). */
    private static void addToBoth(INDArray product, INDArray first, INDArray second) {
        first.addi(product);
        if (second != null) {
            second.addi(product);
        }
    }

    /** x xᵀ of one batch as float64 in a buffer (one triangle, as {@link #addGram} leaves it). */
    private INDArray gram(INDArray x, int layerIndex, int slot, INDArray like) {
        INDArray product = scratch(layerIndex, slot, x.dataType(), like);
        SymmetricRankUpdate.update(x, product, 0.0);
        return toDouble(product);
    }

    /** op(x) op(y) of one batch as float64 in a buffer. */
    private INDArray product(INDArray x, boolean transposeX, INDArray y, boolean transposeY, int layerIndex, int slot,
                             INDArray like) {
        INDArray product = scratch(layerIndex, slot, x.dataType(), like);
        Nd4j.gemm(x, y, product, transposeX, transposeY, 1.0, 0.0);
        return toDouble(product);
    }

    /**
     * Samples {@code from..to-1} of a sample-major {@code (r x kB)} batch array (k columns per
     * sample), packed in the array's order; the array itself when that is the whole batch.
     */
    private static INDArray sampleColumns(INDArray x, int from, int to, int k, boolean whole) {
        if (whole) {
            return x;
        }
        return x.get(NDArrayIndex.all(), NDArrayIndex.interval((long) from * k, (long) to * k)).dup(x.ordering());
    }

    /**
     * The θ-block (docs/design.md §2) summed over a batch:
     * <pre>
     *   Σ_s H_θ,s = Σ_s (ã_s ã_sᵀ) ⊗ Q_s        ã_s (m+1),  Q_s (n x n),  H_θ,s ((m+1)n x (m+1)n)
     * </pre>
     * added to {@code sum} in the pair layout ({@link ThetaIndex#fromPairLayout}), where it is one
     * GEMM with inner dimension B: {@code R += Xᵀ Y}, {@code X[s, j(m+1) + j'] = ã_s,j ã_s,j'}
     * {@code (B x (m+1)²)}, {@code Y[s, i n + i'] = Q_s[i][i']} {@code (B x n²)}, in float64.
     *
     * @param aug ã {@code ((m+1) x B)}
     * @param q   Q_s of every sample {@code (B x n x n)}
     * @param sum R {@code ((m+1)² x n²)}
     * @param beta 1 to add to sum, 0 to overwrite it
     */
    private static void addThetaBlocks(INDArray aug, INDArray q, INDArray sum, double beta) {
        long b = aug.columns();
        long m1 = aug.rows();
        long n = q.size(1);
        INDArray augT = toDouble(aug).transpose().dup('c');                                      // (B x m1)
        INDArray x = augT.reshape('c', b, m1, 1).mul(augT.reshape('c', b, 1, m1)).reshape('c', b, m1 * m1);
        INDArray y = toDouble(q).reshape('c', b, n * n);
        Nd4j.gemm(x, y, sum, true, false, 1.0, beta);
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
            ThetaIndex theta = theta(layers[i]);
            double[] h = sumHr[i] == null ? null : theta.fromPairLayout(sumHr[i]);
            double[] f = sumF[i] == null ? null : sumF[i].dup('c').data().asDouble();
            double[] grad = theta.vec(sumGradMatrix[i]);
            double[] a = sumA[i].dup('c').data().asDouble();
            double[] g = sumG[i].dup('c').data().asDouble();
            SymmetricRankUpdate.symmetrize(a, theta.augmentedFanIn());
            SymmetricRankUpdate.symmetrize(g, theta.fanOut());
            out[i] = new LayerCurvatureSums(layers[i], layer.fanIn(), layer.fanOut(), count, a, g, h, f, grad, sumTrace[i]);
        }
        CurvatureSums[] classSums = null;
        if (classes != null) {
            classSums = new CurvatureSums[classes.length];
            for (int c = 0; c < classes.length; c++) {
                classSums[c] = classes[c].toSums();
            }
        }
        return new CurvatureSums(count, lossSum, labelled, correct, out, classSums);
    }
}
