package io.hessianatlas.common.model;

import java.util.Locale;

import io.hessianatlas.common.nd4j.BatchLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The loss J(z^L, y) on the logits z^L, with the output non-linearity folded in (docs/design.md §1).
 * Every method takes a whole mini-batch: logits {@code Z (p x B)} and targets {@code Y (p x B)}
 * (one-hot rows for softmax_cross_entropy), samples as columns.
 *
 * <pre>
 *   loss                          output a        J                              delta = a - y or z - y   Q^L                 S (Q^L = S S^T)
 *   softmax_cross_entropy         softmax(z)      logsumexp(z) - y^T z           a - y                    diag(a) - a a^T     diag(sqrt a) - a sqrt(a)^T
 *   sigmoid_binary_cross_entropy  sigmoid(z)      sum softplus(z) - y^T z        a - y                    diag(a (1 - a))     diag(sqrt(a (1 - a)))
 *   mse                           z               1/2 ||z - y||^2                z - y                    I                   I
 * </pre>
 * The log-sum-exp and softplus forms keep J finite for logits of +-1000.
 *
 * <p>Saturation (confident outputs, |z| from about 20 to 1000) is computed without cancellation, so
 * that every quantity keeps its relative accuracy however small it is: softmax's 1 − a_k is
 * Σ_{j≠k} a_j (the sum over the other classes, never 1 minus a rounded a_k ≈ 1), J = (m − yᵀz) +
 * log1p(Σ_{j≠top} e^{z_j − m}) with m the largest logit, δ = a ⊙ (1 − y) − y ⊙ (1 − a), and
 * Q^L r = a ⊙ (u − aᵀu) with u = r − r_top (Q^L 1 = 0), so Q^L keeps its null vector 1 and stays
 * positive semi-definite; sigmoid's a (1 − a) is σ(z) σ(−z), J = (1 − y) softplus(z) + y softplus(−z)
 * and δ = (1 − y) σ(z) − y σ(−z). (Computing 1 − a as 1 minus the rounded a loses all digits once
 * 1 − a &lt; 1e-16, e.g. a gap of 40 between the two largest logits, and made the exact-mode softmax
 * Q^L = diag(a) − a aᵀ indefinite, with an eigenvalue of −0.4 λ_max.)
 *
 * <p>Per-sample p x p matrices of a batch are laid out "sample-major": a {@code (p x pB)} matrix whose
 * columns {@code s*p .. s*p+p-1} are the matrix of sample s.
 */
public enum Loss {
    SOFTMAX_CROSS_ENTROPY("softmax_cross_entropy"),
    SIGMOID_BINARY_CROSS_ENTROPY("sigmoid_binary_cross_entropy"),
    MSE("mse");

    private final String jsonName;

    Loss(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    /** Parses the model.json name (also accepts the oracle's short names softmax_ce, sigmoid_bce). */
    public static Loss parse(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (key) {
            case "softmax_cross_entropy":
            case "softmax_ce":
                return SOFTMAX_CROSS_ENTROPY;
            case "sigmoid_binary_cross_entropy":
            case "sigmoid_bce":
                return SIGMOID_BINARY_CROSS_ENTROPY;
            case "mse":
                return MSE;
            default:
                throw new IllegalArgumentException("unknown loss '" + name
                        + "' (expected one of softmax_cross_entropy, sigmoid_binary_cross_entropy, mse)");
        }
    }

    /**
     * Number of classes a label names for this loss with {@code outputWidth} outputs, 0 when labels
     * are not classes: softmax cross-entropy p (the label is a class index), binary cross-entropy
     * with one output 2 (a label of 0 or 1; soft labels in between name no class), otherwise 0
     * (multi-label BCE, mse).
     */
    public int classCount(int outputWidth) {
        if (this == SOFTMAX_CROSS_ENTROPY) {
            return outputWidth;
        }
        return this == SIGMOID_BINARY_CROSS_ENTROPY && outputWidth == 1 ? 2 : 0;
    }

    /**
     * The predicted class of one sample from its output a^L (p values): the arg-max of the softmax
     * (the first on ties), or for binary cross-entropy 1 when σ(z) &gt; 0.5; -1 when labels are not
     * classes (see {@link #classCount}).
     */
    public int predictedClass(double[] output, int offset, int outputWidth) {
        if (this == SOFTMAX_CROSS_ENTROPY) {
            int best = 0;
            for (int k = 1; k < outputWidth; k++) {
                if (output[offset + k] > output[offset + best]) {
                    best = k;
                }
            }
            return best;
        }
        if (classCount(outputWidth) == 2) {
            return output[offset] > 0.5 ? 1 : 0;
        }
        return -1;
    }

    /** The output a^L (p x B): softmax, sigmoid or the logits themselves. */
    public INDArray output(INDArray z) {
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY:
                return Softmax.of(z).output();
            case SIGMOID_BINARY_CROSS_ENTROPY:
                return Transforms.sigmoid(z, true);
            case MSE:
                return z.dup();
            default:
                throw new IllegalStateException(name());
        }
    }

