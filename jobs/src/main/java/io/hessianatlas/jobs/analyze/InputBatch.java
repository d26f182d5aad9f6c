package io.hessianatlas.jobs.analyze;

import java.io.Serializable;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One validated mini-batch (possibly empty when every row of it was skipped as invalid) of samples in plain arrays: x {@code (n_0 x B)} and the targets y
 * {@code (p x B)}, both column-major (sample s at offset s·n), the sample ids and (softmax) the
 * class indices. Persisted once, it feeds the per-sample pass and every matrix-free pass.
 */
final class InputBatch implements Serializable {
    private static final long serialVersionUID = 1L;

    final Object[] ids;
    final double[] x;
    final double[] y;
    final int[] classes;
    final int inputWidth;
    final int outputWidth;
    /** Rows of this batch dropped by --on-invalid-row skip, and the first reasons. */
    final int skipped;
    final java.util.List<String> skipReasons;

    InputBatch(Object[] ids, double[] x, double[] y, int[] classes, int inputWidth, int outputWidth, int skipped,
               java.util.List<String> skipReasons) {
        this.skipped = skipped;
        this.skipReasons = skipReasons;
        this.ids = ids;
        this.x = x;
        this.y = y;
        this.classes = classes;
        this.inputWidth = inputWidth;
        this.outputWidth = outputWidth;
    }

    int size() {
        return ids.length;
    }

    INDArray inputs() {
        return Nd4j.create(x, new long[] {inputWidth, ids.length}, 'f');
    }

    INDArray targets() {
        return Nd4j.create(y, new long[] {outputWidth, ids.length}, 'f');
    }
}
