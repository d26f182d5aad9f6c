package io.hessianatlas.jobs.analyze.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.aggregate.LayerCurvatureSums;
import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.spectra.BlockLanczos;
import io.hessianatlas.common.spectra.KfacComparison;
import io.hessianatlas.common.spectra.LayerCurvatureReport;
import io.hessianatlas.common.spectra.StochasticLanczosQuadrature;
import io.hessianatlas.common.spectra.SymmetricOperator;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.LayerResult;
import io.hessianatlas.jobs.analyze.api.SpectrumMethod;
import io.hessianatlas.jobs.analyze.io.InputBatch;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver-side spectra, planned on the driver and executed as distributed passes where they need
 * the data: per layer the sums-derived report (dense H by LAPACK, A⊗G, KFAC error), block
 * Lanczos on the matrix-free H for layers without a dense block (or all, with --spectrum
 * lanczos), stochastic Lanczos quadrature densities (--density), and the same for the whole
 * network as layer 0 (--network). Each operator application is one pass over the persisted batches.
 */
public final class SpectraStep {
    private static final Logger LOG = LoggerFactory.getLogger("io.hessianatlas.analyze");
    /**
     * The relative residual down to which float32 products drive the iteration before the float64
     * refinement (--lanczos-products float32).
     */
    static final double FLOAT32_PRODUCTS_TOLERANCE = 1e-5;

    private SpectraStep() {
    }

    /**
     * The spectra of one run and what they cost.
     *
     * @param results per matrix (the network first with --network, then the layers in order)
     * @param passes  distributed passes over the data, shared by the matrices' iterations
     */
    public record Spectra(List<LayerResult> results, int passes) {
    }

