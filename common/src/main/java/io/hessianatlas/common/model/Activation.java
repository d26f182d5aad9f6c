package io.hessianatlas.common.model;

import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A hidden-layer non-linearity {@code a = f(z)} with its first and second derivatives, applied
 * element-wise to a whole mini-batch {@code (n x B)} in a handful of ND4J ops (never per element).
 *
 * <p>Derivatives (docs/design.md §1):
 * <pre>
 *   relu        f = max(z,0)                 f' = [z&gt;0]                  f'' = 0
 *   leaky_relu  f = z (z&gt;0) or s z          f' = 1 or s                   f'' = 0
 *   tanh        f = t = tanh z               f' = 1 - t^2                  f'' = -2 t (1 - t^2)
 *   sigmoid     f = s = 1/(1+e^-z)           f' = s (1 - s)                f'' = s (1 - s)(1 - 2 s)
 *   identity    f = z                        f' = 1                        f'' = 0
 *   softplus    f = max(z,0)+log1p(e^-|z|)   f' = sigmoid(z)               f'' = s (1 - s)
 *   gelu        f = z/2 (1 + tanh u), u = c (z + k z^3), c = sqrt(2/pi), k = 0.044715
 *               f' = (1+t)/2 + z/2 (1-t^2) u'                  (u' = c (1 + 3 k z^2), u'' = 6 c k z)
 *               f'' = (1-t^2) (u' + z/2 (u'' - 2 t u'^2))
 * </pre>
 * At the relu kink (z = 0) the derivative is taken as 0, as PyTorch does.
 *
 * <p>Saturated units keep their relative accuracy (no 1 − x of an x rounded to 1): 1 − t² is
 * computed as 1/cosh² z, s (1 − s) as σ(z) σ(−z), 1 − 2s as σ(−z) − σ(z), 1 + tanh u as 2σ(2u),
 * and softplus with a corrected log1p.
 */