    /** Per-sample loss values, a row vector (1 x B). */
    public INDArray value(INDArray z, INDArray y) {
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY:
                return Softmax.of(z).loss(y);
            case SIGMOID_BINARY_CROSS_ENTROPY: {
                // -y ln s - (1-y) ln(1-s) = (1-y) softplus(z) + y softplus(-z)   (no cancellation)
                INDArray pos = Activation.softplus(z).muli(y.rsub(1.0));
                return pos.addi(Activation.softplus(z.neg()).muli(y)).sum(0).reshape(1, z.columns());
            }
            case MSE: {
                INDArray d = z.sub(y);
                return d.muli(d).sum(0).muli(0.5).reshape(1, z.columns());
            }
            default:
                throw new IllegalStateException(name());
        }
    }

    /**
     * delta^L = dJ/dz^L (p x B): a - y for both cross-entropies (computed as a (1 - y) - y (1 - a)
     * with the cancellation-free 1 - a), z - y for mse.
     */
    public INDArray delta(INDArray z, INDArray y) {
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY: {
                Softmax sm = Softmax.of(z);
                return sm.output().muli(y.rsub(1.0)).subi(sm.complement().muli(y));
            }
            case SIGMOID_BINARY_CROSS_ENTROPY: {
                INDArray pos = Transforms.sigmoid(z, true).muli(y.rsub(1.0));
                return pos.subi(Transforms.sigmoid(z.neg(), false).muli(y));
            }
            case MSE:
                return z.sub(y);
            default:
                throw new IllegalStateException(name());
        }
    }

    /**
     * The square-root factor S of Q^L = S S^T per sample, sample-major {@code (p x pB)}.
     * softmax: S = diag(sqrt a) - a sqrt(a)^T (diagonal sqrt(a) (1 - a)); sigmoid BCE:
     * diag(sqrt(σ(z) σ(-z))); mse: I.
     */
    public INDArray hessianFactor(INDArray z) {
        int p = (int) z.rows();
        int b = (int) z.columns();
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY:
                return Softmax.of(z).hessianFactor();
            case SIGMOID_BINARY_CROSS_ENTROPY:
                return BatchLayout.tiledIdentity(p, b, z.dataType())
                        .muliRowVector(BatchLayout.sampleMajorRow(Transforms.sqrt(sigmoidVariance(z), false)));
            case MSE:
                return BatchLayout.tiledIdentity(p, b, z.dataType());
            default:
                throw new IllegalStateException(name());
        }
    }

    /**
     * Q^L = d2J/dz^L dz^L per sample, sample-major {@code (p x pB)}:
     * softmax diag(a) - a a^T (diagonal a (1 - a)); sigmoid BCE diag(σ(z) σ(-z)); mse I.
     */
    public INDArray hessian(INDArray z) {
        int p = (int) z.rows();
        int b = (int) z.columns();
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY:
                return Softmax.of(z).hessian();
            case SIGMOID_BINARY_CROSS_ENTROPY:
                return BatchLayout.tiledIdentity(p, b, z.dataType()).muli(BatchLayout.repeatColumns(sigmoidVariance(z), p));
            case MSE:
                return BatchLayout.tiledIdentity(p, b, z.dataType());
            default:
                throw new IllegalStateException(name());
        }
    }

    /**
     * Q^L r for a block of directions: z {@code (p x B)}, r {@code (p x bB)} with column
     * {@code c*B + s} the direction c of sample s; returns {@code (p x bB)}.
     * softmax: a ⊙ (u − aᵀu) with u = r − r_top (the same as a ⊙ r − a (aᵀ r), since Q^L 1 = 0, but
     * without cancellation at the largest output); sigmoid BCE: σ(z) σ(−z) ⊙ r; mse: r.
     */
    public INDArray hessianTimes(INDArray z, INDArray r) {
        int b = (int) (r.columns() / z.columns());
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY:
                return Softmax.of(z).hessianTimes(r);
            case SIGMOID_BINARY_CROSS_ENTROPY: {
                INDArray v = sigmoidVariance(z);
                return (b == 1 ? v : Nd4j.tile(v, 1, b)).muli(r);
            }
            case MSE:
                return r.dup();
            default:
                throw new IllegalStateException(name());
        }
    }

    /** a (1 − a) = σ(z) σ(−z) for a = σ(z), (p x B), with full relative accuracy for large |z|. */
    private static INDArray sigmoidVariance(INDArray z) {
        return Transforms.sigmoid(z, true).muli(Transforms.sigmoid(z.neg(), false));
    }

    /**
     * Softmax of a batch of logits {@code (p x B)} computed sample by sample in plain Java (p values
     * each): with m the largest logit of a sample ("top": its first position), e_k = e^{z_k − m}
     * (e_top = 1), R = Σ_{k≠top} e_k and S = 1 + R,
     * <pre>
     *   a_k = e_k / S,     1 − a_k = R / S (k = top)  or  (S − e_k) / S (otherwise; S − e_k ≥ 1, no cancellation)
     *   lse − z_k = (m − z_k) + log1p(R)
     * </pre>
     */
    static final class Softmax {
        private final int p;
        private final int b;
        private final double[] z;       // the logits, column-major (p x B): sample s at s*p
        private final double[] a;       // same layout
        private final double[] c;       // 1 − a, same layout
        private final double[] lse;     // log-sum-exp − m per sample: log1p(R)
        private final double[] max;     // m per sample
        private final int[] top;

        private Softmax(int p, int b, double[] z, double[] a, double[] c, double[] lse, double[] max, int[] top) {
            this.p = p;
            this.b = b;
            this.z = z;
            this.a = a;
            this.c = c;
            this.lse = lse;
            this.max = max;
            this.top = top;
        }

        static Softmax of(INDArray z) {
            int p = (int) z.rows();
            int b = (int) z.columns();
            double[] zz = columnMajor(z);
            double[] a = new double[p * b];
            double[] c = new double[p * b];
            double[] lse = new double[b];
            double[] max = new double[b];
            int[] top = new int[b];
            double[] e = new double[p];
            for (int s = 0; s < b; s++) {
                int o = s * p;
                int t = 0;
                for (int k = 1; k < p; k++) {
                    if (zz[o + k] > zz[o + t]) {
                        t = k;
                    }
                }
                double m = zz[o + t];
                double rest = 0;
                for (int k = 0; k < p; k++) {
                    e[k] = k == t ? 1.0 : Math.exp(zz[o + k] - m);
                    rest += k == t ? 0.0 : e[k];
                }
                double sum = 1.0 + rest;
                for (int k = 0; k < p; k++) {
                    a[o + k] = e[k] / sum;
                    c[o + k] = (k == t ? rest : sum - e[k]) / sum;
                }
                lse[s] = Math.log1p(rest);
                max[s] = m;
                top[s] = t;
            }
            return new Softmax(p, b, zz, a, c, lse, max, top);
        }

        private static double[] columnMajor(INDArray z) {
            INDArray d = z.dataType() == DataType.DOUBLE ? z : z.castTo(DataType.DOUBLE);
            return d.dup('f').data().asDouble();
        }

        private INDArray matrix(double[] v) {
            return Nd4j.create(v, new long[] {p, b}, 'f');
        }

        INDArray output() {
            return matrix(a.clone());
        }

        /** 1 − a. */
        INDArray complement() {
            return matrix(c.clone());
        }

        /** J = Σ_k y_k (lse − z_k) per sample, (1 x B). */
        INDArray loss(INDArray y) {
            double[] yy = columnMajor(y);
            double[] out = new double[b];
            for (int s = 0; s < b; s++) {
                double j = 0;
                for (int k = 0; k < p; k++) {
                    double w = yy[s * p + k];
                    if (w != 0) {
                        j += w * ((max[s] - z[s * p + k]) + lse[s]);
                    }
                }
                out[s] = j;
            }
            return Nd4j.create(out, new long[] {1, b}, 'c');
        }

        /** Q^L = diag(a) − a aᵀ per sample, sample-major (p x pB): diagonal a_k (1 − a_k). */
        INDArray hessian() {
            double[] q = new double[p * p * b];
            int cols = p * b;
            for (int s = 0; s < b; s++) {
                int o = s * p;
                for (int i = 0; i < p; i++) {
                    double ai = a[o + i];
                    int row = i * cols + o;
                    for (int j = 0; j < p; j++) {
                        q[row + j] = i == j ? ai * c[o + i] : -ai * a[o + j];
                    }
                }
            }
            return Nd4j.create(q, new long[] {p, cols}, 'c');
        }

        /** S = diag(√a) − a √aᵀ per sample (Q^L = S Sᵀ), sample-major (p x pB): diagonal √a_k (1 − a_k). */
        INDArray hessianFactor() {
            double[] f = new double[p * p * b];
            int cols = p * b;
            double[] sq = new double[p];
            for (int s = 0; s < b; s++) {
                int o = s * p;
                for (int j = 0; j < p; j++) {
                    sq[j] = Math.sqrt(a[o + j]);
                }
                for (int i = 0; i < p; i++) {
                    double ai = a[o + i];
                    int row = i * cols + o;
                    for (int j = 0; j < p; j++) {
                        f[row + j] = i == j ? sq[i] * c[o + i] : -ai * sq[j];
                    }
                }
            }
            return Nd4j.create(f, new long[] {p, cols}, 'c');
        }

        /** Q^L r for r (p x kB), column c·B + s a direction of sample s: a ⊙ (u − aᵀu), u = r − r_top. */
        INDArray hessianTimes(INDArray r) {
            int cols = (int) r.columns();
            double[] rr = columnMajor(r);
            double[] out = new double[rr.length];
            for (int col = 0; col < cols; col++) {
                int s = col % b;
                int o = s * p;
                int ro = col * p;
                double shift = rr[ro + top[s]];
                double t = 0;
                for (int k = 0; k < p; k++) {
                    t += a[o + k] * (rr[ro + k] - shift);
                }
                for (int k = 0; k < p; k++) {
                    out[ro + k] = a[o + k] * ((rr[ro + k] - shift) - t);
                }
            }
            return Nd4j.create(out, new long[] {p, cols}, 'f');
        }
    }

    /**
     * Encodes class indices as one-hot targets {@code (p x B)} for softmax_cross_entropy.
     * @throws IllegalArgumentException naming the sample when an index is outside [0, p)
     */
    public static INDArray oneHot(int[] classes, int p) {
        double[] data = new double[p * classes.length];
        for (int s = 0; s < classes.length; s++) {
            int c = classes[s];
            if (c < 0 || c >= p) {
                throw new IllegalArgumentException("class index " + c + " of sample " + s
                        + " is outside [0, " + p + ")");
            }
            data[c * classes.length + s] = 1.0;
        }
        return Nd4j.create(data, new long[] {p, classes.length}, 'c');
    }
}
