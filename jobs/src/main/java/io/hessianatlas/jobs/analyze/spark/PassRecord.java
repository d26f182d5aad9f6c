package io.hessianatlas.jobs.analyze.spark;

import java.io.Serializable;
import java.util.List;

import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.hessian.SampleScores;

/**
 * What the per-sample pass emits: one {@link Batch} of per-sample scores per mini-batch and, last,
 * one {@link Sums} per partition. Plain Java arrays, so the persisted pass is compact to serialize.
 */
public sealed interface PassRecord extends Serializable {

    /**
     * Scores of one mini-batch of b samples; arrays indexed [sample] or [layerIndex][sample].
     *
     * @param labels      the labels as the samples table holds them (see LabelType)
     * @param output      the network outputs, {@code [s * outputWidth + k]}
     * @param predicted   the predicted class of each sample, -1 where there is none
     */
    record Batch(Object[] ids, Object[] labels, double[] loss, double[] output, int outputWidth, int[] predicted, int[] layers,
                 double[][] trace, double[][] lambdaMax, double[][] gradNorm) implements PassRecord {

        /** Copies a batch's scores out of ND4J into plain arrays. */
        public static Batch of(Object[] ids, Object[] labels, SampleScores scores) {
            int b = scores.batchSize();
            int[] ls = scores.layers();
            int width = scores.outputWidth();
            double[] loss = new double[b];
            double[] output = new double[b * width];
            int[] predicted = new int[b];
            double[][] trace = new double[ls.length][b];
            double[][] lambdaMax = new double[ls.length][b];
            double[][] gradNorm = new double[ls.length][b];
            for (int s = 0; s < b; s++) {
                loss[s] = scores.loss(s);
                System.arraycopy(scores.output(s), 0, output, s * width, width);
                predicted[s] = scores.predictedClass(s);
                for (int li = 0; li < ls.length; li++) {
                    trace[li][s] = scores.trace(li, s);
                    lambdaMax[li][s] = scores.lambdaMax(li, s);
                    gradNorm[li][s] = scores.gradNorm(li, s);
                }
            }
            return new Batch(ids, labels, loss, output, width, predicted, ls, trace, lambdaMax, gradNorm);
        }
    }

    /**
     * The float64 sums of one partition.
     *
     * @param skipped     rows of the partition dropped by --on-invalid-row skip
     * @param skipReasons the first reasons
     */
    record Sums(int partition, CurvatureSums sums, long skipped, List<String> skipReasons) implements PassRecord {
    }
}