public final class Activation implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Default slope of leaky_relu for negative inputs (PyTorch's default). */
    public static final double DEFAULT_LEAKY_SLOPE = 0.01;

    private static final double GELU_C = Math.sqrt(2.0 / Math.PI);
    private static final double GELU_K = 0.044715;

    /** The supported kinds, with the names used in model.json. */
    public enum Kind {
        RELU("relu"), LEAKY_RELU("leaky_relu"), TANH("tanh"), SIGMOID("sigmoid"),
        IDENTITY("identity"), SOFTPLUS("softplus"), GELU("gelu");

        private final String jsonName;

        Kind(String jsonName) {
            this.jsonName = jsonName;
        }

        public String jsonName() {
            return jsonName;
        }
    }

    private final Kind kind;
    private final double negativeSlope;

    private Activation(Kind kind, double negativeSlope) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.negativeSlope = negativeSlope;
    }

    public static Activation of(Kind kind) {
        return new Activation(kind, kind == Kind.LEAKY_RELU ? DEFAULT_LEAKY_SLOPE : 0.0);
    }

    public static Activation leakyRelu(double negativeSlope) {
        if (!Double.isFinite(negativeSlope)) {
            throw new IllegalArgumentException("leaky_relu negative_slope must be finite, got " + negativeSlope);
        }
        return new Activation(Kind.LEAKY_RELU, negativeSlope);
    }

    public static final Activation RELU = of(Kind.RELU);
    public static final Activation TANH = of(Kind.TANH);
    public static final Activation SIGMOID = of(Kind.SIGMOID);
    public static final Activation IDENTITY = of(Kind.IDENTITY);
    public static final Activation SOFTPLUS = of(Kind.SOFTPLUS);
    public static final Activation GELU = of(Kind.GELU);

    /**
     * Parses a model.json activation name ({@code relu, leaky_relu, tanh, sigmoid, identity,
     * softplus, gelu}); {@code negativeSlope} is used only by leaky_relu (null = default 0.01).
     */
    public static Activation parse(String name, Double negativeSlope) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (Kind k : Kind.values()) {
            if (k.jsonName.equals(key)) {
                if (k == Kind.LEAKY_RELU) {
                    return leakyRelu(negativeSlope == null ? DEFAULT_LEAKY_SLOPE : negativeSlope);
                }
                return of(k);
            }
        }
        throw new IllegalArgumentException("unknown activation '" + name
                + "' (expected one of relu, leaky_relu, tanh, sigmoid, identity, softplus, gelu)");
    }

    public Kind kind() {
        return kind;
    }

    public String name() {
        return kind.jsonName;
    }

    public double negativeSlope() {
        return negativeSlope;
    }

    /** True when f'' = 0 everywhere, so the exact Hessian and the GGN coincide within a layer. */
    public boolean isPiecewiseLinear() {
        return kind == Kind.RELU || kind == Kind.LEAKY_RELU || kind == Kind.IDENTITY;
    }

    /** f(z), element-wise; returns a new array of the shape of {@code z}. */
    public INDArray apply(INDArray z) {
        switch (kind) {
            case RELU:
                return Transforms.relu(z, true);
            case LEAKY_RELU: {
                INDArray pos = z.gt(0.0).castTo(z.dataType());
                // f = z * (pos + s (1 - pos))
                return z.mul(pos.mul(1.0 - negativeSlope).addi(negativeSlope));
            }
            case TANH:
                return Transforms.tanh(z, true);
            case SIGMOID:
                return Transforms.sigmoid(z, true);
            case IDENTITY:
                return z.dup();
            case SOFTPLUS:
                return softplus(z);
            case GELU:
                // z (1 + tanh u) / 2 = z σ(2u): no cancellation of 1 + tanh u for z → −∞
                return Transforms.sigmoid(geluU(z).muli(2.0), false).muli(z);
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    /** f'(z), element-wise. */
    public INDArray derivative(INDArray z) {
        switch (kind) {
            case RELU:
                return z.gt(0.0).castTo(z.dataType());
            case LEAKY_RELU:
                return z.gt(0.0).castTo(z.dataType()).muli(1.0 - negativeSlope).addi(negativeSlope);
            case TANH:
                return sech2(z);
            case SIGMOID:
                return sigmoidVariance(z);
            case SOFTPLUS:
                return Transforms.sigmoid(z, true);
            case IDENTITY:
                return Nd4j.onesLike(z);
            case GELU: {
                // (1 + t)/2 + z/2 (1 − t²) u' with 1 + t = 2σ(2u), 1 − t² = sech² u
                INDArray u = geluU(z);
                INDArray du = z.mul(z).muli(3.0 * GELU_K).addi(1.0).muli(GELU_C);
                return sech2(u).muli(du).muli(z).muli(0.5).addi(Transforms.sigmoid(u.muli(2.0), false));
            }
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    /** f''(z), element-wise. */
    public INDArray secondDerivative(INDArray z) {
        switch (kind) {
            case RELU:
            case LEAKY_RELU:
            case IDENTITY:
                return Nd4j.zerosLike(z);
            case TANH:
                return sech2(z).muli(Transforms.tanh(z, true)).muli(-2.0);
            case SIGMOID: {
                // s (1 − s)(1 − 2s) = σ(z) σ(−z) (σ(−z) − σ(z))
                INDArray s = Transforms.sigmoid(z, true);
                INDArray r = Transforms.sigmoid(z.neg(), false);
                return s.mul(r).muli(r.subi(s));
            }
            case SOFTPLUS:
                return sigmoidVariance(z);
            case GELU: {
                INDArray u = geluU(z);
                INDArray t = Transforms.tanh(u, true);
                INDArray sech2 = sech2(u);
                INDArray du = z.mul(z).muli(3.0 * GELU_K).addi(1.0).muli(GELU_C);
                INDArray ddu = z.mul(6.0 * GELU_C * GELU_K);
                // u' + z/2 (u'' - 2 t u'^2)
                INDArray inner = ddu.subi(t.mul(du).muli(du).muli(2.0)).muli(z).muli(0.5).addi(du);
                return sech2.muli(inner);
            }
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    /**
     * Numerically stable softplus, log(1 + e^z) = max(z,0) + log1p(e^-|z|); finite for |z| = 1000 and
     * relatively accurate for z → −∞.
     */
    static INDArray softplus(INDArray z) {
        return Transforms.relu(z, true).addi(log1p(Transforms.exp(Transforms.abs(z, true).negi(), false)));
    }

    /**
     * log(1 + x) for x ≥ 0 to full relative accuracy (a new array): log(u) − ((u − 1) − x)/u with u = 1 + x
     * rounded (the second term corrects the rounding of u; x = 1e-20 gives x). ND4J's own log1p is
     * log(1 + x), which returns 0 for x &lt; 1e-16 and loses 1e-16/x of its relative accuracy above.
     */
    static INDArray log1p(INDArray x) {
        INDArray u = x.add(1.0);
        INDArray correction = u.sub(1.0).subi(x).divi(u);
        return Transforms.log(u, false).subi(correction);
    }

    /**
     * sech² z = 1 − tanh² z = 1 / cosh² z, with full relative accuracy for large |z| (1 − t² of the
     * rounded t = tanh z loses every digit once 1 − |t| &lt; 1e-16, |z| &gt; 19); 0 beyond |z| ≈ 710
     * (sech is squared after the division, so that cosh² cannot overflow first).
     */
    private static INDArray sech2(INDArray z) {
        INDArray sech = Transforms.cosh(z, true).rdivi(1.0);
        return sech.muli(sech);
    }

    /** σ(z) (1 − σ(z)) = σ(z) σ(−z), with full relative accuracy for large |z|. */
    private static INDArray sigmoidVariance(INDArray z) {
        return Transforms.sigmoid(z, true).muli(Transforms.sigmoid(z.neg(), false));
    }

    private static INDArray geluU(INDArray z) {
        // u = c (z + k z^3)
        return z.mul(z).muli(z).muli(GELU_K).addi(z).muli(GELU_C);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Activation)) {
            return false;
        }
        Activation other = (Activation) o;
        return kind == other.kind && Double.compare(negativeSlope, other.negativeSlope) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, negativeSlope);
    }

    @Override
    public String toString() {
        return kind == Kind.LEAKY_RELU ? "leaky_relu(" + negativeSlope + ")" : kind.jsonName;
    }
}
