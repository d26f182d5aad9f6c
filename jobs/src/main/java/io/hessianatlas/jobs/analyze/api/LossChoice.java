package io.hessianatlas.jobs.analyze.api;

import io.hessianatlas.common.model.Loss;

/**
 * `--loss`: AUTO takes the loss from the model (model.json's "loss"; softmax cross-entropy for a
 * Spark ML MLP; an ONNX graph's final Softmax/LogSoftmax or Sigmoid), or one of the losses by its
 * model.json name. How a named loss meets the model's is {@code ModelLoader}'s rule.
 */
public enum LossChoice {
    AUTO, SOFTMAX_CROSS_ENTROPY, SIGMOID_BINARY_CROSS_ENTROPY, MSE;

    /** The loss named, or null for AUTO. */
    public Loss loss() {
        return this == AUTO ? null : Loss.valueOf(name());
    }
}
