package io.hessianatlas.common.nn;

import java.util.Locale;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The loss J(z^L, y) on the logits z^L, with the output non-linearity folded in (DESIGN.md §1).
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

    /** True for losses whose label is a class index (a predicted class is reported). */
    public boolean isClassification() {
        return this == SOFTMAX_CROSS_ENTROPY;
    }

    /** The output a^L (p x B): softmax, sigmoid or the logits themselves. */
    public INDArray output(INDArray z) {
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY: {
                INDArray shifted = z.subRowVector(z.max(0));
                INDArray e = Transforms.exp(shifted, false);
                return e.diviRowVector(e.sum(0));
            }
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
            case SOFTMAX_CROSS_ENTROPY: {
                INDArray max = z.max(0);
                INDArray lse = Transforms.log(Transforms.exp(z.subRowVector(max), false).sum(0), false).addi(max);
                return lse.subi(z.mul(y).sum(0)).reshape(1, z.columns());
            }
            case SIGMOID_BINARY_CROSS_ENTROPY:
                // -y ln s - (1-y) ln(1-s) = softplus(z) - y z
                return Activation.softplus(z).subi(z.mul(y)).sum(0).reshape(1, z.columns());
            case MSE: {
                INDArray d = z.sub(y);
                return d.muli(d).sum(0).muli(0.5).reshape(1, z.columns());
            }
            default:
                throw new IllegalStateException(name());
        }
    }

    /** delta^L = dJ/dz^L (p x B): a - y for both cross-entropies, z - y for mse. */
    public INDArray delta(INDArray z, INDArray y) {
        return output(z).subi(y);
    }

    /**
     * The square-root factor S of Q^L = S S^T per sample, sample-major {@code (p x pB)}.
     * softmax: S = diag(sqrt a) - a sqrt(a)^T; sigmoid BCE: diag(sqrt(a(1-a))); mse: I.
     */
    public INDArray hessianFactor(INDArray z) {
        int p = (int) z.rows();
        int b = (int) z.columns();
        INDArray eye = BatchLayout.tiledIdentity(p, b, z.dataType());
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY: {
                INDArray a = output(z);
                INDArray sqrtRow = BatchLayout.sampleMajorRow(Transforms.sqrt(a, true));
                return eye.subi(BatchLayout.repeatColumns(a, p)).muliRowVector(sqrtRow);
            }
            case SIGMOID_BINARY_CROSS_ENTROPY: {
                INDArray a = output(z);
                INDArray v = a.mul(a.rsub(1.0));
                return eye.muliRowVector(BatchLayout.sampleMajorRow(Transforms.sqrt(v, false)));
            }
            case MSE:
                return eye;
            default:
                throw new IllegalStateException(name());
        }
    }

    /**
     * Q^L = d2J/dz^L dz^L per sample, sample-major {@code (p x pB)}:
     * softmax diag(a) - a a^T; sigmoid BCE diag(a(1-a)); mse I.
     */
    public INDArray hessian(INDArray z) {
        int p = (int) z.rows();
        int b = (int) z.columns();
        INDArray eye = BatchLayout.tiledIdentity(p, b, z.dataType());
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY: {
                INDArray a = output(z);
                // [i, s*p+j] = (delta_ij - a_js) a_is
                return eye.subiRowVector(BatchLayout.sampleMajorRow(a)).muli(BatchLayout.repeatColumns(a, p));
            }
            case SIGMOID_BINARY_CROSS_ENTROPY: {
                INDArray a = output(z);
                return eye.muli(BatchLayout.repeatColumns(a.mul(a.rsub(1.0)), p));
            }
            case MSE:
                return eye;
            default:
                throw new IllegalStateException(name());
        }
    }

    /**
     * Q^L r for a block of directions: z {@code (p x B)}, r {@code (p x bB)} with column
     * {@code c*B + s} the direction c of sample s; returns {@code (p x bB)}.
     * softmax: a ⊙ r − a (aᵀ r); sigmoid BCE: a(1−a) ⊙ r; mse: r.
     */
    public INDArray hessianTimes(INDArray z, INDArray r) {
        int b = (int) (r.columns() / z.columns());
        switch (this) {
            case SOFTMAX_CROSS_ENTROPY: {
                INDArray a = b == 1 ? output(z) : Nd4j.tile(output(z), 1, b);
                INDArray ar = a.mul(r);
                return ar.subi(a.mulRowVector(ar.sum(0)));
            }
            case SIGMOID_BINARY_CROSS_ENTROPY: {
                INDArray a = output(z);
                INDArray v = a.mul(a.rsub(1.0));
                return (b == 1 ? v : Nd4j.tile(v, 1, b)).muli(r);
            }
            case MSE:
                return r.dup();
            default:
                throw new IllegalStateException(name());
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
