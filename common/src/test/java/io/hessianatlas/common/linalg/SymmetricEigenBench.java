package io.hessianatlas.common.linalg;

import java.util.Locale;
import java.util.Random;
import io.hessianatlas.common.spectra.DenseSymmetricSpectrum;
import io.hessianatlas.common.testing.LinalgTestSupport;

/**
 * Micro-benchmark (a main, not a test): µs per call of {@link SymmetricEigen} for n = 10 and 64,
 * eigenvalues only, largest eigenvalue only and full decomposition, over a pool of random
 * symmetric matrices stored back to back in one buffer (as a per-sample hot loop would see them).
 * With {@code --lapack} also one {@link DenseSymmetricSpectrum} (ND4J/LAPACK) call per matrix,
 * for comparison.
 *
 * <pre>
 * cd /work/main &amp;&amp; mvn -B -q -pl common test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp common/target/test-classes:common/target/classes:$(cat /tmp/cp.txt) \
 *      io.hessianatlas.common.linalg.SymmetricEigenBench [--lapack]
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
        boolean lapack = args.length > 0 && args[0].equals("--lapack");
        System.out.println("SymmetricEigen µs per call (pool of " + POOL + " random symmetric matrices, "
                + "JIT warmed; " + Runtime.getRuntime().availableProcessors() + " cpus, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ")");
        for (int n : new int[] {10, 64}) {
            double[] buffer = new double[POOL * n * n];
            Random rnd = new Random(n);
            for (int p = 0; p < POOL; p++) {
                double[] a = LinalgTestSupport.randomSymmetric(n, rnd);
                System.arraycopy(a, 0, buffer, p * n * n, n * n);
            }
            SymmetricEigen solver = new SymmetricEigen(n);
            double[] out = new double[n];
            double[] vectors = new double[n * n];
            final int size = n;
            report(n, "eigenvalues (ascending)", p -> {
                solver.eigenvalues(buffer, p * size * size, size, out, 0);
                return out[size - 1];
            });
            report(n, "largestEigenvalue", p -> solver.largestEigenvalue(buffer, p * size * size, size));
            report(n, "decompose (values + vectors)", p -> {
                solver.decompose(buffer, p * size * size, size, out, 0, vectors, 0);
                return vectors[0];
            });
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
