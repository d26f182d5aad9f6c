package io.hessianatlas.jobs.analyze;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.LayerResult;
import io.hessianatlas.jobs.analyze.io.InputFingerprint;
import io.hessianatlas.jobs.analyze.io.ModelLoader;
import io.hessianatlas.jobs.analyze.spark.SkippedRows;
import io.hessianatlas.jobs.analyze.spark.TaskFailures;
import org.apache.spark.sql.types.DataTypes;

/**
 * run.json: what a run was asked, what it read, what it computed with and how long it took (README
 * "Outputs"). Written last, by the output commit, beside the tables.
 *
 * @param rowsRead           rows of the input before --sample-fraction and skipped rows
 * @param nativeEnvironments the driver's and the executors' native BLAS environments
 * @param context            start time, input fingerprint, Spark application id and recovered failures
 */
record RunManifest(AnalyzeOptions options, ModelLoader.Loaded model, CurvaturePlan plan, long rowsRead,
                   CurvatureSums sums, Double accuracy, Map<String, Double> phases, List<String> warnings,
                   List<LayerResult> results, int passes, SkippedRows skipped, Map<String, Object> nativeEnvironments,
                   Context context) {

    /**
     * When and where the run ran: its start, what --data was (null when the driver could not list
     * it), and once Spark runs its application id and the failures it recovered from.
     */
    record Context(java.time.Instant started, InputFingerprint input, String applicationId, TaskFailures failures) {
        Context(java.time.Instant started, InputFingerprint input) {
            this(started, input, null, null);
        }

        Context withSpark(String id, TaskFailures f) {
            return new Context(started, input, id, f);
        }
    }

    /** Version of the output layout (tables, columns, run.json); bumped on any incompatible change. */
    static final int SCHEMA_VERSION = 2;

    /** The runs table of the --run-id layout (run_id is its partition column): one row per run. */
    static final org.apache.spark.sql.types.StructType RUNS = new org.apache.spark.sql.types.StructType()
            .add("started_at", DataTypes.TimestampType, false)
            .add("ended_at", DataTypes.TimestampType, false)
            .add("status", DataTypes.StringType, false)
            .add("schema_version", DataTypes.IntegerType, false)
            .add("model_path", DataTypes.StringType, false)
            .add("model_sha256", DataTypes.StringType, false)
            .add("data_path", DataTypes.StringType, false)
            .add("data_sha256", DataTypes.StringType, true)
            .add("data_files", DataTypes.LongType, true)
            .add("mode", DataTypes.StringType, false)
            .add("precision", DataTypes.StringType, false)
            .add("samples", DataTypes.LongType, false)
            .add("mean_loss", DataTypes.DoubleType, false)
            .add("accuracy", DataTypes.DoubleType, true)
            .add("passes_over_data", DataTypes.IntegerType, false)
            .add("warnings", DataTypes.IntegerType, false)
            .add("options", DataTypes.StringType, false)
            .add("spark_application_id", DataTypes.StringType, true);

    /**
     * This run's row of the runs table; status "succeeded", or "unconverged" when a Lanczos spectrum
     * stopped before --lanczos-tol.
     */
    org.apache.spark.sql.Row runsRow() {
        boolean converged = results.stream().allMatch(LayerResult::converged);
        String optionsJson;
        try {
            optionsJson = new ObjectMapper().writeValueAsString(options.toManifest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        InputFingerprint in = context.input();
        return org.apache.spark.sql.RowFactory.create(java.sql.Timestamp.from(context.started()),
                java.sql.Timestamp.from(java.time.Instant.now()), converged ? "succeeded" : "unconverged", SCHEMA_VERSION,
                options.input().model(), model.digest(), options.input().data(), in == null ? null : in.sha256(),
                in == null ? null : in.files(), options.pass().mode().optionName(), options.pass().precision().optionName(),
                sums.count(), sums.meanLoss(), accuracy, passes, warnings.size(), optionsJson, context.applicationId());
    }

    String toJson() {
        Network net = model.network();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema_version", SCHEMA_VERSION);
        m.put("command", "analyze");
        m.put("started_at", context.started().toString());
        m.put("ended_at", java.time.Instant.now().toString());
        m.put("options", options.toManifest());
        Map<String, Object> mod = new LinkedHashMap<>();
        mod.put("path", options.input().model());
        mod.put("kind", model.kind().label);
        mod.put("sha256", model.digest());
        mod.put("loss", net.loss().jsonName());
        mod.put("widths", net.widths());
        mod.put("parameters", net.parameterCount());
        m.put("model", mod);
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("path", options.input().data());
        in.put("format", options.input().format().sourceName());
        in.put("rows_read", rowsRead);
        in.put("rows_used", sums.count());
        in.put("rows_skipped", skipped.count());
        in.put("skip_reasons", skipped.reasons());
        in.put("fingerprint", context.input() == null ? null : context.input().toManifest());
        m.put("input", in);
        m.put("mean_loss", sums.meanLoss());
        m.put("accuracy", accuracy);
        List<Map<String, Object>> layers = new ArrayList<>();
        for (int l : plan.layers()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layer", l);
            e.put("dense", plan.isDense(l));
            e.put("empirical_fisher", plan.empiricalFisher(l));
            layers.add(e);
        }
        m.put("layers", layers);
        m.put("spectra", spectra());
        m.put("passes_over_data", passes);
        m.put("timings_seconds", phases);
        m.put("warnings", warnings);
        Properties v = BuildVersions.read();
        Map<String, Object> versions = new LinkedHashMap<>();
        versions.put("hessian_atlas", v.getProperty("version"));
        versions.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
        versions.put("nd4j", v.getProperty("nd4j.version"));
        versions.put("java", System.getProperty("java.version"));
        m.put("versions", versions);
        m.put("native", nativeEnvironments);
        Map<String, Object> sp = new LinkedHashMap<>();
        sp.put("application_id", context.applicationId());
        sp.put("failed_task_attempts", context.failures() == null ? 0 : context.failures().failedTasks());
        sp.put("executors_lost", context.failures() == null ? 0 : context.failures().lostExecutors());
        sp.put("failure_reasons", context.failures() == null ? List.of() : context.failures().reasons());
        m.put("spark", sp);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Per matrix: how its spectrum was obtained, and for Lanczos and densities what it cost. */
    private List<Map<String, Object>> spectra() {
        List<Map<String, Object>> spectra = new ArrayList<>();
        for (LayerResult r : results) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layer", r.layer());
            e.put("spectrum_method", r.spectrumMethod());
            if (r.lanczos() != null) {
                e.put("lanczos_passes", r.lanczos().steps());
                e.put("lanczos_products", r.lanczos().products());
                e.put("lanczos_krylov_dimension", r.lanczos().krylovDimension());
                e.put("lanczos_restarts", r.lanczos().restarts());
                e.put("lanczos_converged", r.lanczos().converged());
                e.put("lanczos_top_residuals", r.lanczos().topResiduals());
                e.put("lanczos_bottom_residuals", r.lanczos().bottomResiduals());
            }
            if (r.quadrature() != null) {
                e.put("density_passes", r.densityPasses());
                e.put("density_probes", r.quadrature().probes());
            }
            spectra.add(e);
        }
        return spectra;
    }
}
