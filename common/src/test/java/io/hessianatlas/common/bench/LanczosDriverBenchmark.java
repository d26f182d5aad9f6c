package io.hessianatlas.common.bench;

import java.util.Locale;

import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.spectra.BlockLanczos;
import io.hessianatlas.common.spectra.SymmetricOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The driver's share of a block Lanczos run (a benchmark printed by a main, not a test): the
 * reorthogonalisation, the Ritz problem and the residuals, with products that cost next to nothing
 * — a diagonal operator of layer 1's size (d = 200,960) whose spectrum imitates issue 14's clustered
 * one: λ_1 = 1.25, twenty values in [0.95, 1.0], and a bulk spread over [0, 0.94]. Runs a fixed number
 * of steps (the tolerance is never reached) on every core and prints the seconds per step.
 * Usage: LanczosDriverBenchmark [steps=40] [block=20] [d=200960]
 */
public final class LanczosDriverBenchmark {
    private LanczosDriverBenchmark() {
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int block = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int d = args.length > 2 ? Integer.parseInt(args[2]) : 200_960;
        NativeRuntime.configure(Runtime.getRuntime().availableProcessors());
        double[] lambda = new double[d];
        lambda[0] = 1.25;
        for (int i = 1; i <= 20; i++) {
            lambda[i] = 1.0 - 0.05 * (i - 1) / 19.0;
        }
        for (int i = 21; i < d; i++) {
            lambda[i] = 0.94 * Math.pow((double) (d - i) / (d - 21), 3);
        }
        INDArray diag = Nd4j.create(lambda, new long[] {d, 1}, 'f');
        SymmetricOperator op = new SymmetricOperator() {
            @Override
            public long dimension() {
                return d;
            }

            @Override
            public INDArray apply(INDArray v) {
                return v.dup('f').muliColumnVector(diag.castTo(DataType.DOUBLE));
            }
        };
        BlockLanczos.solve(op, 20, false, block, 3, 1e-15, true, 1);   // warm-up
        long t0 = System.nanoTime();
        BlockLanczos.Result r = BlockLanczos.solve(op, 20, false, block, steps, 1e-15, true, 42);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "d %d, block %d: %d steps in %.2f s (%.3f s a step), Krylov dimension %d, "
                + "largest residual %.2e, lambda_1 %.12f, lambda_20 %.12f%n", d, block, r.steps(), s, s / r.steps(),
                r.krylovDimension(), r.maxResidual(), r.topValues()[0], r.topValues()[19]);
    }
}
