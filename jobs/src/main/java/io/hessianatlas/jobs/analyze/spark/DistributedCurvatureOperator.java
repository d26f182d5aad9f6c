package io.hessianatlas.jobs.analyze.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import io.hessianatlas.common.hessian.BatchForward;
import io.hessianatlas.common.hessian.CurvatureProducts;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchWorkspace;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.nd4j.ThetaIndex;
import io.hessianatlas.common.spectra.SymmetricOperator;
import io.hessianatlas.jobs.analyze.io.InputBatch;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;

/**
 * The mean curvature of a layer's θ-block (layer ≥ 1) or of the whole network (layer 0) as a
 * matrix-free operator over the persisted input batches: {@code H V = (1/N) Σ_s H_s V} for a block
 * V {@code (d x b)}. Each {@link #apply} is ONE distributed pass: V is broadcast, every partition
 * runs {@link CurvatureProducts} over its mini-batches (GEMMs over samples and directions), and
 * the partial sums are merged by {@link OrderedTreeAggregate} (deterministic).
 */
public final class DistributedCurvatureOperator implements SymmetricOperator {
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
    private final int layer;
    private final boolean exact;
    private final Precision precision;
    private final long count;
    private final long dimension;
    private int passes;
    private long passNanos;

    /**
     * @param layer 1-based layer, or 0 for the whole network (all layers, cross-layer blocks included)
     * @param exact exact Hessian (hessian mode) or GGN
     * @param precision the executors' compute type of the per-batch products (their sums are float64)
     * @param count N, the number of samples in {@code batches}
     */
    DistributedCurvatureOperator(JavaSparkContext jsc, JavaRDD<InputBatch> batches, Broadcast<Network> network,
                                 int layer, boolean exact, Precision precision, long count) {
        this.jsc = jsc;
        this.batches = batches;
        this.network = network;
        this.layer = layer;
        this.exact = exact;
        this.precision = precision;
        this.count = count;
        Network net = network.value();
        this.dimension = layer == 0 ? net.parameterCount() : net.layer(layer).parameterCount();
    }

    @Override
    public long dimension() {
        return dimension;
    }

    /** The same operator with the per-batch products computed in {@code products} (its own pass count). */
    DistributedCurvatureOperator withPrecision(Precision products) {
        return new DistributedCurvatureOperator(jsc, batches, network, layer, exact, products, count);
    }

    /** Wall seconds spent in passes so far (the distributed products, including the broadcast and the merge). */
    double passSeconds() {
        return passNanos / 1e9;
    }

    /** Passes over the data so far (calls of {@link #apply}). */
    int passes() {
        return passes;
    }

    @Override
    public INDArray apply(INDArray block) {
        long t0 = System.nanoTime();
        // one BLAS thread per task during the pass, all cores for the driver's work between passes
        NativeRuntime.setThreads(1);
        int b = (int) block.columns();
        int d = (int) dimension;
        Broadcast<double[]> directions = jsc.broadcast(block.dup('f').data().asDouble());
        int lay = layer;
        boolean ex = exact;
        Precision type = precision;
        Broadcast<Network> net = network;
        try {
            double[] total = OrderedTreeAggregate.reduce(
                    batches.mapPartitionsWithIndex((Integer idx, Iterator<InputBatch> it) -> {
                        List<Tuple2<Integer, double[]>> out = new ArrayList<>(1);
                        out.add(new Tuple2<>(idx, partitionProducts(net.value(), it, directions.value(), d, b, lay, ex, type)));
                        return out.iterator();
                    }, true).mapToPair(t -> t),
                    batches.getNumPartitions(), () -> new double[d * b], (x, y) -> {
                        for (int i = 0; i < x.length; i++) {
                            x[i] += y[i];
                        }
                        return x;
                    });
            passes++;
            passNanos += System.nanoTime() - t0;
            return Nd4j.create(total, new long[] {d, b}, 'f').divi(count);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        finally {
            directions.destroy();
            NativeRuntime.setThreads(Runtime.getRuntime().availableProcessors());
        }
    }

    /**
     * Σ over the partition's samples of H_s V, as a column-major (d x b) array: each batch's product in
     * {@code precision}, the sum over batches in float64.
     */
    static double[] partitionProducts(Network net, Iterator<InputBatch> it, double[] v, int d, int b, int layer,
                                      boolean exact, Precision precision) {
        NativeRuntime.configure();
        int depth = net.depth();
        INDArray block = Nd4j.create(v, new long[] {d, b}, 'f');
        INDArray[] dirs = new INDArray[depth + 1];
        boolean[] outs = new boolean[depth + 1];
        ThetaIndex[] theta = new ThetaIndex[depth + 1];
        long offset = 0;
        // the operator's vector is [θ^l] (one layer) or [θ^1; ...; θ^L] (the network)
        for (int l = 1; l <= depth; l++) {
            if (layer == 0 || layer == l) {
                theta[l] = ThetaIndex.forLayer(net.layer(l).fanOut(), net.layer(l).fanIn());
                dirs[l] = BatchForward.inType(CurvatureProducts.directionBlock(block, offset, theta[l]), precision.dataType());
                outs[l] = true;
                offset += theta[l].dimension();
            }
        }
        int lowest = layer == 0 ? 1 : layer;
        // the partition's float64 sums, outside the batch workspace; float64 batches' last GEMM adds into them
        INDArray[] acc = new INDArray[depth + 1];
        for (int l = 1; l <= depth; l++) {
            if (outs[l]) {
                acc[l] = Nd4j.create(DataType.DOUBLE, (long) b * theta[l].fanOut(), theta[l].augmentedFanIn());
            }
        }
        Iterator<InputBatch> merged = precision == Precision.FLOAT32 ? InputBatch.merged(it, FLOAT32_PRODUCT_BATCH_SAMPLES)
                : InputBatch.merged(it, 1);
        while (merged.hasNext()) {
            InputBatch in = merged.next();
            // the batch's arrays live in the per-batch workspace; only the running sums outside it
            try (MemoryWorkspace ignored = BatchWorkspace.open()) {
                BatchForward fw = BatchForward.computeAugmented(net, in.augmentedInputs(precision.dataType()), in.targets(),
                        lowest, exact);
                CurvatureProducts.accumulate(fw, dirs, outs, b, exact, acc);
            }
        }
        INDArray result = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.DOUBLE, new long[] {d, b}, 'f');
        offset = 0;
        for (int l = 1; l <= depth; l++) {
            if (outs[l]) {
                long size = theta[l].dimension();
                if (acc[l] != null) {
                    INDArray columns = CurvatureProducts.thetaColumns(acc[l], theta[l]);
                    result.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + size),
                            org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(columns);
                    release(columns);
                }
                offset += size;
            }
        }
        double[] out = result.data().asDouble();
        // released now rather than when the GC collects their handles: each is (d x b), 32 MB for a
        // 784-256 layer and 20 directions, allocated again by every pass (issue 14: peak RSS)
        release(block);
        release(result);
        for (int l = 1; l <= depth; l++) {
            release(dirs[l]);
            release(acc[l]);
        }
        return out;
    }

    /** Frees an array's off-heap buffer now, unless it is a view or already freed. */
    private static void release(INDArray a) {
        if (a != null && !a.wasClosed() && a.closeable()) {
            a.close();
        }
    }
}