    /**
     * Every matrix's spectra, each matrix in its own driver thread; their products share passes over
     * the data ({@link SharedPasses}), so the run's passes are the longest iteration's.
     */
    public static Spectra run(JavaSparkContext jsc, JavaRDD<InputBatch> batches, Broadcast<Network> network,
                              CurvatureSums sums, CurvaturePlan plan, AnalyzeOptions o) {
        Network net = network.value();
        boolean exact = o.pass().mode() == CurvatureMode.HESSIAN;
        long n = sums.count();
        SharedPasses shared = new SharedPasses(jsc, batches, network, exact, n);
        List<Callable<LayerResult>> matrices = new ArrayList<>();
        // every participant joins before any asks for a product (a pass waits for all that have not left)
        if (o.pass().network()) {
            SharedPasses.Participant p = shared.join();
            matrices.add(() -> networkResult(p, sums, o, exact, n));
        }
        for (LayerCurvatureSums ls : sums.layers()) {
            SharedPasses.Participant p = shared.join();
            matrices.add(() -> layerResult(p, net, ls, plan, o, exact, n));
        }
        ExecutorService threads = Executors.newFixedThreadPool(matrices.size(), r -> {
            Thread t = new Thread(r, "spectra-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<LayerResult>> futures = new ArrayList<>();
            for (Callable<LayerResult> m : matrices) {
                futures.add(threads.submit(m));
            }
            List<LayerResult> out = new ArrayList<>();
            for (Future<LayerResult> f : futures) {
                out.add(await(f));
            }
            return new Spectra(out, shared.passes());
        } finally {
            threads.shutdownNow();
        }
    }

    private static final AtomicInteger THREADS = new AtomicInteger();

    /** A matrix's result, or the exception that ended its thread (the first one stops the others' passes). */
    private static LayerResult await(Future<LayerResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while computing the spectra", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Runs one matrix's work as a participant: leaves when done, and stops the others if it fails. */
    private static <T> T participate(SharedPasses.Participant p, Supplier<T> work) {
        try {
            T out = work.get();
            p.close();
            return out;
        } catch (RuntimeException e) {
            p.abort(e);
            throw e;
        } catch (Error e) {
            p.abort(new IllegalStateException(e));
            throw e;
        }
    }

    private static LayerResult layerResult(SharedPasses.Participant p, Network net, LayerCurvatureSums ls, CurvaturePlan plan,
                                           AnalyzeOptions o, boolean exact, long n) {
        return participate(p, () -> {
            int l = ls.layer();
            LayerCurvatureReport report = LayerCurvatureReport.of(net.layer(l), ls, o.pass().mode(), o.spectra().topK());
            boolean lanczos = o.spectra().spectrum() == SpectrumMethod.LANCZOS
                    || o.spectra().spectrum() == SpectrumMethod.AUTO && !plan.isDense(l);
            BlockLanczos.Result res = null;
            int lanczosPasses = 0;
            Double overlap = null;
            DistributedCurvatureOperator op = p.operator(l, Precision.FLOAT64);
            if (lanczos) {
                long t0 = System.nanoTime();
                res = lanczos(op, o.spectra().topK(), o, exact, "layer " + l);
                lanczosPasses = res.steps();
                int d = (int) op.dimension();
                int k = res.topValues().length;
                // H = 0 (every Ritz value exactly 0: the products vanished): every subspace is a top
                // eigenspace, the overlap is undefined and left null, as for a dense H with ||H||_F = 0
                overlap = allZero(res) ? null : KfacComparison.subspaceOverlap(
                        res.topVectors().dup('c').data().asDouble(), report.kroneckerTop(k).vectors(), d, k);
                double seconds = (System.nanoTime() - t0) / 1e9;
                LOG.info(String.format(Locale.ROOT, "layer %d: lanczos top-%d in %d passes (%d products, %.1f s, of which "
                                + "%.1f s on the driver), max residual %.2e%s", l, k, res.steps(), res.products(), seconds,
                        seconds - p.passSeconds(), res.maxResidual(), res.converged() ? "" : " (not converged)"));
            }
            StochasticLanczosQuadrature.Quadrature quad = null;
            double[][] density = null;
            int densityPasses = 0;
            if (o.spectra().density().density()) {
                int before = p.passes();
                quad = StochasticLanczosQuadrature.run(densityProgress(op, "layer " + l, o), o.spectra().density().densityProbes(),
                        o.spectra().density().densitySteps(), o.input().seed());
                density = quad.density(o.spectra().density().densityGrid(), o.spectra().density().densityWidth());
                densityPasses = p.passes() - before;
                LOG.info(String.format("layer %d: density from %d probes in %d passes", l, o.spectra().density().densityProbes(), densityPasses));
            }
            return new LayerResult(l, net.layer(l).name(), report, report.params(), n, report.trace(),
                    report.gradNorm(), res, lanczosPasses, quad, density, densityPasses, overlap);
        });
    }

    private static LayerResult networkResult(SharedPasses.Participant p, CurvatureSums sums, AnalyzeOptions o,
                                             boolean exact, long n) {
        return participate(p, () -> {
            DistributedCurvatureOperator op = p.operator(0, Precision.FLOAT64);
            BlockLanczos.Result res = lanczos(op, o.spectra().networkTopK(), o, exact, "network");
            int lanczosPasses = res.steps();
            LOG.info(String.format("network: lanczos top-%d in %d passes (%d products), max residual %.2e%s",
                    res.topValues().length, res.steps(), res.products(), res.maxResidual(),
                    res.converged() ? "" : " (not converged)"));
            StochasticLanczosQuadrature.Quadrature quad = null;
            double[][] density = null;
            int densityBefore = p.passes();
            if (o.spectra().density().density()) {
                quad = StochasticLanczosQuadrature.run(densityProgress(op, "network", o), o.spectra().density().densityProbes(),
                        o.spectra().density().densitySteps(), o.input().seed());
                density = quad.density(o.spectra().density().densityGrid(), o.spectra().density().densityWidth());
            }
            double trace = 0;
            double grad2 = 0;
            for (LayerCurvatureSums ls : sums.layers()) {
                trace += ls.meanTrace();
                double g = 0;
                for (double v : ls.meanGradient()) {
                    g += v * v;
                }
                grad2 += g;
            }
            return new LayerResult(0, "network", null, op.dimension(), n, trace, Math.sqrt(grad2), res, lanczosPasses,
                    quad, density, p.passes() - densityBefore, null);
        });
    }

    /**
     * The operator's top-k (and bottom-k in hessian mode) by block Lanczos. With {@code --lanczos-products
     * float32} the iteration first runs on float32 per-batch products (float64 sums, basis and Ritz
     * problem) down to {@link #FLOAT32_PRODUCTS_TOLERANCE} or --lanczos-tol, whichever is larger, and then
     * continues in float64 from its Ritz vectors (a block of k, or 2k with the bottom end): the stopping rule
     * is checked on float64 products only, so the result meets --lanczos-tol as with float64 products. Both
     * together take at most --lanczos-max-passes passes, the float32 iteration at most one fewer (with a limit of
     * one pass the products are float64).
     */
    private static BlockLanczos.Result lanczos(DistributedCurvatureOperator op, int topK, AnalyzeOptions o, boolean exact,
                                               String what) {
        int d = (int) Math.min(Integer.MAX_VALUE, op.dimension());
        int k = Math.min(topK, d);
        AnalyzeOptions.Lanczos lz = o.spectra().lanczos();
        int block = lz.blockFor(k);
        long seed = o.input().seed();
        if (lz.lanczosProducts() == Precision.FLOAT64 || lz.lanczosMaxPasses() < 2) {
            return BlockLanczos.solve(op, k, exact, block, lz.lanczosMaxPasses(), maxBasis(lz, k, exact, block),
                    lz.lanczosTol(), true, seed, null, new LanczosProgressLog(what, lz.lanczosTol()));
        }
        DistributedCurvatureOperator op32 = op.withPrecision(Precision.FLOAT32);
        double coarseTol = Math.max(lz.lanczosTol(), FLOAT32_PRODUCTS_TOLERANCE);
        // the float32 iteration leaves at least one pass of --lanczos-max-passes to the float64 refinement
        BlockLanczos.Result coarse = BlockLanczos.solve(op32, k, exact, block, lz.lanczosMaxPasses() - 1,
                maxBasis(lz, k, exact, block), coarseTol, true, seed, null,
                new LanczosProgressLog(what + " (float32 products)", coarseTol));
        INDArray start = exact ? Nd4j.hstack(coarse.topVectors(), coarse.bottomVectors()) : coarse.topVectors();
        int refineBlock = (int) Math.min(start.columns(), d);
        int refinePasses = lz.lanczosMaxPasses() - coarse.steps();
        BlockLanczos.Result fine = BlockLanczos.solve(op, k, exact, refineBlock, refinePasses,
                maxBasis(lz, k, exact, refineBlock), lz.lanczosTol(), true, seed + 1, start,
                new LanczosProgressLog(what + " (float64 refinement)", lz.lanczosTol()));
        LOG.info(String.format(Locale.ROOT, "%s: %d float32 passes (%d products), then %d float64 passes (%d products)",
                what, coarse.steps(), coarse.products(), fine.steps(), fine.products()));
        return fine.after(coarse);
    }

    /**
     * The basis bound of one iteration: --lanczos-max-basis, or {@link BlockLanczos#defaultBasis} when 0; raised to
     * the iteration's minimum when its block is wider than the options assumed (the float32 refinement's block
     * of the float32 Ritz vectors: k, or 2k with both ends).
     */
    private static int maxBasis(AnalyzeOptions.Lanczos lz, int k, boolean bothEnds, int block) {
        return lz.lanczosMaxBasis() > 0 ? Math.max(lz.lanczosMaxBasis(), BlockLanczos.minimumBasis(k, bothEnds, block))
                : BlockLanczos.defaultBasis(k, bothEnds, block);
    }

    /**
     * One INFO line per Lanczos pass: the matrix, the pass, how many wanted Ritz pairs have converged,
     * the largest relative residual of the others, and an estimate of the passes left from the last
     * two residuals (geometric convergence assumed).
     */
    private static final class LanczosProgressLog implements BlockLanczos.Progress {
        private final String what;
        private final double tolerance;
        private double previous = Double.NaN;

        LanczosProgressLog(String what, double tolerance) {
            this.what = what;
            this.tolerance = tolerance;
        }

        @Override
        public void step(int step, int maxSteps, double worst, int converged, int wanted) {
            String left;
            if (worst == 0) {
                left = "all converged";
            } else if (previous > worst) {
                double passes = Math.log(tolerance / worst) / Math.log(worst / previous);
                left = passes < maxSteps - step ? String.format(Locale.ROOT, "about %d more pass(es)", (long) Math.ceil(passes))
                        : "not within --lanczos-max-passes at this rate";
            } else {
                left = "passes left unknown";
            }
            LOG.info(String.format(Locale.ROOT, "%s: lanczos pass %d/%d, %d of %d Ritz pairs converged, largest "
                    + "relative residual %.2e (tol %.0e), %s", what, step, maxSteps, converged, wanted, worst, tolerance, left));
            previous = worst;
        }
    }

    /** The operator, with one INFO line per density (SLQ) pass: the matrix and the pass of the total. */
    private static SymmetricOperator densityProgress(SymmetricOperator op, String what, AnalyzeOptions o) {
        int total = o.spectra().density().densitySteps();
        return new SymmetricOperator() {
            private int pass;

            @Override
            public long dimension() {
                return op.dimension();
            }

            @Override
            public INDArray apply(INDArray block) {
                INDArray r = op.apply(block);
                pass++;
                LOG.info(String.format(Locale.ROOT, "%s: density pass %d/%d", what, pass, total));
                return r;
            }
        };
    }

    /** Whether every reported Ritz value (top and bottom) is exactly 0. */
    private static boolean allZero(BlockLanczos.Result r) {
        for (double v : r.topValues()) {
            if (v != 0.0) {
                return false;
            }
        }
        for (double v : r.bottomValues()) {
            if (v != 0.0) {
                return false;
            }
        }
        return true;
    }
}
