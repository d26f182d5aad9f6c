package io.hessianatlas.common.hessian;

import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchLayout;
import io.hessianatlas.common.nd4j.ThetaIndex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Matrix-free curvature-vector products summed over a mini-batch: Σ_s H_s v for a block of b
 * directions v, where H_s is the per-sample generalised Gauss-Newton matrix (J_sᵀ Q^L_s J_s) or
 * the exact Hessian of J_s with respect to the parameters, by forward and reverse
 * "R-operator" passes (Pearlmutter 1994), batched over samples and directions:
 * <pre>
 *   forward   R{z^k} = W^k R{a^{k-1}} + V^k ã^{k-1},    R{a^k} = f_k' ⊙ R{z^k}                {@link #directionalForward}
 *   backward  R{δ^L} = Q^L R{z^L}
 *             R{δ^k} = f_k' ⊙ (W^{k+1 T} R{δ^{k+1}} + [V_W^{k+1 T} δ^{k+1}]) + [r^k ⊙ R{z^k}]   {@link #directionalDeltaRecursion}
 *   product   (H v)_{θ^k} = Σ_s R{δ^k}_s ã_s^{k-1 T} + [Σ_s δ^k_s R{a^{k-1}}_sᵀ]      (as [W b] matrices)   {@link #layerProduct}
 * </pre>
 * with r^k = f_k'' ⊙ W^{k+1 T} δ^{k+1} the residual of the Q recursion
 * ({@link BatchForward#curvatureResidual}). The bracketed terms are the second-order ones of the
 * exact Hessian; without them the same passes give the GGN (a Jacobian-vector product, Q^L, then a
 * vector-Jacobian product). With the direction confined to one layer l and the output read at
 * layer l, this is the layer's θ-block H_θ^l v = Σ_s vec(Q^l_s V ã_s ã_sᵀ), the recursion of
 * docs/design.md §4.
 *
 * <p>Layouts: a direction block of layer k is {@code (b n_k x (n_{k-1}+1))}, the b directions' θ^k
 * segments as stacked [W b] matrices ({@link ThetaIndex#matrices}); inside, per-sample quantities of
 * all directions are "vector-major" {@code (n x bB)}, column {@code c B + s}.
 *
 * <p>Everything is computed in the batch's data type ({@link BatchForward#dataType}, DOUBLE or FLOAT;
 * the directions must be in it too), except Q^L R{z^L}, which is taken in float64 like the loss.
 */
public final class CurvatureProducts {
    private CurvatureProducts() {
    }

    /**
     * @param fw         forward state of the batch (computed from layer {@code min(layers with a
     *                   direction or an output)}; with f'' when {@code exact})
     * @param directions per layer (index 1..L) the direction block or null (zero direction)
     * @param outputs    per layer (index 1..L) whether to return the product block
     * @param b          number of directions
     * @param exact      exact Hessian (true) or GGN (false)
     * @return per layer the summed product block {@code (b n_k x (n_{k-1}+1))}, or null
     */
    public static INDArray[] apply(BatchForward fw, INDArray[] directions, boolean[] outputs, int b, boolean exact) {
        return accumulate(fw, directions, outputs, b, exact, new INDArray[fw.network.depth() + 1]);
    }

    /**
     * As {@link #apply}, adding each output layer's product block into {@code sums[k]} when it is
     * non-null (float64, {@code (b n_k x (n_{k-1}+1))}, e.g. a partition's running sum outside the batch
     * workspace): in the batch's type float64, the last GEMM accumulates into it (β = 1, no product
     * block is allocated); in float32 the float32 block is added in float64.
     *
     * @return per layer {@code sums[k]} (updated) when given, else the batch's product block, or null
     */
    public static INDArray[] accumulate(BatchForward fw, INDArray[] directions, boolean[] outputs, int b, boolean exact,
                                        INDArray[] sums) {
        Network net = fw.network;
        int depth = net.depth();
        int lo = depth;
        int loOut = depth;
        for (int k = depth; k >= 1; k--) {
            if (directions[k] != null || outputs[k]) {
                lo = k;
            }
            if (outputs[k]) {
                loOut = k;
            }
        }
        if (lo < fw.lowestLayer) {
            throw new IllegalArgumentException("the batch was propagated down to layer " + fw.lowestLayer
                    + ", products need layer " + lo);
        }
        INDArray[] rz = new INDArray[depth + 1];
        INDArray[] ra = new INDArray[depth + 1];
        directionalForward(fw, directions, lo, b, rz, ra);
        INDArray[] out = new INDArray[depth + 1];
        // Q^L R{z^L} in float64 (the loss is), back in the batch's type; (n_L x bB), small
        INDArray rdelta = rz[depth] == null ? null : BatchForward.inType(
                net.loss().hessianTimes(fw.logits, BatchForward.inType(rz[depth], DataType.DOUBLE)), fw.dataType());
        for (int k = depth; k >= loOut; k--) {
            if (k < depth) {
                rdelta = directionalDeltaRecursion(fw, k, rdelta, directions[k + 1], rz[k], b, exact);
            }
            if (outputs[k]) {
                out[k] = layerProduct(fw, k, rdelta, k > 1 ? ra[k - 1] : null, b, exact, sums[k]);
            }
        }
        return out;
    }

    /**
     * The forward R-pass from layer {@code lo} up: for k = lo..L
     * <pre>
     *   R{z^k} = W^k R{a^{k-1}} + V^k ã^{k-1}     (n_k x bB) vector-major, null when zero
     *   R{a^k} = f_k'(z^k) ⊙ R{z^k}               (n_k x bB), k &lt; L
     * </pre>
     * with V^k the [W b] direction block of layer k (null = 0); writes {@code rz[k]} and {@code ra[k]}.
     */
    private static void directionalForward(BatchForward fw, INDArray[] directions, int lo, int b,
                                           INDArray[] rz, INDArray[] ra) {
        Network net = fw.network;
        int depth = net.depth();
        for (int k = lo; k <= depth; k++) {
            INDArray v = null;
            if (k > lo && ra[k - 1] != null) {
                v = net.layer(k).weightMatrix(fw.dataType()).mmul(ra[k - 1]);
            }
            if (directions[k] != null) {
                INDArray own = toVectorMajor(directions[k].mmul(fw.aug[k]), b);
                v = v == null ? own : v.addi(own);
            }
            rz[k] = v;
            if (k < depth && v != null) {
                ra[k] = BatchLayout.scaleVectorMajor(v.dup('c'), fw.fp[k], b);
            }
        }
    }

    /**
     * The backward R-pass, one layer down (the R-operator of the delta recursion):
     * <pre>
     *   R{δ^k} = f_k' ⊙ (W^{k+1 T} R{δ^{k+1}} + [V_W^{k+1 T} δ^{k+1}]) + [r^k ⊙ R{z^k}]     (n_k x bB)
     * </pre>
     * bracketed terms only when {@code exact}; V_W^{k+1} is the W part of layer k+1's direction.
     *
     * @param rdeltaUp   R{δ^{k+1}} {@code (n_{k+1} x bB)} or null (zero)
     * @param directionUp layer k+1's direction block {@code (b n_{k+1} x (n_k+1))} or null
     * @param rzk        R{z^k} {@code (n_k x bB)} or null
     * @return R{δ^k}, or null when zero
     */
    private static INDArray directionalDeltaRecursion(BatchForward fw, int k, INDArray rdeltaUp, INDArray directionUp,
                                                      INDArray rzk, int b, boolean exact) {
        Network net = fw.network;
        INDArray t = rdeltaUp == null ? null : net.layer(k + 1).weightMatrix(fw.dataType()).transpose().mmul(rdeltaUp);
        if (exact && directionUp != null) {
            INDArray vt = directionTransposeTimesDelta(directionUp, fw.delta[k + 1], thetaOf(net, k + 1), b);
            t = t == null ? vt : t.addi(vt);
        }
        INDArray next = t == null ? null : BatchLayout.scaleVectorMajor(t, fw.fp[k], b);
        INDArray residual = exact && rzk != null ? fw.curvatureResidual(k) : null;
        if (residual != null) {
            INDArray second = BatchLayout.scaleVectorMajor(rzk.dup('c'), residual, b);
            next = next == null ? second : next.addi(second);
        }
        return next;
    }

    /**
     * The product block of layer k, summed over the batch, as stacked [W b] matrices:
     * <pre>
     *   (H v_c)_{θ^k} = Σ_s R{δ^k}_{c,s} ã_s^{k-1 T} + [Σ_s δ^k_s R{a^{k-1}}_{c,s}ᵀ]     (b n_k x (n_{k-1}+1))
     * </pre>
     * the bracketed term (exact only) in the W columns alone: a^{k-1} carries no bias entry.
     *
     * @param rdelta R{δ^k} {@code (n_k x bB)} or null (zero)
     * @param raDown R{a^{k-1}} {@code (n_{k-1} x bB)} or null (zero, or k = 1)
     */
    private static INDArray layerProduct(BatchForward fw, int k, INDArray rdelta, INDArray raDown, int b,
                                         boolean exact, INDArray sum) {
        ThetaIndex theta = thetaOf(fw.network, k);
        int n = theta.fanOut();
        int m1 = theta.augmentedFanIn();
        boolean inPlace = sum != null && sum.dataType() == fw.dataType();
        INDArray g;
        if (inPlace) {
            g = sum;
            if (rdelta != null) {
                Nd4j.gemm(toStacked(rdelta, b), fw.aug[k], g, false, true, 1.0, 1.0);
            }
        } else {
            g = rdelta == null ? Nd4j.zeros(fw.dataType(), (long) b * n, m1)
                    : toStacked(rdelta, b).mmul(fw.aug[k].transpose());
        }
        if (exact && raDown != null) {
            // Σ_s δ^k_s R{a^{k-1}}_{c,s}ᵀ for every direction c: one GEMM, (n x b m)
            int m = theta.fanIn();
            INDArray cross = fw.delta[k].mmul(toStacked(raDown, b).transpose());
            for (int c = 0; c < b; c++) {
                g.get(NDArrayIndex.interval((long) c * n, (long) (c + 1) * n), NDArrayIndex.interval(0, m))
                        .addi(cross.get(NDArrayIndex.all(), NDArrayIndex.interval((long) c * m, (long) (c + 1) * m)));
            }
        }
        if (sum != null && !inPlace) {
            return sum.addi(BatchForward.inType(g, sum.dataType()));
        }
        return g;
    }

    private static ThetaIndex thetaOf(Network net, int k) {
        return ThetaIndex.forLayer(net.layer(k).fanOut(), net.layer(k).fanIn());
    }

    /**
     * V_W,cᵀ δ for each direction c: directions {@code (b n' x (n+1))} of a layer with θ {@code up}
     * (W {@code (n' x n)}), δ {@code (n' x B)} → {@code (n x bB)}.
     */
    private static INDArray directionTransposeTimesDelta(INDArray directions, INDArray delta, ThetaIndex up, int b) {
        long nUp = up.fanOut();
        long n = up.fanIn();
        long bs = delta.columns();
        INDArray out = Nd4j.create(delta.dataType(), n, b * bs);
        for (int c = 0; c < b; c++) {
            INDArray vw = directions.get(NDArrayIndex.interval(c * nUp, (c + 1) * nUp), NDArrayIndex.interval(0, n));
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(c * bs, (c + 1) * bs)).assign(vw.transpose().mmul(delta));
        }
        return out;
    }

    /** {@code (b n x B)} → {@code (n x bB)}: {@code [i, c B + s] = x[c n + i, s]}. */
    static INDArray toVectorMajor(INDArray x, int b) {
        long n = x.rows() / b;
        long bs = x.columns();
        if (b == 1) {
            return x;
        }
        return x.reshape('c', b, n, bs).permute(1, 0, 2).dup('c').reshape('c', n, b * bs);
    }

    /** {@code (n x bB)} → {@code (b n x B)}, the inverse of {@link #toVectorMajor}. */
    static INDArray toStacked(INDArray y, int b) {
        long n = y.rows();
        long bs = y.columns() / b;
        if (b == 1) {
            return y;
        }
        return y.reshape('c', n, b, bs).permute(1, 0, 2).dup('c').reshape('c', b * n, bs);
    }

    /**
     * The θ^k segments of a block of full vectors as a direction block: rows
     * {@code offset .. offset + d − 1} of V {@code (D x b)} → {@code (b n x (m+1))} ({@link ThetaIndex#matrices}).
     */
    public static INDArray directionBlock(INDArray v, long offset, ThetaIndex theta) {
        return theta.matrices(v, offset);
    }

    /**
     * The inverse of {@link #directionBlock}: {@code (b n x (m+1))} → {@code (d x b)}, θ per direction
     * ({@link ThetaIndex#thetaColumns}).
     */
    public static INDArray thetaColumns(INDArray block, ThetaIndex theta) {
        return theta.thetaColumns(block);
    }

    /** The same for a layer with n outputs and m1 = m + 1 columns of [W b]. */
    public static INDArray thetaColumns(INDArray block, int n, int m1) {
        return thetaColumns(block, ThetaIndex.forLayer(n, m1 - 1));
    }
}
