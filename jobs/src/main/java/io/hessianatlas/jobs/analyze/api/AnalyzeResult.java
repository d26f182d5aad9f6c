package io.hessianatlas.jobs.analyze.api;

import java.util.List;
import java.util.Locale;
import java.util.Map;


/** The immutable result of one `analyze` run: where the tables are, the per-layer reports, counts and timings. */
public final class AnalyzeResult {
    private final String out;
    private final List<LayerResult> layers;
    private final int passes;
    private final boolean eigenvectors;
    private final long rowsRead;
    private final long rowsUsed;
    private final double meanLoss;
    private final Double accuracy;
    private final Map<String, Double> phaseSeconds;

    public AnalyzeResult(String out, List<LayerResult> layers, long rowsRead, long rowsUsed, double meanLoss,
                  Double accuracy, Map<String, Double> phaseSeconds, int passes, boolean eigenvectors) {
        this.passes = passes;
        this.eigenvectors = eigenvectors;
        this.out = out;
        this.layers = List.copyOf(layers);
        this.rowsRead = rowsRead;
        this.rowsUsed = rowsUsed;
        this.meanLoss = meanLoss;
        this.accuracy = accuracy;
        this.phaseSeconds = Map.copyOf(phaseSeconds);
    }

    public String out() {
        return out;
    }

    /** Layers analysed, 1-based; layer 0 is the whole network. */
    public List<Integer> layerNumbers() {
        return layers.stream().map(r -> r.layer).toList();
    }

    /** Passes over the data: the per-sample pass plus every matrix-free pass. */
    public int passes() {
        return passes;
    }

    public long rowsRead() {
        return rowsRead;
    }

    public long rowsUsed() {
        return rowsUsed;
    }

    public double meanLoss() {
        return meanLoss;
    }

    /** Fraction of correct predictions, or null for non-classification losses. */
    public Double accuracy() {
        return accuracy;
    }

    public Map<String, Double> phaseSeconds() {
        return phaseSeconds;
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
            if (r.lanczos != null) {
                top = r.lanczos.topValues();
            } else if (r.report.isDense()) {
                top = r.report.eigenvaluesH();
            } else {
                top = r.report.kroneckerEigenvalues();
                of = " (of A⊗G)";
            }
            StringBuilder t = new StringBuilder();
            for (int i = 0; i < Math.min(5, top.length); i++) {
                t.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4g", top[i]));
            }
            Double kfac = r.report == null ? null : r.report.kfacRelativeError();
            sb.append(String.format(Locale.ROOT, "%-5d %-10s %9d %12.6g %12s %10s  %-9s  %s%s%n", r.layer, r.name,
                    r.params, r.trace, fmt(r.lambdaMax()), fmt(kfac), r.spectrumMethod(), t, of));
        }
        sb.append(String.format(Locale.ROOT, "passes over the data: %d%n", passes));
        sb.append("tables: ").append(out).append("/{layers,spectrum,factors,samples")
                .append(layers.stream().anyMatch(r -> r.density != null) ? ",density" : "")
                .append(eigenvectors ? ",eigenvectors" : "").append("}, run.json");
        return sb.toString();
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.6g", v);
    }
}
