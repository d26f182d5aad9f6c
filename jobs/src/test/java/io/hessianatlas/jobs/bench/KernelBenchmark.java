package io.hessianatlas.jobs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.hessianatlas.common.aggregate.CurvatureAccumulator;
import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.BatchForward;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.CurvatureProducts;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.hessian.SampleScores;
import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchWorkspace;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.nd4j.ThetaIndex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Kernel benchmark on one thread (a main, run by scripts/bench.sh; never a timed test): the
 * machine's float64/float32 GEMM peak at 1024³, then the engine's kernels on synthetic layers
 * with their flop counts, samples/s, GFLOP/s and fraction of the peak of their precision. Prints a table
 * and writes it as JSON to the path given as the first argument.
 */
public final class KernelBenchmark {
    private static final int OUTPUT = 10;

    private KernelBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        Path json = Path.of(args.length > 0 ? args[0] : "target/bench/kernels.json");
        NativeRuntime.configure(1);
        Map<String, Object> out = new LinkedHashMap<>();
        double peak64 = gemmPeak(DataType.DOUBLE);
        double peak32 = gemmPeak(DataType.FLOAT);
        out.put("gemm_1024_float64_gflops", peak64);
        out.put("gemm_1024_float32_gflops", peak32);
        System.out.printf(Locale.ROOT, "GEMM 1024^3, one thread: float64 %.1f GFLOP/s, float32 %.1f GFLOP/s%n", peak64, peak32);
        System.out.printf(Locale.ROOT, "%-44s %6s %12s %12s %10s %8s%n", "kernel", "batch", "MFLOP/batch", "samples/s",
                "GFLOP/s", "of peak");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int[] shape : new int[][] {{784, 256}, {256, 128}}) {
            for (int b : new int[] {256, 1024}) {
                rows.addAll(layerKernels(shape[0], shape[1], b, Precision.FLOAT64, peak64));
            }
        }
        for (int[] shape : new int[][] {{784, 256}, {256, 128}}) {
            for (int b : new int[] {256, 1024}) {
                rows.addAll(layerKernels(shape[0], shape[1], b, Precision.FLOAT32, peak32));
            }
        }
        rows.addAll(denseBlock(64, 32, 1024, peak64));
        out.put("kernels", rows);
        Files.createDirectories(json.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), out);
        System.out.println("written " + json);
    }

    /** Best of 5 runs of a 1024^3 GEMM, in GFLOP/s (2 n^3 flops). */
    static double gemmPeak(DataType type) {
        int n = 1024;
        INDArray a = Nd4j.rand(type, n, n);
        INDArray b = Nd4j.rand(type, n, n);
        INDArray c = Nd4j.create(type, n, n);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 6; i++) {
            long t0 = System.nanoTime();
            Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
            double s = (System.nanoTime() - t0) / 1e9;
            if (i > 0) {
                best = Math.min(best, s);
            }
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /**
     * A two-layer network fanIn -> fanOut (relu) -> 10 (softmax): kernels of its first layer in one
     * precision, each batch inside the per-batch workspace as in the job. Flops are those performed:
     * GEMMs 2mnk, the symmetric rank-k updates of A and G n(n+1)k. "of peak" is against the GEMM
     * peak of the same precision.
     */
    static List<Map<String, Object>> layerKernels(int fanIn, int fanOut, int b, Precision precision, double peak) {
        Network net = network(fanIn, fanOut);
        INDArray x = BatchForward.augment(Nd4j.rand(DataType.DOUBLE, fanIn, b)).castTo(precision.dataType());
        int[] cls = new Random(3).ints(b, 0, OUTPUT).toArray();
        INDArray y = Loss.oneHot(cls, OUTPUT);
        String tag = fanIn + "/" + fanOut + (precision == Precision.FLOAT32 ? " float32" : "");
        List<Map<String, Object>> rows = new ArrayList<>();
        int m1 = fanIn + 1;
        // (a) forward [W b] ã (both layers), δ back-propagation W2ᵀ δ, factor propagation W2ᵀ C
        double flopsA = 2.0 * b * ((double) fanOut * m1 + (double) OUTPUT * (fanOut + 1) + (double) fanOut * OUTPUT
                + (double) fanOut * OUTPUT * OUTPUT);
        double tA = time(() -> {
            try (MemoryWorkspace ignored = BatchWorkspace.open()) {
                BatchCurvature.computeAugmented(net, x, y, CurvatureMode.GGN, 1);
            }
        });
        rows.add(row("(a) forward + factor propagation " + tag, b, flopsA, tA, peak));
        // (b) A and G accumulation (syrk Ã Ãᵀ and C Cᵀ) plus the gradient sum δ Ãᵀ
        CurvaturePlan plan = CurvaturePlan.of(net, CurvatureMode.GGN, new int[] {1}, -1, false, false);
        BatchCurvature bc = BatchCurvature.computeAugmented(net, x, y, CurvatureMode.GGN, 1);
        SampleScores sc = SampleScores.compute(bc, new int[] {1}, false, new SymmetricEigen(OUTPUT));
        CurvatureAccumulator acc = new CurvatureAccumulator(net, plan);
        double flopsB = (double) b * ((double) m1 * (m1 + 1) + (double) fanOut * (fanOut + 1) * OUTPUT
                + 2.0 * fanOut * m1);
        double tB = time(() -> {
            try (MemoryWorkspace ignored = BatchWorkspace.open()) {
                acc.add(bc, sc, cls);
            }
        });
        rows.add(row("(b) A and G accumulation " + tag, b, flopsB, tB, peak));
        // (d) one matrix-free product H·v of the layer's θ-block (b directions = 1), in the precision
        // (float32: --lanczos-products float32)
        BatchForward fw = BatchForward.computeAugmented(net, x, y, 1, false);
        boolean[] outs = new boolean[3];
        outs[1] = true;
        double flopsD = 2.0 * b * (2.0 * fanOut * m1 + 2.0 * OUTPUT * fanOut);
        if (precision == Precision.FLOAT64) {
            INDArray v = Nd4j.rand(DataType.DOUBLE, (long) fanOut * m1, 1);
            INDArray[] dirs = new INDArray[3];
            dirs[1] = CurvatureProducts.directionBlock(v, 0, ThetaIndex.forLayer(fanOut, m1 - 1));
            double tD = time(() -> {
                try (MemoryWorkspace ignored = BatchWorkspace.open()) {
                    CurvatureProducts.apply(fw, dirs, outs, 1, false);
                }
            });
            rows.add(row("(d) matrix-free H·v, 1 vector " + tag, b, flopsD, tD, peak));
        }
        // (d') the same product for a block of 20 vectors, as Lanczos uses it
        INDArray v20 = Nd4j.rand(DataType.DOUBLE, (long) fanOut * m1, 20);
        INDArray[] dirs20 = new INDArray[3];
        dirs20[1] = CurvatureProducts.directionBlock(v20, 0, ThetaIndex.forLayer(fanOut, m1 - 1)).castTo(precision.dataType());
        // into a float64 running sum, as the distributed operator does
        INDArray[] sums = new INDArray[3];
        sums[1] = Nd4j.create(DataType.DOUBLE, 20L * fanOut, m1);
        double tD20 = time(() -> {
            try (MemoryWorkspace ignored = BatchWorkspace.open()) {
                CurvatureProducts.accumulate(fw, dirs20, outs, 20, false, sums);
            }
        });
        rows.add(row("(d) matrix-free H·V, 20 vectors " + tag, b, 20 * flopsD, tD20, peak));
        return rows;
    }

    /** (c) dense θ-block accumulation as one GEMM, on a layer small enough to hold H (d = 2,080). */
    static List<Map<String, Object>> denseBlock(int fanIn, int fanOut, int b, double peak) {
        Network net = network(fanIn, fanOut);
        INDArray x = Nd4j.rand(DataType.DOUBLE, fanIn, b);
        int[] cls = new Random(3).ints(b, 0, OUTPUT).toArray();
        INDArray y = Loss.oneHot(cls, OUTPUT);
        CurvaturePlan plan = CurvaturePlan.of(net, CurvatureMode.GGN, new int[] {1}, Long.MAX_VALUE, false, false);
        BatchCurvature bc = BatchCurvature.compute(net, x, y, CurvatureMode.GGN, 1);
        SampleScores sc = SampleScores.compute(bc, new int[] {1}, false, new SymmetricEigen(OUTPUT));
        CurvatureAccumulator acc = new CurvatureAccumulator(net, plan);
        double m1 = fanIn + 1;
        double flops = 2.0 * b * (m1 * m1 * fanOut * fanOut);
        double t = time(() -> acc.add(bc, sc, cls));
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(row("(c) dense θ-block accumulation " + fanIn + "/" + fanOut, b, flops, t, peak));
        return rows;
    }

    static Network network(int fanIn, int fanOut) {
        Random r = new Random(1);
        List<DenseLayer> layers = new ArrayList<>();
        int[] w = {fanIn, fanOut, OUTPUT};
        for (int l = 1; l < w.length; l++) {
            double[] wt = new double[w[l] * w[l - 1]];
            for (int k = 0; k < wt.length; k++) {
                wt[k] = r.nextGaussian() * Math.sqrt(2.0 / w[l - 1]);
            }
            layers.add(new DenseLayer("fc" + l, w[l], w[l - 1], wt, null, l == 2 ? Activation.IDENTITY : Activation.RELU));
        }
        return new Network(layers, Loss.SOFTMAX_CROSS_ENTROPY);
    }

    /** Median seconds of 7 timed runs after 3 warm-ups. */
    static double time(Runnable r) {
        for (int i = 0; i < 3; i++) {
            r.run();
        }
        double[] t = new double[7];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        java.util.Arrays.sort(t);
        return t[t.length / 2];
    }

    static Map<String, Object> row(String name, int b, double flops, double seconds, double peak) {
        Map<String, Object> m = new LinkedHashMap<>();
        double gflops = flops / seconds / 1e9;
        m.put("kernel", name);
        m.put("batch", b);
        m.put("mflop_per_batch", flops / 1e6);
        m.put("samples_per_s", b / seconds);
        m.put("gflops", gflops);
        m.put("fraction_of_peak", gflops / peak);
        System.out.printf(Locale.ROOT, "%-44s %6d %12.1f %12.0f %10.2f %7.0f%%%n", name, b, flops / 1e6, b / seconds,
                gflops, 100 * gflops / peak);
        return m;
    }
}
