package io.hessianatlas.jobs.analyze.api;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.hessianatlas.common.spectra.ClassCurvature;

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
 * @param classes      the classes table's rows (--by-class), else null
 * @param report       the path of report.html (--report), else null
 * @param runId        --run-id (out is then the root of many runs), else null
 */
public record AnalyzeResult(String out, String mode, String precision, List<LayerResult> layers, long rowsRead,
                            long rowsUsed, double meanLoss, Double accuracy, Map<String, Double> phaseSeconds, int passes,
                            boolean eigenvectors, List<String> warnings, List<ClassCurvature> classes, String report,
                            String runId) {
    /** Classes the terminal summary lists; the classes table has them all. */
    static final int SUMMARY_CLASSES = 20;

    public AnalyzeResult {
        layers = List.copyOf(layers);
        classes = classes == null ? null : List.copyOf(classes);
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
        if (classes != null) {
            appendClasses(sb);
        }
        sb.append(String.format(Locale.ROOT, "passes over the data: %d%n", passes));
        for (String w : warnings) {
            sb.append("warning: ").append(w).append(System.lineSeparator());
        }
        sb.append("tables: ").append(out).append("/{layers,spectrum,factors,samples,sample_layers")
                .append(layers.stream().anyMatch(r -> r.density() != null) ? ",density" : "")
                .append(eigenvectors ? ",eigenvectors" : "").append(classes != null ? ",classes" : "")
                .append(runId == null ? "}, run.json" : ",runs}/run_id=" + runId + ", " + out + "/manifests/run_id=" + runId
                        + "/run.json");
        if (report != null) {
            sb.append(System.lineSeparator()).append("report: ").append(report);
        }
        return sb.toString();
    }

    /** Per class, the whole network's row (layer 0) when there is one, else the highest layer's. */
    private void appendClasses(StringBuilder sb) {
        int shown = classes.stream().mapToInt(ClassCurvature::layer).map(l -> l == 0 ? Integer.MAX_VALUE : l).max().orElse(0);
        int layer = shown == Integer.MAX_VALUE ? 0 : shown;
        List<ClassCurvature> rows = classes.stream().filter(c -> c.layer() == layer).toList();
        sb.append(String.format(Locale.ROOT, "per class (%s):%n", layer == 0 ? "whole network" : "layer " + layer));
        sb.append(String.format(Locale.ROOT, "%-5s %9s %12s %9s %12s %12s  %s%n", "class", "samples", "loss", "accuracy",
                "trace", "lambda_max", "method"));
        for (ClassCurvature c : rows.subList(0, Math.min(SUMMARY_CLASSES, rows.size()))) {
            sb.append(String.format(Locale.ROOT, "%-5d %9d %12.6g %9.4f %12.6g %12.6g  %s%n", c.classIndex(), c.samples(),
                    c.meanLoss(), c.accuracy(), c.trace(), c.lambdaMax(), c.method().columnValue()));
        }
        if (rows.size() > SUMMARY_CLASSES) {
            sb.append(String.format(Locale.ROOT, "... %d more classes in the classes table%n", rows.size() - SUMMARY_CLASSES));
        }
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.6g", v);
    }
}
