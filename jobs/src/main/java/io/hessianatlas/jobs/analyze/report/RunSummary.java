package io.hessianatlas.jobs.analyze.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What the report's header shows of a run's run.json (README "Outputs"): the model, the data,
 * the options (mode and precision among them), timings, passes, warnings, and every Lanczos
 * spectrum that did not converge. Read leniently: a key that is absent prints as absent, so a
 * report can be made of an older or newer manifest.
 *
 * @param options      every option under its command-line name, as run.json records it
 * @param unconverged  one line per matrix whose Lanczos iteration did not converge (from "spectra")
 * @param phases       seconds per phase in run order, without "total"
 */
record RunSummary(Integer schemaVersion, String modelPath, String modelKind, String modelLoss, String modelWidths,
                  Long modelParameters, String dataPath, String dataFormat, Long rowsRead, Long rowsUsed,
                  Long rowsSkipped, String skipReasons, Double meanLoss, Double accuracy, Integer passesOverData,
                  Double totalSeconds, Map<String, Double> phases, Map<String, String> options, List<String> warnings,
                  List<String> unconverged, Map<String, String> versions) {

    RunSummary {
        phases = Collections.unmodifiableMap(new LinkedHashMap<>(phases));
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
        warnings = List.copyOf(warnings);
        unconverged = List.copyOf(unconverged);
        versions = Collections.unmodifiableMap(new LinkedHashMap<>(versions));
    }

    /** --mode ("ggn" or "hessian"), or null when run.json does not say. */
    String mode() {
        return options.get("mode");
    }

    /** --precision, or null when run.json does not say. */
    String precision() {
        return options.get("precision");
    }

    /** Parses run.json's text; throws UncheckedIOException naming run.json when it is not JSON. */
    static RunSummary parse(String runJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(runJson);
        } catch (IOException e) {
            throw new UncheckedIOException("run.json: not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("run.json: expected a JSON object");
        }
        JsonNode model = root.path("model");
        JsonNode input = root.path("input");
        Map<String, Double> phases = new LinkedHashMap<>();
        Double total = null;
        for (Map.Entry<String, JsonNode> e : root.path("timings_seconds").properties()) {
            if (e.getValue().isNumber()) {
                if (e.getKey().equals("total")) {
                    total = e.getValue().asDouble();
                } else {
                    phases.put(e.getKey(), e.getValue().asDouble());
                }
            }
        }
        if (total == null && !phases.isEmpty()) {
            total = phases.values().stream().mapToDouble(Double::doubleValue).sum();
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.path("options").properties()) {
            options.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().isValueNode()
                    ? e.getValue().asText() : e.getValue().toString());
        }
        List<String> warnings = new ArrayList<>();
        root.path("warnings").forEach(w -> warnings.add(w.asText()));
        Map<String, String> versions = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.path("versions").properties()) {
            versions.put(e.getKey(), e.getValue().asText());
        }
        JsonNode skipReasons = input.path("skip_reasons");
        return new RunSummary(intOrNull(root.path("schema_version")), text(model.path("path")), text(model.path("kind")),
                text(model.path("loss")), model.path("widths").isMissingNode() ? null : model.path("widths").toString(),
                longOrNull(model.path("parameters")), text(input.path("path")), text(input.path("format")),
                longOrNull(input.path("rows_read")), longOrNull(input.path("rows_used")),
                longOrNull(input.path("rows_skipped")),
                skipReasons.isMissingNode() || skipReasons.isNull() || skipReasons.isEmpty() ? null : skipReasons.toString(),
                doubleOrNull(root.path("mean_loss")), doubleOrNull(root.path("accuracy")),
                intOrNull(root.path("passes_over_data")), total, phases, options, warnings, unconverged(root.path("spectra")),
                versions);
    }

    /** "layer 2: Lanczos not converged after 40 passes (largest top residual 0.0031)" per unconverged entry. */
    private static List<String> unconverged(JsonNode spectra) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : spectra) {
            JsonNode converged = s.path("lanczos_converged");
            if (converged.isBoolean() && !converged.asBoolean()) {
                StringBuilder sb = new StringBuilder("layer ").append(s.path("layer").asText("?"));
                if (s.has("matrix")) {
                    sb.append(" (").append(s.path("matrix").asText()).append(')');
                }
                sb.append(": Lanczos not converged");
                if (s.path("lanczos_passes").isNumber()) {
                    sb.append(" after ").append(s.path("lanczos_passes").asInt()).append(" passes");
                }
                double worst = Double.NaN;
                for (JsonNode r : s.path("lanczos_top_residuals")) {
                    if (r.isNumber() && !(r.asDouble() <= worst)) {
                        worst = r.asDouble();
                    }
                }
                if (!Double.isNaN(worst)) {
                    sb.append(" (largest top residual ").append(ReportFormat.number(worst)).append(')');
                }
                out.add(sb.toString());
            }
        }
        return out;
    }

    private static String text(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? null : n.asText();
    }

    private static Long longOrNull(JsonNode n) {
        return n.isNumber() ? n.asLong() : null;
    }

    private static Integer intOrNull(JsonNode n) {
        return n.isNumber() ? n.asInt() : null;
    }

    private static Double doubleOrNull(JsonNode n) {
        return n.isNumber() ? n.asDouble() : null;
    }
}
