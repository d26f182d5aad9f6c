package io.hessianatlas.jobs.analyze.spark;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

import io.hessianatlas.common.hessian.BatchForward;
import io.hessianatlas.common.hessian.CurvatureProducts;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchWorkspace;
import io.hessianatlas.common.nd4j.HostBuffers;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.nd4j.ThetaIndex;
import io.hessianatlas.jobs.analyze.io.InputBatch;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import scala.Tuple2;

/**
 * Passes over the persisted input batches shared by several matrices' iterations: each matrix (a
 * layer's θ-block, or the whole network) runs its Lanczos and density iterations in its own driver
 * thread as a {@link Participant}, and a product it asks for waits until every participant still
 * iterating has asked for one (or finished). Then ONE distributed pass computes all of them: every
 * partition reads each mini-batch once, runs its forward pass once, and adds each request's
 * {@code Σ_s H_s V} ({@link CurvatureProducts}, one request at a time, block-diagonal: a layer's
 * product sees only its own direction). So a run's passes over the data are the longest iteration's,
 * not the sum over matrices.
 *
 * <p>Each request's product is computed from the same batches, in the same order and with the same
 * GEMMs as when it runs alone, so a matrix's results do not depend on which others share its passes.
 * Requests of different compute types ({@link Precision}) go into separate passes (float32 products
 * merge batches to {@link #FLOAT32_PRODUCT_BATCH_SAMPLES} samples). Which requests share a pass is
 * deterministic: a pass starts only when every participant still iterating has asked.
 */
final class SharedPasses {
    /**
     * float32 products merge consecutive persisted mini-batches up to this many samples: their GEMMs
     * ran at 64–70 GFLOP/s with 1,024 columns against 50–52 at 256 (KernelBenchmark, 784/256 layer,
     * 20 directions, one thread). float64 products keep the persisted batches: at 1,024 columns their
     * (b n x B) intermediates outgrow the cache and ran at 42–44 GFLOP/s against 45–47 at 256.
     */
    static final int FLOAT32_PRODUCT_BATCH_SAMPLES = 1024;

    private final JavaSparkContext jsc;
    private final JavaRDD<InputBatch> batches;
    private final Broadcast<Network> network;
    private final boolean exact;
    private final long count;
    private final Object lock = new Object();
    private final List<Request> pending = new ArrayList<>();
    private int active;
    private int passes;
    private RuntimeException failure;

    /**
     * @param exact exact Hessian (hessian mode) or GGN
     * @param count N, the number of samples in {@code batches} (products are means: (1/N) Σ_s H_s V)
     */
    SharedPasses(JavaSparkContext jsc, JavaRDD<InputBatch> batches, Broadcast<Network> network, boolean exact, long count) {
        this.jsc = jsc;
        this.batches = batches;
        this.network = network;
        this.exact = exact;
        this.count = count;
    }

    /**
     * A new participant. Register every participant before any of them asks for a product: a pass
     * starts as soon as all registered ones that have not left are waiting.
     */
    Participant join() {
        synchronized (lock) {
            active++;
            return new Participant();
        }
    }

    /** The operator's dimension d: the layer's θ-block (layer ≥ 1), or every parameter of the network (0). */
    static long dimension(Network net, int layer) {
        return layer == 0 ? net.parameterCount() : net.layer(layer).parameterCount();
    }

    /** Distributed passes over the data so far. */
    int passes() {
        synchronized (lock) {
            return passes;
        }
    }

    /** One matrix's iteration: asks for products through its operators, and leaves when done. */
    final class Participant implements AutoCloseable {
        private boolean left;
        private int passes;
        private long waitNanos;

        private Participant() {
        }

        /** A matrix-free operator of this participant: layer ≥ 1, or 0 for the whole network. */
        DistributedCurvatureOperator operator(int layer, Precision precision) {
            return new DistributedCurvatureOperator(this, network.value(), layer, precision);
        }

        /** Passes this participant's products took part in. */
        int passes() {
            return passes;
        }

        /** Wall seconds this participant spent waiting for its products (its passes, and the others' driver work before them). */
        double passSeconds() {
            return waitNanos / 1e9;
        }

        INDArray product(int layer, Precision precision, INDArray block) {
            long t0 = System.nanoTime();
            INDArray out = SharedPasses.this.submit(new Request(this, layer, precision, block));
            passes++;
            waitNanos += System.nanoTime() - t0;
            return out;
        }

        /** This participant asks for no more products (idempotent). */
        @Override
        public void close() {
            SharedPasses.this.leave(this);
        }

        /** Stops every participant: their next (or pending) product throws {@code cause}. */
        void abort(RuntimeException cause) {
            synchronized (lock) {
                if (failure == null) {
                    failure = cause;
                }
                lock.notifyAll();
            }
            close();
        }
    }

