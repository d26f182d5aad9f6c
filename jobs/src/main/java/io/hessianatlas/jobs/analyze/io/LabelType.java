package io.hessianatlas.jobs.analyze.io;

import io.hessianatlas.common.model.Loss;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * How the {@code label} column of the samples table holds a sample's label, as it was read: a class
 * index for softmax cross-entropy, a number when the network has one output (binary cross-entropy,
 * one-output mse), else the array of p targets.
 */
public enum LabelType {
    /** int: the class index (softmax cross-entropy) */
    CLASS_INDEX(DataTypes.IntegerType),
    /** double: the single target */
    NUMBER(DataTypes.DoubleType),
    /** array&lt;double&gt;: the p targets */
    ARRAY(DataTypes.createArrayType(DataTypes.DoubleType, false));

    private final DataType sparkType;

    LabelType(DataType sparkType) {
        this.sparkType = sparkType;
    }

    /** The label type of a loss with {@code outputWidth} outputs. */
    public static LabelType of(Loss loss, int outputWidth) {
        if (loss == Loss.SOFTMAX_CROSS_ENTROPY) {
            return CLASS_INDEX;
        }
        return outputWidth == 1 ? NUMBER : ARRAY;
    }

    public DataType sparkType() {
        return sparkType;
    }
}
