package io.hessianatlas.jobs.analyze.api;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of one `analyze` run: where the tables are, the per-layer reports, counts and timings.
 *
 * @param layers       analysed layers, 1-based; layer 0 is the whole network
 * @param accuracy     fraction of correct predictions, or null for non-classification losses
 * @param passes       passes over the data: the per-sample pass plus every matrix-free pass
 * @param eigenvectors whether the eigenvectors table was written
 */
public record AnalyzeResult(String out, List<LayerResult> layers, long rowsRead, long rowsUsed, double meanLoss,
                            Double accuracy, Map<String, Double> phaseSeconds, int passes, boolean eigenvectors) {
    public AnalyzeResult {
        layers = List.copyOf(layers);
        phaseSeconds = Map.copyOf(phaseSeconds);
    }

    /** Layers analysed, 1-based; layer 0 is the whole network. */
    public List<Integer> layerNumbers() {
        return layers.stream().map(LayerResult::layer).toList();
    }

    /** A short per-layer summary for the terminal. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "samples %d of %d read, mean loss %.6g%s%n", rowsUsed, rowsRead, meanLoss,
                accuracy == null ? "" : String.format(Locale.ROOT, ", accuracy %.4f", accuracy)));
        sb.append(String.format(Locale.ROOT, "%-5s %-10s %9s %12s %12s %10s  %-9s  %s%n", "layer", "name", "params",
                "trace", "lambda_max", "kfac_err", "method", "top-5 eigenvalues"));
        for (LayerResult r : layers) {
            double[] top;
            String of = "";
            if (r.lanczos() != null) {
                top = r.lanczos().topValues();
            } else if (r.report().isDense()) {
                top = r.report().eigenvaluesH();
            } else {
                top = r.report().kroneckerEigenvalues();
                of = " (of A⊗G)";
            }
            StringBuilder t = new StringBuilder();
            for (int i = 0; i < Math.min(5, top.length); i++) {
                t.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4g", top[i]));
            }
            Double kfac = r.report() == null ? null : r.report().kfacRelativeError();
            sb.append(String.format(Locale.ROOT, "%-5d %-10s %9d %12.6g %12s %10s  %-9s  %s%s%n", r.layer(), r.name(),
                    r.params(), r.trace(), fmt(r.lambdaMax()), fmt(kfac), r.spectrumMethod(), t, of));
        }
        sb.append(String.format(Locale.ROOT, "passes over the data: %d%n", passes));
        sb.append("tables: ").append(out).append("/{layers,spectrum,factors,samples")
                .append(layers.stream().anyMatch(r -> r.density() != null) ? ",density" : "")
                .append(eigenvectors ? ",eigenvectors" : "").append("}, run.json");
        return sb.toString();
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.6g", v);
    }
}
