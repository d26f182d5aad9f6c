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

    /** "layer l", or "network" for layer 0: how messages name the matrix. */
    public String label() {
        return layer == 0 ? "network" : "layer " + layer;
    }

    /** Whether the spectrum is final: false only for a Lanczos run that stopped before --lanczos-tol. */
    public boolean converged() {
        return lanczos == null || lanczos.converged();
    }

    /** The largest Lanczos residual ‖H y − θ y‖ relative to max|θ|, or null without Lanczos. */
    public Double lanczosRelativeResidual() {
        if (lanczos == null) {
            return null;
        }
        double scale = 0;
        for (double[] values : new double[][] {lanczos.topValues(), lanczos.bottomValues()}) {
            for (double v : values) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        double worst = lanczos.maxResidual();
        return scale > 0 ? worst / scale : worst;
    }

    /**
     * Negative eigenvalues among those computed: all of a dense H, the reported Ritz values (top and
     * bottom), or the reported eigenvalues of A⊗G; null when there are none.
     */
    public Integer negativeEigenvalues() {
        double[] values;
        if (lanczos != null) {
            double[] top = lanczos.topValues();
            double[] bottom = lanczos.bottomValues();
            values = java.util.stream.DoubleStream.concat(java.util.Arrays.stream(top), java.util.Arrays.stream(bottom))
                    .toArray();
        } else if (report == null) {
            return null;
        } else {
            values = report.isDense() ? report.eigenvaluesH() : report.kroneckerEigenvalues();
        }
        int n = 0;
        for (double v : values) {
            if (v < 0) {
                n++;
            }
        }
        return n;
    }
}
