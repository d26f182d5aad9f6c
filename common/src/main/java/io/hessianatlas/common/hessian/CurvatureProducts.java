package io.hessianatlas.common.hessian;

import io.hessianatlas.common.nd4j.BatchLayout;
import io.hessianatlas.common.model.Network;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Matrix-free curvature-vector products summed over a mini-batch: Σ_s H_s v for a block of b
 * directions v, where H_s is the per-sample generalised Gauss-Newton matrix (J_sᵀ Q^L_s J_s) or
 * the exact Hessian of J_s with respect to the parameters, by forward and reverse
 * "R-operator" passes (Pearlmutter 1994), batched over samples and directions:
 * <pre>
 *   forward   R{z^k} = W^k R{a^{k-1}} + V^k ã^{k-1},    R{a^k} = f_k' ⊙ R{z^k}
 *   backward  R{δ^L} = Q^L R{z^L}
 *             R{δ^k} = f_k' ⊙ (W^{k+1 T} R{δ^{k+1}} + [V_W^{k+1 T} δ^{k+1}]) + [f_k'' ⊙ g^k ⊙ R{z^k}]
 *   product   (H v)_{θ^k} = Σ_s R{δ^k}_s ã_s^{k-1 T} + [Σ_s δ^k_s R{a^{k-1}}_sᵀ]      (as [W b] matrices)
 * </pre>
 * The bracketed terms are the second-order ones of the exact Hessian; without them the same
 * passes give the GGN (a Jacobian-vector product, Q^L, then a vector-Jacobian product). With the
 * direction confined to one layer l and the output read at layer l, this is the layer's θ-block
 * H_θ^l v = Σ_s vec(Q^l_s V ã_s ã_sᵀ), the recursion of DESIGN.md §4.
 *
 * <p>Layouts: a direction block of layer k is {@code (b n_k x (n_{k-1}+1))}, rows {@code c n_k .. c n_k + n_k − 1}
 * holding the [W b] matrix V_c (whose column-major vec is the θ^k segment of direction c); inside,
 * per-sample quantities of all directions are "vector-major" {@code (n x bB)}, column {@code c B + s}.
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
        Network net = fw.network;
        int depth = net.depth();
        int bs = fw.batchSize;
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
        for (int k = lo; k <= depth; k++) {
            INDArray v = null;
            if (k > lo && ra[k - 1] != null) {
                v = net.layer(k).weightMatrix().mmul(ra[k - 1]);
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
        INDArray[] out = new INDArray[depth + 1];
        INDArray rdelta = rz[depth] == null ? null : net.loss().hessianTimes(fw.logits, rz[depth]);
        for (int k = depth; k >= loOut; k--) {
            if (k < depth) {
                INDArray t = rdelta == null ? null : net.layer(k + 1).weightMatrix().transpose().mmul(rdelta);
                if (exact && directions[k + 1] != null) {
                    INDArray vt = directionTransposeTimesDelta(directions[k + 1], fw.delta[k + 1], b);
                    t = t == null ? vt : t.addi(vt);
                }
                INDArray next = t == null ? null : BatchLayout.scaleVectorMajor(t, fw.fp[k], b);
                if (exact && fw.fpp[k] != null && rz[k] != null) {
                    INDArray second = BatchLayout.scaleVectorMajor(rz[k].dup('c'), fw.fpp[k].mul(fw.backDelta[k]), b);
                    next = next == null ? second : next.addi(second);
                }
                rdelta = next;
            }
            if (!outputs[k]) {
                continue;
            }
            int n = net.layer(k).fanOut();
            int m1 = net.layer(k).fanIn() + 1;
            INDArray g = rdelta == null ? Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.DOUBLE, (long) b * n, m1)
                    : toStacked(rdelta, b).mmul(fw.aug[k].transpose());
            if (exact && k > 1 && ra[k - 1] != null) {
                // Σ_s δ^k_s R{a^{k-1}}_{c,s}ᵀ for every direction c: one GEMM, (n x b m)
                int m = m1 - 1;
                INDArray cross = fw.delta[k].mmul(toStacked(ra[k - 1], b).transpose());
                for (int c = 0; c < b; c++) {
                    g.get(NDArrayIndex.interval((long) c * n, (long) (c + 1) * n), NDArrayIndex.interval(0, m))
                            .addi(cross.get(NDArrayIndex.all(), NDArrayIndex.interval((long) c * m, (long) (c + 1) * m)));
                }
            }
            out[k] = g;
        }
        return out;
    }

    /** V_W,cᵀ δ for each direction c: directions {@code (b n' x (n+1))}, δ {@code (n' x B)} → {@code (n x bB)}. */
    private static INDArray directionTransposeTimesDelta(INDArray directions, INDArray delta, int b) {
        long nUp = delta.rows();
        long n1 = directions.columns();
        long bs = delta.columns();
        INDArray out = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.DOUBLE, n1 - 1, b * bs);
        for (int c = 0; c < b; c++) {
            INDArray vw = directions.get(NDArrayIndex.interval(c * nUp, (c + 1) * nUp), NDArrayIndex.interval(0, n1 - 1));
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
     * {@code offset .. offset + n(m+1) − 1} of V {@code (d x b)} → {@code (b n x (m+1))}.
     */
    public static INDArray directionBlock(INDArray v, long offset, int n, int m1) {
        int b = (int) v.columns();
        INDArray seg = v.get(NDArrayIndex.interval(offset, offset + (long) n * m1), NDArrayIndex.all()).dup('f');
        return seg.reshape('f', n, m1, b).permute(2, 0, 1).dup('c').reshape('c', (long) b * n, m1);
    }

    /** The inverse of {@link #directionBlock}: {@code (b n x (m+1))} → {@code (n (m+1) x b)}, column-major vec per direction. */
    public static INDArray thetaColumns(INDArray block, int n, int m1) {
        int b = (int) (block.rows() / n);
        return block.reshape('c', b, n, m1).permute(1, 2, 0).dup('f').reshape('f', (long) n * m1, b);
    }
}
