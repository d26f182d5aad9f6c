package io.hessianatlas.jobs.analyze;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.hessianatlas.common.curvature.LayerCurvatureReport;

/** The immutable result of one `analyze` run: where the tables are, the per-layer reports, counts and timings. */
public final class AnalyzeResult {
    private final String out;
    private final List<LayerCurvatureReport> layers;
    private final long rowsRead;
    private final long rowsUsed;
    private final double meanLoss;
    private final Double accuracy;
    private final Map<String, Double> phaseSeconds;

    AnalyzeResult(String out, List<LayerCurvatureReport> layers, long rowsRead, long rowsUsed, double meanLoss,
                  Double accuracy, Map<String, Double> phaseSeconds) {
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

    public List<LayerCurvatureReport> layers() {
        return layers;
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
        for (LayerCurvatureReport r : layers) {
            double[] top = r.isDense() ? r.eigenvaluesH() : r.kroneckerEigenvalues();
            StringBuilder t = new StringBuilder();
            for (int i = 0; i < Math.min(5, top.length); i++) {
                t.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4g", top[i]));
            }
            sb.append(String.format(Locale.ROOT, "%-5d %-10s %9d %12.6g %12s %10s  %-9s  %s%s%n", r.layer(), r.name(),
                    r.params(), r.trace(), fmt(r.lambdaMax()), fmt(r.kfacRelativeError()), r.spectrumMethod(), t,
                    r.isDense() ? "" : " (of A⊗G)"));
        }
        sb.append("tables: ").append(out).append("/{layers,spectrum,factors,samples}, run.json");
        return sb.toString();
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.6g", v);
    }
}
