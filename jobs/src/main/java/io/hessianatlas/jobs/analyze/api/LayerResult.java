package io.hessianatlas.jobs.analyze.api;

import io.hessianatlas.common.spectra.LayerCurvatureReport;
import io.hessianatlas.common.spectra.BlockLanczos;
import io.hessianatlas.common.spectra.StochasticLanczosQuadrature;

/**
 * Everything reported for one layer (layer ≥ 1, from its sums) or for the whole network
 * (layer 0): the sums-derived {@link LayerCurvatureReport} (null for the network), the Lanczos
 * result when H was too large for a dense block or `--spectrum lanczos` asked for it, the
 * spectral density, and the passes they cost.
 */
public final class LayerResult {
    public final int layer;
    public final String name;
    public final LayerCurvatureReport report;       // null for layer 0
    public final long params;
    public final long samples;
    public final double trace;
    public final double gradNorm;
    public final BlockLanczos.Result lanczos;       // null unless lanczos ran
    public final int lanczosPasses;
    public final StochasticLanczosQuadrature.Quadrature quadrature;   // null unless --density
    public final double[][] density;                // {x, ρ} or null
    public final int densityPasses;
    final Double kfacOverlap;                // overlap of Lanczos top-k with A⊗G top-k (lanczos layers)

    public LayerResult(int layer, String name, LayerCurvatureReport report, long params, long samples, double trace,
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
    public String spectrumMethod() {
        if (lanczos != null) {
            return "lanczos";
        }
        return report != null && report.isDense() ? "dense" : "kronecker";
    }

    public Double lambdaMax() {
        if (lanczos != null) {
            return lanczos.topValues()[0];
        }
        return report == null ? null : report.lambdaMax();
    }

    public Double lambdaMin() {
        if (lanczos != null) {
            double[] bottom = lanczos.bottomValues();
            return bottom.length == 0 ? null : bottom[0];
        }
        return report == null ? null : report.lambdaMin();
    }

    public Double overlap() {
        if (lanczos != null) {
            return kfacOverlap;
        }
        return report == null ? null : report.kfacOverlap();
    }
}