    private static final class Request {
        final Participant owner;
        final int layer;
        final Precision precision;
        final INDArray block;
        INDArray result;

        Request(Participant owner, int layer, Precision precision, INDArray block) {
            this.owner = owner;
            this.layer = layer;
            this.precision = precision;
            this.block = block;
        }
    }

    private INDArray submit(Request r) {
        synchronized (lock) {
            if (failure != null) {
                throw failure;
            }
            if (r.owner.left) {
                throw new IllegalStateException("a participant asked for a product after it left");
            }
            pending.add(r);
            if (pending.size() == active) {
                runPending();
            }
            while (r.result == null && failure == null) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a pass over the data", e);
                }
            }
            if (r.result == null) {
                throw failure;
            }
            return r.result;
        }
    }

    private void leave(Participant p) {
        synchronized (lock) {
            if (p.left) {
                return;
            }
            p.left = true;
            active--;
            if (failure == null && active > 0 && pending.size() == active) {
                runPending();
            }
            lock.notifyAll();
        }
    }

    /**
     * Runs the pending requests (called with the lock held, when every active participant waits): one
     * pass per compute type, requests in the order of their layer so a pass's work does not depend on
     * which thread asked first.
     */
    private void runPending() {
        List<Request> all = new ArrayList<>(pending);
        pending.clear();
        all.sort(Comparator.comparingInt(q -> q.layer));
        try {
            for (Precision type : Precision.values()) {
                List<Request> group = all.stream().filter(q -> q.precision == type).toList();
                if (!group.isEmpty()) {
                    INDArray[] out = pass(group, type);
                    for (int i = 0; i < group.size(); i++) {
                        group.get(i).result = out[i];
                    }
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            lock.notifyAll();
        }
    }

    /**
     * ONE distributed pass: the requests' blocks are broadcast, every partition adds each request's
     * products over its mini-batches ({@link #partitionProducts}), and the partial sums are merged by
     * {@link OrderedTreeAggregate} (deterministic). Returns per request {@code (1/N) Σ_s H_s V} {@code (d x b)}.
     */
    private INDArray[] pass(List<Request> group, Precision type) {
        // one BLAS thread per task during the pass, all cores for the driver's work between passes
        NativeRuntime.setThreads(1);
        int m = group.size();
        int[] layers = new int[m];
        int[] widths = new int[m];
        long[] dims = new long[m];
        long total = 0;
        for (int i = 0; i < m; i++) {
            Request q = group.get(i);
            layers[i] = q.layer;
            widths[i] = (int) q.block.columns();
            dims[i] = q.block.rows();
            total += dims[i] * widths[i];
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalStateException("a pass's products of " + total + " entries exceed one Java array");
        }
        double[] v = new double[(int) total];
        int at = 0;
        for (Request q : group) {
            INDArray f = q.block.dup('f');
            int len = (int) f.length();
            HostBuffers.bytes(f).asDoubleBuffer().get(v, at, len);
            f.close();
            at += len;
        }
        int size = (int) total;
        Broadcast<double[]> directions = jsc.broadcast(v);
        boolean ex = exact;
        Broadcast<Network> net = network;
        try {
            double[] sum = OrderedTreeAggregate.reduce(
                    batches.mapPartitionsWithIndex((Integer idx, Iterator<InputBatch> it) -> {
                        List<Tuple2<Integer, double[]>> out = new ArrayList<>(1);
                        out.add(new Tuple2<>(idx, partitionProducts(net.value(), it, directions.value(), layers, widths, ex, type)));
                        return out.iterator();
                    }, true).mapToPair(t -> t),
                    batches.getNumPartitions(), () -> new double[size], (x, y) -> {
                        for (int i = 0; i < x.length; i++) {
                            x[i] += y[i];
                        }
                        return x;
                    });
            passes++;
            INDArray[] out = new INDArray[m];
            at = 0;
            for (int i = 0; i < m; i++) {
                int len = (int) (dims[i] * widths[i]);
                out[i] = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {dims[i], widths[i]}, 'f');
                HostBuffers.bytes(out[i]).asDoubleBuffer().put(sum, at, len);
                HostBuffers.wroteOnHost(out[i]);
                out[i].divi(count);
                at += len;
            }
            return out;
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            directions.destroy();
            NativeRuntime.setThreads(Runtime.getRuntime().availableProcessors());
        }
    }

    /**
     * Σ over the partition's samples of H_s V for every request, concatenated column-major
     * ({@code (d_i x b_i)} after each other, in the order of {@code layers}): each mini-batch is read
     * and propagated forward once, then each request's product is added in {@code precision}, its
     * sum over batches in float64.
     *
     * @param v      the requests' blocks, concatenated column-major
     * @param layers per request its layer (≥ 1), or 0 for the whole network
     * @param widths per request its block's columns b
     */
    static double[] partitionProducts(Network net, Iterator<InputBatch> it, double[] v, int[] layers, int[] widths,
                                      boolean exact, Precision precision) {
        NativeRuntime.configure();
        int depth = net.depth();
        int m = layers.length;
        LayerRequest[] requests = new LayerRequest[m];
        long offset = 0;
        int lowest = depth;
        for (int i = 0; i < m; i++) {
            requests[i] = new LayerRequest(net, v, offset, layers[i], widths[i], precision);
            offset += requests[i].dimension * widths[i];
            lowest = Math.min(lowest, layers[i] == 0 ? 1 : layers[i]);
        }
        Iterator<InputBatch> merged = InputBatch.merged(it, precision == Precision.FLOAT32 ? FLOAT32_PRODUCT_BATCH_SAMPLES : 1);
        while (merged.hasNext()) {
            InputBatch in = merged.next();
            // the batch's arrays live in the per-batch workspace; only the running sums outside it
            try (MemoryWorkspace ignored = BatchWorkspace.open()) {
                BatchForward fw = BatchForward.computeAugmented(net, in.augmentedInputs(precision.dataType()), in.targets(),
                        lowest, exact);
                for (LayerRequest q : requests) {
                    CurvatureProducts.accumulate(fw, q.dirs, q.outs, q.width, exact, q.acc);
                }
            }
        }
        double[] out = new double[(int) offset];
        int at = 0;
        for (LayerRequest q : requests) {
            double[] part = q.result();
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    /**
     * One request inside a partition: its direction blocks per layer, which layers' products it
     * wants, and their float64 running sums {@code (b n_k x (n_{k-1}+1))}.
     */
    private static final class LayerRequest {
        final int width;
        final long dimension;
        final INDArray[] dirs;
        final boolean[] outs;
        final INDArray[] acc;
        final ThetaIndex[] theta;

        LayerRequest(Network net, double[] v, long start, int layer, int b, Precision precision) {
            int depth = net.depth();
            this.width = b;
            this.dirs = new INDArray[depth + 1];
            this.outs = new boolean[depth + 1];
            this.acc = new INDArray[depth + 1];
            this.theta = new ThetaIndex[depth + 1];
            long d = dimension(net, layer);
            this.dimension = d;
            // one bulk copy of this request's columns out of the broadcast array (Nd4j.create(double[])
            // goes element by element)
            INDArray block = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {d, b}, 'f');
            HostBuffers.bytes(block).asDoubleBuffer().put(v, (int) start, (int) (d * b));
            HostBuffers.wroteOnHost(block);
            long offset = 0;
            // the operator's vector is [θ^l] (one layer) or [θ^1; ...; θ^L] (the network)
            for (int l = 1; l <= depth; l++) {
                if (layer == 0 || layer == l) {
                    theta[l] = ThetaIndex.forLayer(net.layer(l).fanOut(), net.layer(l).fanIn());
                    dirs[l] = BatchForward.inType(CurvatureProducts.directionBlock(block, offset, theta[l]), precision.dataType());
                    outs[l] = true;
                    // the float64 sums, outside the batch workspace; float64 batches' last GEMM adds into them
                    acc[l] = Nd4j.create(DataType.DOUBLE, (long) b * theta[l].fanOut(), theta[l].augmentedFanIn());
                    offset += theta[l].dimension();
                }
            }
            release(block);
        }

        /** The sums as a column-major {@code (d x b)} array; frees this request's arrays. */
        double[] result() {
            INDArray r = Nd4j.create(DataType.DOUBLE, new long[] {dimension, width}, 'f');
            long offset = 0;
            for (int l = 1; l < acc.length; l++) {
                if (outs[l]) {
                    long size = theta[l].dimension();
                    INDArray columns = CurvatureProducts.thetaColumns(acc[l], theta[l]);
                    r.get(NDArrayIndex.interval(offset, offset + size), NDArrayIndex.all()).assign(columns);
                    release(columns);
                    offset += size;
                }
            }
            double[] out = new double[(int) (dimension * width)];
            HostBuffers.bytes(r).asDoubleBuffer().get(out);   // one bulk read (data().asDouble() reads value by value)
            // released now rather than when the GC collects their handles: each is (d x b), 32 MB for a
            // 784-256 layer and 20 directions, allocated again by every pass (issue 14: peak RSS)
            release(r);
            for (int l = 1; l < acc.length; l++) {
                release(dirs[l]);
                release(acc[l]);
            }
            return out;
        }
    }

    /** Frees an array's off-heap buffer now, unless it is a view or already freed. */
    private static void release(INDArray a) {
        if (a != null && !a.wasClosed() && a.closeable()) {
            a.close();
        }
    }
}
