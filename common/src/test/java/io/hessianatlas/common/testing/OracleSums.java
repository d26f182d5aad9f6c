package io.hessianatlas.common.testing;

import java.util.Arrays;

import io.hessianatlas.common.aggregate.CurvatureAccumulator;
import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.SampleScores;
import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Network;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** An oracle case's samples accumulated in mini-batches, as the per-sample pass does. */
public final class OracleSums {
    private OracleSums() {
    }

    /** The case's sums under a plan, accumulated over batches of {@code batch} samples. */
    public static CurvatureSums accumulate(OracleCase oc, CurvaturePlan plan, int batchSize) {
        Network net = oc.network();
        INDArray x = oc.inputs();
        INDArray y = oc.targets();
        int n = oc.sampleCount();
        int[] labels = net.classCount() > 0 ? oc.classLabels() : null;
        CurvatureAccumulator acc = new CurvatureAccumulator(net, plan);
        SymmetricEigen eigen = new SymmetricEigen(16);
        for (int from = 0; from < n; from += batchSize) {
            int to = Math.min(n, from + batchSize);
            INDArray xs = x.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to)).dup();
            INDArray ys = y.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to)).dup();
            BatchCurvature batch = BatchCurvature.compute(net, xs, ys, plan.mode(), plan.lowestLayer());
            int[] lab = labels == null ? null : Arrays.copyOfRange(labels, from, to);
            acc.add(batch, SampleScores.compute(batch, plan.layers(), false, eigen), lab);
        }
        return acc.toSums();
    }
}
