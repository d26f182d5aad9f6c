package io.hessianatlas.common.linalg;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import io.hessianatlas.common.spectra.DenseSymmetricSpectrum;
import io.hessianatlas.common.testing.LinalgTestSupport;

/**
 * Micro-benchmark (a main, not a test): µs per {@link SymmetricEigen#largestEigenvalue} call for
 * n = 3, 10 and 64 (10 is the per-sample Gram / output block of a 10-class network), over a pool of
 * random symmetric matrices stored back to back in one buffer (as the per-sample hot loop of
 * {@code SampleScores} sees them), each size measured {@code repetitions} times (default 3) after
 * a warm-up. With {@code --lapack} also one {@link DenseSymmetricSpectrum} (ND4J/LAPACK) call per
 * matrix, for comparison. Production runs C1 only (scripts/lib/launcher.sh, {@code ATLAS_JIT=c1}):
 * add {@code -XX:TieredStopAtLevel=1} to measure what it runs.
 *
 * <pre>
 * mvn -B -q -o -pl common test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java [-XX:TieredStopAtLevel=1] -cp common/target/test-classes:common/target/classes:$(cat /tmp/cp.txt) \
 *      io.hessianatlas.common.linalg.SymmetricEigenBench [repetitions] [--lapack]
 * </pre>
 */
public final class SymmetricEigenBench {

    private static final int POOL = 256;
    private static final double TARGET_SECONDS = 1.0;

    private SymmetricEigenBench() {
    }

    private interface Kernel {
        double run(int matrix);
    }

    public static void main(String[] args) {
        boolean lapack = Arrays.asList(args).contains("--lapack");
        int repetitions = args.length > 0 && !args[0].startsWith("--") ? Integer.parseInt(args[0]) : 3;
        System.out.println("SymmetricEigen µs per call (pool of " + POOL + " random symmetric matrices, "
                + "JIT warmed; " + Runtime.getRuntime().availableProcessors() + " cpus, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ")");
        for (int n : new int[] {3, 10, 64}) {
            double[] buffer = new double[POOL * n * n];
            Random rnd = new Random(n);
            for (int p = 0; p < POOL; p++) {
                double[] a = LinalgTestSupport.randomSymmetric(n, rnd);
                System.arraycopy(a, 0, buffer, p * n * n, n * n);
            }
            SymmetricEigen solver = new SymmetricEigen(n);
            final int size = n;
            for (int r = 0; r < repetitions; r++) {
                report(n, "largestEigenvalue", p -> solver.largestEigenvalue(buffer, p * size * size, size));
            }
            if (lapack) {
                report(n, "DenseSymmetricSpectrum.eigenvalues (ND4J/LAPACK)", p -> {
                    double[] m = new double[size * size];
                    System.arraycopy(buffer, p * size * size, m, 0, m.length);
                    return DenseSymmetricSpectrum.eigenvalues(m, size)[0];
                });
            }
        }
    }

    private static void report(int n, String what, Kernel kernel) {
        double sink = 0;
        // warm-up: at least 0.5 s
        long warmEnd = System.nanoTime() + 500_000_000L;
        int calls = 0;
        while (System.nanoTime() < warmEnd) {
            sink += kernel.run(calls++ % POOL);
        }
        // measure: repeat batches until TARGET_SECONDS
        long start = System.nanoTime();
        long end = start + (long) (TARGET_SECONDS * 1e9);
        long count = 0;
        long now;
        do {
            for (int p = 0; p < POOL; p++) {
                sink += kernel.run(p);
            }
            count += POOL;
            now = System.nanoTime();
        } while (now < end);
        double us = (now - start) / 1e3 / count;
        System.out.println(String.format(Locale.ROOT, "  n = %3d  %-52s %10.3f µs/call   (%d calls, checksum %.3e)",
                n, what, us, count, sink));
    }
}
