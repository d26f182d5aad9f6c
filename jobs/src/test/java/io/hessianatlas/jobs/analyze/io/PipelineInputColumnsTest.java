package io.hessianatlas.jobs.analyze.io;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hessianatlas.jobs.analyze.api.InputException;
import org.apache.spark.ml.feature.ElementwiseProduct;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * A Spark ML pipeline stage whose input columns the data lacks is an input error naming the stage
 * and the columns (the digits demo's stages: VectorAssembler p0..p3 → raw, ElementwiseProduct raw →
 * features), checked on the schema before Spark runs the stage.
 */
class PipelineInputColumnsTest {
    private static final StructType PIXELS = new StructType().add("label", DataTypes.DoubleType)
            .add("p0", DataTypes.DoubleType).add("p1", DataTypes.DoubleType).add("p3", DataTypes.DoubleType);

    @Test
    void missingInputColumnsNameTheStageAndTheColumns() {
        VectorAssembler assembler = new VectorAssembler().setInputCols(new String[] {"p0", "p1", "p2", "p3"}).setOutputCol("raw");
        InputException e = assertThrows(InputException.class, () -> InputPreparation.requireInputColumns(assembler, 0, PIXELS));
        assertEquals("--data: the model's pipeline stage 0 (VectorAssembler " + assembler.uid() + ") needs column(s) the data "
                + "lacks: p2 (columns: label, p0, p1, p3)", e.getMessage());

        ElementwiseProduct scale = new ElementwiseProduct().setScalingVec(Vectors.dense(1, 1)).setInputCol("raw").setOutputCol("x");
        assertThrows(InputException.class, () -> InputPreparation.requireInputColumns(scale, 1, PIXELS));
        assertDoesNotThrow(() -> InputPreparation.requireInputColumns(scale, 1, PIXELS.add("raw", DataTypes.DoubleType)));
    }
}
