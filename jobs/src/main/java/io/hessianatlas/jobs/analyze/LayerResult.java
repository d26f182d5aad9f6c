package io.hessianatlas.jobs.analyze;

import io.hessianatlas.common.curvature.LayerCurvatureReport;
import io.hessianatlas.common.linalg.BlockLanczos;
import io.hessianatlas.common.linalg.StochasticLanczosQuadrature;

/**
 * Everything reported for one layer (layer ≥ 1, from its sums) or for the whole network
 * (layer 0): the sums-derived {@link LayerCurvatureReport} (null for the network), the Lanczos
 * result when H was too large for a dense block or `--spectrum lanczos` asked for it, the
 * spectral density, and the passes they cost.
 */
final class LayerResult {
    final int layer;
    final String name;
    final LayerCurvatureReport report;       // null for layer 0
    final long params;
    final long samples;
    final double trace;
    final double gradNorm;
    final BlockLanczos.Result lanczos;       // null unless lanczos ran
    final int lanczosPasses;
    final StochasticLanczosQuadrature.Quadrature quadrature;   // null unless --density
    final double[][] density;                // {x, ρ} or null
    final int densityPasses;
    final Double kfacOverlap;                // overlap of Lanczos top-k with A⊗G top-k (lanczos layers)

    LayerResult(int layer, String name, LayerCurvatureReport report, long params, long samples, double trace,
                double gradNorm, BlockLanczos.Result lanczos, int lanczosPasses,
                StochasticLanczosQuadrature.Quadrature quadrature, double[][] density, int densityPasses,
                Double kfacOverlap) {
        this.layer = layer;
        this.name = name;
        this.report = report;
        this.params = params;
        this.samples = samples;
        this.trace = trace;
        this.gradNorm = gradNorm;
        this.lanczos = lanczos;
        this.lanczosPasses = lanczosPasses;
        this.quadrature = quadrature;
        this.density = density;
        this.densityPasses = densityPasses;
        this.kfacOverlap = kfacOverlap;
    }

    /** "dense", "lanczos" or "kronecker". */
    String spectrumMethod() {
        if (lanczos != null) {
            return "lanczos";
        }
        return report != null && report.isDense() ? "dense" : "kronecker";
    }

    Double lambdaMax() {
        if (lanczos != null) {
            return lanczos.topValues()[0];
        }
        return report == null ? null : report.lambdaMax();
    }

    Double lambdaMin() {
        if (lanczos != null) {
            double[] bottom = lanczos.bottomValues();
            return bottom.length == 0 ? null : bottom[0];
        }
        return report == null ? null : report.lambdaMin();
    }

    Double overlap() {
        if (lanczos != null) {
            return kfacOverlap;
        }
        return report == null ? null : report.kfacOverlap();
    }
}
