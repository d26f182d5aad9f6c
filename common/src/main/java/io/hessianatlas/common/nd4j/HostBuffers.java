package io.hessianatlas.common.nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Direct access to an ND4J array's buffer on the host, for the few places that read or write a
 * whole batch array in one pass (bulk copies, norms) or hand it to BLAS themselves.
 */
public final class HostBuffers {
    private HostBuffers() {
    }

    /**
     * Whether a's values are exactly its whole buffer, contiguous in its own order ('c' or 'f'): no
     * offset, no stride, no view of a larger array.
     */
    public static boolean isPacked(INDArray a) {
        return a.offset() == 0 && a.elementWiseStride() == 1 && a.data().length() == a.length()
                && (a.ordering() == 'c' || a.ordering() == 'f');
    }

    /**
     * a's whole buffer as bytes in native order, after making the host copy current (a no-op on CPU
     * backends). After writing through it, call {@link #wroteOnHost}.
     */
    public static ByteBuffer bytes(INDArray a) {
        Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
        return a.data().asNio().order(ByteOrder.nativeOrder());
    }

    /** Marks the host copy as the current one after a write through {@link #bytes}. */
    public static void wroteOnHost(INDArray a) {
        Nd4j.getAffinityManager().tagLocation(a, AffinityManager.Location.HOST);
    }
}
