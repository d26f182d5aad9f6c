package io.hessianatlas.jobs.analyze.spark;

import java.io.Serializable;

import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.hessian.SampleScores;

/**
 * What the per-sample pass emits: one {@link Batch} of per-sample scores per mini-batch and, last,
 * one {@link Sums} per partition. Plain Java arrays, so the persisted pass is compact to serialize.
 */
public abstract class PassRecord implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Scores of one mini-batch; arrays indexed [sample] or [layerIndex][sample]. */
    static final class Batch extends PassRecord {
        private static final long serialVersionUID = 1L;
        final Object[] ids;
        final double[] loss;
        final double[] output;      // [s * p + k]
        final int outputWidth;
        final int[] predicted;      // -1 = none
        final int[] layers;
        final double[][] trace;
        final double[][] lambdaMax;
        final double[][] gradNorm;

        Batch(Object[] ids, SampleScores scores) {
            int b = scores.batchSize();
            int[] ls = scores.layers();
            this.ids = ids;
            this.outputWidth = scores.outputWidth();
            this.layers = ls;
            this.loss = new double[b];
            this.output = new double[b * outputWidth];
            this.predicted = new int[b];
            this.trace = new double[ls.length][b];
            this.lambdaMax = new double[ls.length][b];
            this.gradNorm = new double[ls.length][b];
            for (int s = 0; s < b; s++) {
                loss[s] = scores.loss(s);
                System.arraycopy(scores.output(s), 0, output, s * outputWidth, outputWidth);
                predicted[s] = scores.predictedClass(s);
                for (int li = 0; li < ls.length; li++) {
                    trace[li][s] = scores.trace(li, s);
                    lambdaMax[li][s] = scores.lambdaMax(li, s);
                    gradNorm[li][s] = scores.gradNorm(li, s);
                }
            }
        }
    }

    /** The float64 sums of one partition. */
    static final class Sums extends PassRecord {
        private static final long serialVersionUID = 1L;
        final int partition;
        final CurvatureSums sums;
        /** Rows of the partition dropped by --on-invalid-row skip, and the first reasons. */
        final long skipped;
        final java.util.List<String> skipReasons;

        Sums(int partition, CurvatureSums sums, long skipped, java.util.List<String> skipReasons) {
            this.partition = partition;
            this.sums = sums;
            this.skipped = skipped;
            this.skipReasons = skipReasons;
        }
    }
}
