package io.hessianatlas.jobs.analyze.api;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of one `analyze` run: where the tables are, the per-layer reports, counts, timings and
 * warnings.
 *
 * @param mode         "ggn" or "hessian"
 * @param precision    "float64" or "float32"
 * @param layers       analysed layers, 1-based; layer 0 is the whole network
 * @param accuracy     fraction of correct predictions, or null for non-classification losses
 * @param passes       passes over the data: the per-sample pass plus every matrix-free pass
 * @param eigenvectors whether the eigenvectors table was written
 * @param warnings     what run.json lists under warnings (unconverged spectra among them)
 */
public record AnalyzeResult(String out, String mode, String precision, List<LayerResult> layers, long rowsRead,
                            long rowsUsed, double meanLoss, Double accuracy, Map<String, Double> phaseSeconds, int passes,
                            boolean eigenvectors, List<String> warnings) {
    public AnalyzeResult {
        layers = List.copyOf(layers);
        phaseSeconds = Map.copyOf(phaseSeconds);
        warnings = List.copyOf(warnings);
    }

    /** Layers analysed, 1-based; layer 0 is the whole network. */
    public List<Integer> layerNumbers() {
        return layers.stream().map(LayerResult::layer).toList();
    }

    /** The matrices whose Lanczos run stopped before --lanczos-tol ("layer 1", "network"). */
    public List<String> unconverged() {
        return layers.stream().filter(r -> !r.converged()).map(LayerResult::label).toList();
    }

    /**
     * A short per-layer summary for the terminal: the mode and precision, per matrix λ_max and λ_min,
     * in hessian mode the count of negative eigenvalues among those computed, the method (marked * when
     * Lanczos did not converge), the top eigenvalues, and the warnings.
     */
    public String summary() {
        boolean hessian = mode.equals("hessian");
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "mode %s, precision %s; samples %d of %d read, mean loss %.6g%s%n", mode,
                precision, rowsUsed, rowsRead, meanLoss,
                accuracy == null ? "" : String.format(Locale.ROOT, ", accuracy %.4f", accuracy)));
        sb.append(String.format(Locale.ROOT, "%-5s %-10s %9s %12s %12s %12s%s %10s  %-10s %s%n", "layer", "name", "params",
                "trace", "lambda_max", "lambda_min", hessian ? String.format(Locale.ROOT, " %4s", "neg") : "",
                "kfac_err", "method", "top-5 eigenvalues"));
        boolean anyUnconverged = false;
        for (LayerResult r : layers) {
            double[] top;
            String of = "";
            if (r.lanczos() != null) {
                top = r.lanczos().topValues();
            } else if (r.report().isDense()) {
                top = r.report().eigenvaluesH();            } else {
                top = r.report().kroneckerEigenvalues();
                of = " (of A⊗G)";
            }
            StringBuilder t = new StringBuilder();
            for (int i = 0; i < Math.min(5, top.length); i++) {
                t.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4g", top[i]));
            }
            Double kfac = r.report() == null ? null : r.report().kfacRelativeError();
            Integer negative = r.negativeEigenvalues();
            String method = r.spectrumMethod() + (r.converged() ? "" : "*");
            anyUnconverged |= !r.converged();
            sb.append(String.format(Locale.ROOT, "%-5d %-10s %9d %12.6g %12s %12s%s %10s  %-10s %s%s%n", r.layer(), r.name(),
                    r.params(), r.trace(), fmt(r.lambdaMax()), fmt(r.lambdaMin()),
                    hessian ? String.format(Locale.ROOT, " %4s", negative == null ? "-" : negative.toString()) : "",
                    fmt(kfac), method, t, of));
        }
        if (hessian) {
            sb.append("neg: negative eigenvalues among those computed (all of a dense H; the reported Ritz values or "
                    + "A⊗G values otherwise)").append(System.lineSeparator());
        }
        if (anyUnconverged) {
            sb.append("* Lanczos did not converge: these eigenvalues may be off (see the warnings)")
                    .append(System.lineSeparator());
        }
        sb.append(String.format(Locale.ROOT, "passes over the data: %d%n", passes));
        for (String w : warnings) {
            sb.append("warning: ").append(w).append(System.lineSeparator());
        }
        sb.append("tables: ").append(out).append("/{layers,spectrum,factors,samples")
                .append(layers.stream().anyMatch(r -> r.density() != null) ? ",density" : "")
                .append(eigenvectors ? ",eigenvectors" : "").append("}, run.json");
        return sb.toString();
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.6g", v);
    }
}
