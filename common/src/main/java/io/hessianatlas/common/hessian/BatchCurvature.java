package io.hessianatlas.common.hessian;


import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Backward Hessian propagation for one mini-batch of B samples (samples as columns), docs/design.md §2.
 *
 * <pre>
 *   forward   a^0 = x,  z^l = W^l a^{l-1} + b^l,  a^l = f_l(z^l)                 {@link BatchForward}
 *   delta     δ^L = dJ/dz^L,  δ^l = f_l'(z^l) ⊙ W^{l+1 T} δ^{l+1}                {@link BatchForward#deltaRecursion}
 *   ggn       C^L = S (Q^L = S Sᵀ),  C^l = D_l W^{l+1 T} C^{l+1},  Q^l = C^l C^{l T}  {@link #squareRootFactorRecursion}
 *   hessian   Q^l = D_l W^{l+1 T} Q^{l+1} W^{l+1} D_l + diag(f_l''(z^l) ⊙ W^{l+1 T} δ^{l+1})   {@link #qRecursion}
 * </pre>
 * with D_l = diag(f_l'(z^l)). Every step is one or two GEMMs over the whole batch plus a few
 * element-wise ops: per-sample matrices are kept "sample-major" (see {@link BatchLayout}): C^l is
 * {@code (n_l x pB)} (held as its transpose, {@code (pB x n_l)} row-major, so that C_sᵀ of each sample
 * is one contiguous block), exact Q^l is {@code (n_l x n_l B)}. Layers below {@code lowestLayer} are
 * not back-propagated.
 *
 * <p>Instances are results (the per-sample Q is made on first use and kept); they hold ND4J arrays and must not leave the thread/task
 * that made them.
 */
public final class BatchCurvature {
    private final BatchForward forward;
    private final CurvatureMode mode;
    private final INDArray[] factors;         // ggn: [l] = C^lᵀ rows (pB x n_l), see factorRows
    private final INDArray[] exactQ;          // hessian: [l] = Q^l (n_l x n_l B)
    private final INDArray[] perSample;       // [l] = perSampleCurvature(l) once asked for

    private BatchCurvature(BatchForward forward, CurvatureMode mode, INDArray[] factors, INDArray[] exactQ) {
        this.forward = forward;
        this.mode = mode;
        this.factors = factors;
        this.exactQ = exactQ;
        this.perSample = new INDArray[forward.network.depth() + 1];
    }

    /**
     * Runs forward, delta back-propagation and the curvature recursion of {@code mode} down to
     * layer {@code lowestLayer} (1 = all layers).
     *
     * @param inputs  x, {@code (n_0 x B)} float64
     * @param targets y, {@code (p x B)} float64 (one-hot for softmax cross-entropy)
     * @throws IllegalArgumentException when the shapes do not fit the network (both shapes named)
     */
    public static BatchCurvature compute(Network network, INDArray inputs, INDArray targets, CurvatureMode mode,
                                         int lowestLayer) {
        return propagate(BatchForward.compute(network, inputs, targets, lowestLayer, mode == CurvatureMode.HESSIAN), mode);
    }

    /**
     * The same from ã^0 = [x; 1] {@code ((n_0+1) x B)} (see {@link BatchForward#computeAugmented});
     * its data type (DOUBLE or FLOAT) is the compute type of the propagation.
     */
    public static BatchCurvature computeAugmented(Network network, INDArray augmentedInputs, INDArray targets,
                                                  CurvatureMode mode, int lowestLayer) {
        return propagate(BatchForward.computeAugmented(network, augmentedInputs, targets, lowestLayer,
                mode == CurvatureMode.HESSIAN), mode);
    }

    private static BatchCurvature propagate(BatchForward fw, CurvatureMode mode) {
        Network network = fw.network;
        DataType type = fw.dataType();
        int lowestLayer = fw.lowestLayer;
        int depth = network.depth();
        int b = fw.batchSize;
        Loss loss = network.loss();
        INDArray logits = fw.logits;
        INDArray[] factor = mode == CurvatureMode.GGN ? new INDArray[depth + 1] : null;
        INDArray[] q = mode == CurvatureMode.HESSIAN ? new INDArray[depth + 1] : null;
        if (mode == CurvatureMode.GGN) {
            // rows layout: C^Lᵀ, row s·p + a = column a of S_s
            factor[depth] = BatchForward.inType(loss.hessianFactor(logits), type).transpose().dup('c');
        } else {
            q[depth] = BatchForward.inType(loss.hessian(logits), type);
        }
        for (int l = depth - 1; l >= lowestLayer; l--) {
            INDArray wUp = network.layer(l + 1).weightMatrix(type);   // (n_{l+1} x n_l)
            if (mode == CurvatureMode.GGN) {
                factor[l] = squareRootFactorRecursion(wUp, factor[l + 1], fw.fp[l], network.outputSize(), b);
            } else {
                q[l] = qRecursion(wUp, q[l + 1], fw.fp[l], fw.curvatureResidual(l), b);
            }
        }
        return new BatchCurvature(fw, mode, factor, q);
    }

    /**
     * The square-root-factor recursion of the GGN (docs/design.md §2), one layer down, for all B
     * samples at once:
     * <pre>
     *   C^l_s = D_l,s W^{l+1 T} C^{l+1}_s,   D_l,s = diag(f_l'(z^l_s)),   so that  Q^l_s = C^l_s C^l_sᵀ
     * </pre>
     * in the rows layout (each factor held as its transpose): C^{l+1}ᵀ {@code (pB x n_{l+1})} times
     * W^{l+1} {@code (n_{l+1} x n_l)} into a preallocated {@code (pB x n_l)}, then
     * {@code [s·p + a, i] *= f'(z)[i, s]} as one broadcast on the {@code (B, p, n_l)} view.
     *
     * @param w      W^{l+1} {@code (n_{l+1} x n_l)}
     * @param upRows C^{l+1}ᵀ {@code (pB x n_{l+1})}
     * @param fp     f_l'(z^l) {@code (n_l x B)}
     * @return C^lᵀ {@code (pB x n_l)} row-major
     */
    static INDArray squareRootFactorRecursion(INDArray w, INDArray upRows, INDArray fp, int p, int b) {
        long n = w.columns();
        INDArray rows = Nd4j.createUninitialized(w.dataType(), new long[] {upRows.rows(), n}, 'c');
        Nd4j.gemm(upRows, w, rows, false, false, 1.0, 0.0);
        INDArray fpRows = fp.transpose().dup('c');                                     // (B x n)
        rows.reshape('c', b, p, n).muli(fpRows.reshape('c', b, 1, n));
        return rows;
    }

    /**
     * The Q recursion (docs/design.md §2), one layer down, for all B samples at once:
     * <pre>
     *   Q^l_s = D_l,s W^{l+1 T} Q^{l+1}_s W^{l+1} D_l,s + diag(r^l_s),   D_l,s = diag(f_l'(z^l_s)),
     *   r^l   = f_l''(z^l) ⊙ W^{l+1 T} δ^{l+1}   ({@link BatchForward#curvatureResidual}; null = 0)
     * </pre>
     * The first term is the Gauss-Newton part, the second the residual of the exact Hessian.
     *
     * @param w        W^{l+1} {@code (n_{l+1} x n_l)}
     * @param qUp      Q^{l+1} {@code (n_{l+1} x n_{l+1} B)} sample-major
     * @param fp       f_l'(z^l) {@code (n_l x B)}
     * @param residual r^l {@code (n_l x B)}, or null
     * @return Q^l {@code (n_l x n_l B)} sample-major
     */
    static INDArray qRecursion(INDArray w, INDArray qUp, INDArray fp, INDArray residual, int b) {
        long nUp = w.rows();
        long n = w.columns();
        INDArray wt = w.transpose();
        INDArray left = wt.mmul(qUp);                                   // [W^T Q_s]            (n x n'B)
        // blocks transposed: [ (W^T Q_s)^T ] = [ Q_s W ]                                     (n' x nB)
        INDArray rightOperand = left.reshape('c', n, b, nUp).permute(2, 1, 0).dup('c').reshape('c', nUp, (long) b * n);
        INDArray q = wt.mmul(rightOperand);                             // [W^T Q_s W]          (n x nB)
        q = BatchLayout.scaleSampleMajor(q, fp, (int) n).muliRowVector(BatchLayout.sampleMajorRow(fp));
        if (residual != null) {
            q.addi(BatchLayout.tiledIdentity((int) n, b, q.dataType()).muli(BatchLayout.repeatColumns(residual, (int) n)));
        }
        return q;
    }

    public Network network() {
        return forward.network;
    }

    public CurvatureMode mode() {
        return mode;
    }

    public int batchSize() {
        return forward.batchSize;
    }

    public int lowestLayer() {
        return forward.lowestLayer;
    }

    /** The forward and first-order state this curvature was propagated from. */
    public BatchForward forward() {
        return forward;
    }

    /** z^L {@code (p x B)}. */
    public INDArray logits() {
        return forward.logits();
    }

    /** a^L {@code (p x B)}: softmax, sigmoid or the logits for mse. */
    public INDArray output() {
        return forward.network.loss().output(forward.logits());
    }

    /** Per-sample loss {@code (1 x B)}. */
    public INDArray losses() {
        return forward.network.loss().value(forward.logits(), forward.targets);
    }

    /** ã^{l-1} = [a^{l-1}; 1], {@code ((n_{l-1}+1) x B)}. */
    public INDArray augmentedInput(int l) {
        check(l);
        return forward.aug[l];
    }

    /** delta^l = dJ/dz^l, {@code (n_l x B)}. */
    public INDArray delta(int l) {
        check(l);
        return forward.delta[l];
    }

    /**
     * The GGN square-root factor C^l (Q^l_s = C_s C_sᵀ, C_s {@code (n_l x p)}) in the rows layout the
     * propagation keeps: its transpose, {@code (pB x n_l)} row-major,
     * row {@code s·p + a} is column a of C^l_s, so each sample's C_sᵀ {@code (p x n_l)} is one
     * contiguous block (ggn mode only).
     */
    public INDArray factorRows(int l) {
        check(l);
        if (factors == null) {
            throw new IllegalStateException("the square-root factor exists in ggn mode only");
        }
        return factors[l];
    }

    /** Exact Q^l, {@code (n_l x n_l B)} sample-major (hessian mode only). */
    public INDArray exactCurvature(int l) {
        check(l);
        if (exactQ == null) {
            throw new IllegalStateException("the exact per-sample Q is propagated in hessian mode only");
        }
        return exactQ[l];
    }

    /**
     * Per-sample Q^l of the mode as a rank-3 array {@code (B x n_l x n_l)}: C_s C_s^T in ggn mode,
     * the exact Q_s in hessian mode. Made once per layer (the global and the per-class sums read it).
     */
    public INDArray perSampleCurvature(int l) {
        check(l);
        if (perSample[l] == null) {
            perSample[l] = perSampleCurvatureOf(l);
        }
        return perSample[l];
    }

    private INDArray perSampleCurvatureOf(int l) {
        long n = forward.network.layer(l).fanOut();
        int batchSize = forward.batchSize;
        if (mode == CurvatureMode.HESSIAN) {
            return exactQ[l].reshape('c', n, batchSize, n).permute(1, 0, 2).dup('c');
        }
        int p = forward.network.outputSize();
        INDArray ct = factors[l].reshape('c', batchSize, p, n);                          // C_sᵀ (B x p x n)
        INDArray q = Nd4j.createUninitialized(ct.dataType(), new long[] {batchSize, n, n}, 'c');
        return Nd4j.matmul(ct, ct, q, true, false, false);
    }

    private void check(int l) {
        if (l < forward.lowestLayer || l > forward.network.depth()) {
            throw new IllegalArgumentException("layer " + l + " was not computed (layers " + forward.lowestLayer + ".."
                    + forward.network.depth() + ")");
        }
    }
}
