package io.hessianatlas.common.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.hessianatlas.common.aggregate.CurvatureAccumulator;
import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.BatchForward;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.hessian.SampleScores;
import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Activation;
import io.hessianatlas.common.model.DenseLayer;
import io.hessianatlas.common.model.Loss;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.NativeRuntime;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where one mini-batch's time goes (a profile printed by a main, not a test): forward + curvature
 * propagation, per-sample scores with and without λ_max, and accumulation, for a 784-256-128-10
 * ReLU softmax network (kronecker layers 1-2, dense layer 3) in ggn mode on one thread.
 * Usage: KernelProfile [batch] [iterations] [dense-budget-mb, 0 = kronecker only] [float64|float32]
 */
public final class KernelProfile {
    private KernelProfile() {
    }

    public static void main(String[] args) {
        int b = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int iters = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        long denseBudgetMb = args.length > 2 ? Long.parseLong(args[2]) : 256;
        Precision precision = args.length > 3 ? Precision.valueOf(args[3].toUpperCase(java.util.Locale.ROOT)) : Precision.FLOAT64;
        NativeRuntime.configure(1);
        int[] w = {784, 256, 128, 10};
        Random r = new Random(1);
        List<DenseLayer> layers = new ArrayList<>();
        for (int l = 1; l < w.length; l++) {
            double[] wt = new double[w[l] * w[l - 1]];
            for (int k = 0; k < wt.length; k++) {
                wt[k] = r.nextGaussian() * Math.sqrt(2.0 / w[l - 1]);
            }
            layers.add(new DenseLayer("fc" + l, w[l], w[l - 1], wt, null, l == 3 ? Activation.IDENTITY : Activation.RELU));
        }
        Network net = new Network(layers, Loss.SOFTMAX_CROSS_ENTROPY);
        CurvaturePlan plan = CurvaturePlan.of(net, CurvatureMode.GGN, null, denseBudgetMb << 20, false, false);
        INDArray x = BatchForward.augment(Nd4j.rand(DataType.DOUBLE, 784, b).castTo(precision.dataType()));
        int[] cls = new int[b];
        for (int s = 0; s < b; s++) {
            cls[s] = r.nextInt(10);
        }
        INDArray y = Loss.oneHot(cls, 10);
        SymmetricEigen eig = new SymmetricEigen(256);
        CurvatureAccumulator acc = new CurvatureAccumulator(net, plan);
        long[] tProp = new long[iters];
        long[] tScores = new long[iters];
        long[] tScoresNoLambda = new long[iters];
        long[] tAcc = new long[iters];
        long[] tAll = new long[iters];
        boolean workspace = !Boolean.getBoolean("noWorkspace");
        for (int it = 0; it < iters + 5; it++) {
            org.nd4j.linalg.api.memory.MemoryWorkspace ws = workspace ? io.hessianatlas.common.nd4j.BatchWorkspace.open() : null;
            long t0 = System.nanoTime();
            BatchCurvature bc = BatchCurvature.computeAugmented(net, x, y, CurvatureMode.GGN, 1);
            long t1 = System.nanoTime();
            SampleScores sc = SampleScores.compute(bc, plan.layers(), true, eig);
            long t2 = System.nanoTime();
            SampleScores.compute(bc, plan.layers(), false, eig);
            long t3 = System.nanoTime();
            acc.add(bc, sc, cls);
            long t4 = System.nanoTime();
            if (ws != null) {
                ws.close();
            }
            if (it >= 5) {
                tProp[it - 5] = t1 - t0;
                tScores[it - 5] = t2 - t1;
                tScoresNoLambda[it - 5] = t3 - t2;
                tAcc[it - 5] = t4 - t3;
                tAll[it - 5] = (t2 - t0) + (t4 - t3);
            }
        }
        // medians: this machine is shared, means wander by 30 % between runs
        System.out.printf("%s batch %d, median per batch: propagate %.2f ms, scores %.2f ms (without lambda_max %.2f ms), "
                        + "accumulate %.2f ms; samples/s on one thread: %.0f (median), %.0f (mean)%n",
                precision.optionName(), b, median(tProp), median(tScores), median(tScoresNoLambda), median(tAcc),
                b * 1e3 / median(tAll), b * 1e9 * iters / (double) java.util.Arrays.stream(tAll).sum());
        if (Boolean.getBoolean("spread")) {
            System.out.println(spread("propagate", tProp) + "; " + spread("scores", tScores) + "; " + spread("accumulate", tAcc));
        }
    }

    private static String spread(String name, long[] t) {
        long[] s = t.clone();
        java.util.Arrays.sort(s);
        return String.format("%s p10 %.1f p50 %.1f p90 %.1f max %.1f ms", name, s[s.length / 10] / 1e6,
                s[s.length / 2] / 1e6, s[s.length * 9 / 10] / 1e6, s[s.length - 1] / 1e6);
    }

    private static double median(long[] t) {
        long[] s = t.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2] / 1e6;
    }
}
