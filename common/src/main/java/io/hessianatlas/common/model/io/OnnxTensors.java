package io.hessianatlas.common.model.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import com.google.protobuf.ByteString;
import io.hessianatlas.common.model.io.onnx.OnnxProto.TensorProto;

/**
 * Values of an ONNX {@code TensorProto} (initializer or Constant): from {@code raw_data}
 * (little-endian, the layout torch.onnx writes) or from the typed repeated field. float32 is
 * widened to float64 exactly. Tensors in external files are refused. Every error is a
 * {@link ModelFormatException} whose message starts with {@code where} (file, node and tensor).
 */
final class OnnxTensors {
    /** TensorProto.DataType codes (onnx.proto) of the types read. */
    static final int FLOAT = 1;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int DOUBLE = 11;

    private OnnxTensors() {
    }

    static long[] dims(TensorProto t) {
        long[] d = new long[t.getDimsCount()];
        for (int i = 0; i < d.length; i++) {
            d[i] = t.getDims(i);
        }
        return d;
    }

    /** The number of elements: the product of the dimensions (1 for a scalar). */
    static int elementCount(TensorProto t, String where) {
        long n = 1;
        for (long d : dims(t)) {
            if (d < 0) {
                throw new ModelFormatException(where + " has shape " + Arrays.toString(dims(t))
                        + ", expected non-negative dimensions");
            }
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(where + " has shape " + Arrays.toString(dims(t))
                        + ", more elements than a Java array holds");
            }
        }
        return (int) n;
    }

    /** A float32 or float64 tensor's values, row-major, as float64. */
    static double[] floats(TensorProto t, String where) {
        checkStoredInFile(t, where);
        int n = elementCount(t, where);
        ByteString raw = t.getRawData();
        double[] out = new double[n];
        if (t.getDataType() == FLOAT) {
            if (!raw.isEmpty()) {
                ByteBuffer b = littleEndian(raw, n, Float.BYTES, where);
                for (int i = 0; i < n; i++) {
                    out[i] = b.getFloat(i * Float.BYTES);
                }
            } else {
                checkCount(t.getFloatDataCount(), n, "float_data", t, where);
                for (int i = 0; i < n; i++) {
                    out[i] = t.getFloatData(i);
                }
            }
        } else if (t.getDataType() == DOUBLE) {
            if (!raw.isEmpty()) {
                littleEndian(raw, n, Double.BYTES, where).asDoubleBuffer().get(out);
            } else {
                checkCount(t.getDoubleDataCount(), n, "double_data", t, where);
                for (int i = 0; i < n; i++) {
                    out[i] = t.getDoubleData(i);
                }
            }
        } else {
            throw new ModelFormatException(where + " has data type " + typeName(t.getDataType())
                    + ", expected float32 or float64");
        }
        return out;
    }

    /** An int64 or int32 tensor's values (a Reshape's shape). */
    static long[] ints(TensorProto t, String where) {
        checkStoredInFile(t, where);
        int n = elementCount(t, where);
        ByteString raw = t.getRawData();
        long[] out = new long[n];
        if (t.getDataType() == INT64) {
            if (!raw.isEmpty()) {
                littleEndian(raw, n, Long.BYTES, where).asLongBuffer().get(out);
            } else {
                checkCount(t.getInt64DataCount(), n, "int64_data", t, where);
                for (int i = 0; i < n; i++) {
                    out[i] = t.getInt64Data(i);
                }
            }
        } else if (t.getDataType() == INT32) {
            if (!raw.isEmpty()) {
                ByteBuffer b = littleEndian(raw, n, Integer.BYTES, where);
                for (int i = 0; i < n; i++) {
                    out[i] = b.getInt(i * Integer.BYTES);
                }
            } else {
                checkCount(t.getInt32DataCount(), n, "int32_data", t, where);
                for (int i = 0; i < n; i++) {
                    out[i] = t.getInt32Data(i);
                }
            }
        } else {
            throw new ModelFormatException(where + " has data type " + typeName(t.getDataType())
                    + ", expected int64 or int32");
        }
        return out;
    }

    /** The value of a one-element tensor of any numeric type read here (an activation's constant). */
    static double scalar(TensorProto t, String where) {
        if (elementCount(t, where) != 1) {
            throw new ModelFormatException(where + " has shape " + Arrays.toString(dims(t))
                    + ", expected a scalar (an element-wise activation takes scalar constants only)");
        }
        int type = t.getDataType();
        if (type == INT64 || type == INT32) {
            return ints(t, where)[0];
        }
        return floats(t, where)[0];
    }

    private static void checkStoredInFile(TensorProto t, String where) {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            throw new ModelFormatException(where + " keeps its data in an external file, which is not read "
                    + "(export the model with its weights inside the .onnx file)");
        }
    }

    private static ByteBuffer littleEndian(ByteString raw, int n, int size, String where) {
        if (raw.size() != (long) n * size) {
            throw new ModelFormatException(where + ": raw_data has " + raw.size() + " bytes, expected " + n + " x "
                    + size + " = " + (long) n * size);
        }
        return raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void checkCount(int have, int n, String field, TensorProto t, String where) {
        if (have != n) {
            throw new ModelFormatException(where + ": " + field + " has " + have + " values, expected " + n
                    + " for shape " + Arrays.toString(dims(t)));
        }
    }

    /** A data type's name as ONNX spells it (FLOAT, DOUBLE, FLOAT16, ...). */
    static String typeName(int dataType) {
        TensorProto.DataType type = TensorProto.DataType.forNumber(dataType);
        return type == null ? "code " + dataType : type.name();
    }
}
