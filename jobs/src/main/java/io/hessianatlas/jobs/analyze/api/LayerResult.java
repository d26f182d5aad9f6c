package io.hessianatlas.jobs.analyze.api;

import io.hessianatlas.common.spectra.BlockLanczos;
import io.hessianatlas.common.spectra.LayerCurvatureReport;
import io.hessianatlas.common.spectra.StochasticLanczosQuadrature;

/**
 * Everything reported for one layer (layer ≥ 1, from its sums) or for the whole network
 * (layer 0): the sums-derived {@link LayerCurvatureReport} (null for the network), the Lanczos
 * result when H was too large for a dense block or `--spectrum lanczos` asked for it, the
 * spectral density, and the passes they cost.
 *
 * @param report      from the layer's sums; null for layer 0
 * @param lanczos     null unless Lanczos ran
 * @param quadrature  null unless --density
 * @param density     {x, ρ}, or null
 * @param kfacOverlap overlap of the Lanczos top-k with A⊗G's top-k (Lanczos layers), or null
 */
public record LayerResult(int layer, String name, LayerCurvatureReport report, long params, long samples, double trace,
                          double gradNorm, BlockLanczos.Result lanczos, int lanczosPasses,
                          StochasticLanczosQuadrature.Quadrature quadrature, double[][] density, int densityPasses,
                          Double kfacOverlap) {

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
