package io.hessianatlas.jobs.analyze;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.aggregate.CurvatureSums;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.common.spectra.ClassCurvature;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.AnalyzeResult;
import io.hessianatlas.jobs.analyze.api.InputException;
import io.hessianatlas.jobs.analyze.api.LayerResult;
import io.hessianatlas.jobs.analyze.api.SpectrumMethod;
import io.hessianatlas.jobs.analyze.io.CurvatureTables;
import io.hessianatlas.jobs.analyze.io.InputBatch;
import io.hessianatlas.jobs.analyze.io.InputBatcher;
import io.hessianatlas.jobs.analyze.io.InputFingerprint;
import io.hessianatlas.jobs.analyze.io.InputPreparation;
import io.hessianatlas.jobs.analyze.io.LabelType;
import io.hessianatlas.jobs.analyze.io.ModelLoader;
import io.hessianatlas.jobs.analyze.report.CurvatureReport;
import io.hessianatlas.jobs.analyze.io.OutputCommit;
import io.hessianatlas.jobs.analyze.io.RowSlices;
import io.hessianatlas.jobs.analyze.spark.CurvaturePassStep;
import io.hessianatlas.jobs.analyze.spark.ExecutorEnvironments;
import io.hessianatlas.jobs.analyze.spark.SkippedRows;
import io.hessianatlas.jobs.analyze.spark.SpectraStep;
import io.hessianatlas.jobs.analyze.spark.TaskFailures;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The `analyze` job, planned on the driver and executed on the executors, in phases:
 * <ol>
 *   <li>validate: model folder, --layers, the dense budget and --out, before Spark starts;</li>
 *   <li>native: ND4J and the {@link io.hessianatlas.common.nd4j.BlasSelfCheck} (a wrong BLAS stops here);</li>
 *   <li>start Spark (the master from --master unless spark-submit set one);</li>
 *   <li>read: {@link InputPreparation} (schema checks naming the column);</li>
 *   <li>pass: {@link CurvaturePassStep}, one distributed pass over mini-batches;</li>
 *   <li>spectra: {@link SpectraStep}: dense, Kronecker, matrix-free Lanczos and densities;</li>
 *   <li>write: the tables through {@link OutputCommit} (atomic);</li>
 *   <li>report (--report): {@link CurvatureReport} from the staged tables, then run.json, and the commit.</li>
 * </ol>
 */
public final class AnalyzeJob {
    public static final String APP_NAME = "hessian-atlas analyze";

    private static final Logger LOG = LoggerFactory.getLogger(AnalyzeJob.class);

    private AnalyzeJob() {
    }

    /** Runs the job in the active SparkSession if there is one (tests), else in a new one that it stops. */
    public static AnalyzeResult run(AnalyzeOptions options) {
        PhaseTimer timer = new PhaseTimer();
        java.time.Instant started = java.time.Instant.now();
        ModelLoader.Kind kind = ModelLoader.detect(options.input().model());
        ModelLoader.Loaded model = kind.readsWithoutSpark() ? ModelLoader.load(options.input(), kind) : null;
        if (model != null) {
            validateAgainstNetwork(options, model.network());
        }
        // before Spark starts: a missing --data or a bad --out fails in a fraction of a second
        InputFingerprint fingerprint = InputFingerprint.of(new Configuration(), options.input().data());
        OutputCommit.check(new Configuration(), options.output().out(), options.output().overwrite(), options.output().runId());
        timer.end("validate", kind.label + " model " + options.input().model());
        // ND4J and the BLAS self-check before Spark starts: a wrong BLAS stops the run in a second
        NativeRuntime.Status nativeStatus = NativeRuntime.configure();
        timer.end("native", nativeStatus.environment().describe() + String.format(java.util.Locale.ROOT,
                ", self-check %.0f ms", nativeStatus.selfCheck().millis()));

        boolean reuse = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
        SparkSession.Builder builder = SparkSession.builder().appName(APP_NAME);
        if (!reuse && System.getProperty("spark.master") == null) {
            builder = builder.master(options.output().master());
        }
        for (Map.Entry<String, String> e : options.output().sparkConf().entrySet()) {
            builder = builder.config(e.getKey(), e.getValue());
        }
        SparkSession spark = builder.getOrCreate();
        if (reuse) {
            applyToRunningSession(spark, options.output().sparkConf());
        }
        timer.end("start", "Spark " + spark.version() + ", master " + spark.sparkContext().master());
        try {
            return execute(spark, options, kind, model, timer, nativeStatus, new RunManifest.Context(started, fingerprint));
        } finally {
            if (!reuse) {
                spark.stop();
            }
        }
    }

    private static AnalyzeResult execute(SparkSession spark, AnalyzeOptions options, ModelLoader.Kind kind,
                                         ModelLoader.Loaded nativeModel, PhaseTimer timer,
                                         NativeRuntime.Status nativeStatus, RunManifest.Context context) {
        TaskFailures failures = new TaskFailures();
        spark.sparkContext().addSparkListener(failures);
        try {
            return execute(spark, options, kind, nativeModel, timer, nativeStatus, context, failures);
        } finally {
            spark.sparkContext().removeSparkListener(failures);
        }
    }

    private static AnalyzeResult execute(SparkSession spark, AnalyzeOptions options, ModelLoader.Kind kind,
                                         ModelLoader.Loaded nativeModel, PhaseTimer timer,
                                         NativeRuntime.Status nativeStatus, RunManifest.Context context,
                                         TaskFailures failures) {
        ModelLoader.Loaded model = nativeModel;
        if (model == null) {
            model = ModelLoader.load(options.input(), kind);
            validateAgainstNetwork(options, model.network());
            timer.end("model", kind.label + " " + model.network());
        }
        Network net = model.network();
        CurvaturePlan plan = plan(options, net);
        List<String> warnings = new ArrayList<>();
        for (int l : plan.layers()) {
            if (options.pass().empiricalFisher() && !plan.isDense(l)) {
                warnings.add("layer " + l + ": no empirical Fisher (its dense block exceeds --dense-budget-mb "
                        + options.spectra().denseBudgetMb() + ")");
            }
        }

        InputPreparation.Prepared input = InputPreparation.prepare(spark, options, model);
        timer.end("read", options.input().format().sourceName() + " " + options.input().data());

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Network> network = jsc.broadcast(net);
        // the query's internal rows: feature arrays are bulk-copied, never boxed (see InputBatcher)
        JavaRDD<InternalRow> rows = input.rows().queryExecution().toRdd().toJavaRDD();
        if (options.input().partitions() == 0) {
            // few or uneven source partitions (a Parquet file in one row group is one task): slices
            // of them, read in the source's order (no shuffle), over the cores
            rows = RowSlices.balance(jsc, rows, input.partitionCounts(), jsc.defaultParallelism());
        }
        JavaRDD<InputBatch> batches = rows
                .mapPartitions(new InputBatcher(net.inputSize(), net.outputSize(), net.loss(), options.pass().batchSize(),
                        input.idType() == DataTypes.StringType, options.input().skipInvalidRows(), options.pass().byClass(),
                        input.featureColumns()), true);
        if (needsMatrixFreePasses(options, plan)) {
            // read again by every Lanczos / SLQ pass; serialized, so a block spills to disk as bytes
            // and is read back one batch at a time
            batches = batches.persist(StorageLevel.MEMORY_AND_DISK_SER());
        }
        try (OutputCommit commit = OutputCommit.begin(spark.sparkContext().hadoopConfiguration(), options.output().out(),
                options.output().overwrite(), options.output().runId())) {
            CurvaturePassStep.Result pass = CurvaturePassStep.run(spark, batches, network, plan,
                    options.pass().precision(), input.idType(), LabelType.of(net.loss(), net.outputSize()));
            CurvatureSums sums = pass.sums();
            SkippedRows skipped = options.input().skipInvalidRows() ? SkippedRows.collect(pass.persisted()) : SkippedRows.NONE;
            if (skipped.count() > 0) {
                warnings.add(skipped.count() + " invalid row(s) skipped (--on-invalid-row skip), e.g. " + skipped.reasons().get(0));
            }
            if (sums.count() == 0) {
                throw new InputException("--data: " + options.input().data() + " has no rows to analyse"
                        + (options.input().sampleFraction() < 1 ? " after --sample-fraction " + options.input().sampleFraction() : ""));
            }
            timer.end("pass", sums.count() + " samples, " + pass.persisted().getNumPartitions() + " partitions");

            SpectraStep.Spectra spectra = SpectraStep.run(jsc, batches, network, sums, plan, options);
            List<LayerResult> results = spectra.results();
            for (LayerResult r : results) {
                if (!r.converged()) {
                    warnings.add(String.format(Locale.ROOT, "%s: Lanczos did not converge in %d passes (--lanczos-max-passes "
                            + "%d): largest relative residual %.2e over --lanczos-tol %.0e; its eigenvalues may be off",
                            r.label(), r.lanczos().steps(), options.spectra().lanczos().lanczosMaxPasses(),
                            r.lanczosRelativeResidual(), options.spectra().lanczos().lanczosTol()));
                }
            }
            // the per-sample pass, then the matrix-free passes the matrices' iterations shared
            int passes = 1 + spectra.passes();
            timer.end("spectra", results.size() + " matrices, " + (passes - 1) + " matrix-free passes");

            CurvatureTables.layers(spark, results, options.pass().mode().optionName()).write().mode(SaveMode.ErrorIfExists).parquet(commit.tablePath("layers"));
            CurvatureTables.spectrum(spark, results).write().mode(SaveMode.ErrorIfExists).parquet(commit.tablePath("spectrum"));
            CurvatureTables.factors(spark, results).write().mode(SaveMode.ErrorIfExists).parquet(commit.tablePath("factors"));
            if (options.spectra().density().density()) {
                CurvatureTables.density(spark, results).write().mode(SaveMode.ErrorIfExists).parquet(commit.tablePath("density"));
            }
            if (options.spectra().eigenvectors() > 0) {
                CurvatureTables.eigenvectors(spark, results, options.spectra().eigenvectors()).write().mode(SaveMode.ErrorIfExists)
                        .parquet(commit.tablePath("eigenvectors"));
            }
            List<ClassCurvature> classes = null;
            if (options.pass().byClass()) {
                classes = ClassCurvature.of(sums, options.pass().network());
                CurvatureTables.classes(spark, classes).write().mode(SaveMode.ErrorIfExists).parquet(commit.tablePath("classes"));
            }
            pass.samples().write().mode(SaveMode.ErrorIfExists).parquet(commit.tablePath("samples"));
            pass.sampleLayers().write().mode(SaveMode.ErrorIfExists).parquet(commit.tablePath("sample_layers"));
            pass.persisted().unpersist(false);
            long rowsRead = options.input().sampleFraction() < 1.0 ? input.beforeSampling().count() : sums.count() + skipped.count();
            Double accuracy = sums.labelledCount() > 0 ? sums.accuracy() : null;
            timer.end("write", "tables under " + options.output().out());

            String recovered = failures.warning();
            if (recovered != null) {
                warnings.add(recovered);
            }
            Map<String, Double> phases = timer.phases();
            phases.put("total", timer.totalSeconds());
            RunManifest.Context run = context.withSpark(spark.sparkContext().applicationId(), failures);
            Map<String, Object> nativeManifest = new LinkedHashMap<>();
            nativeManifest.put("driver", ExecutorEnvironments.driverManifest(nativeStatus));
            nativeManifest.put("executors", ExecutorEnvironments.manifest(pass.environments()));
            String report = null;
            if (options.output().report()) {
                // the report reads the staged tables and this run.json (its own phase is in the final one)
                String runJson = new RunManifest(options, model, plan, rowsRead, sums, accuracy, phases, warnings, results,
                        passes, skipped, nativeManifest, run).toJson();
                CurvatureReport.Written written = CurvatureReport.write(spark, commit.stagingPath(), runJson);
                report = commit.finalPath(CurvatureReport.HTML, false);
                timer.end("report", written.charts().size() + " chart files beside " + CurvatureReport.HTML);
                phases = timer.phases();
                phases.put("total", timer.totalSeconds());
            }
            RunManifest manifest = new RunManifest(options, model, plan, rowsRead, sums, accuracy, phases, warnings, results,
                    passes, skipped, nativeManifest, run);
            if (options.output().runId() != null) {
                spark.createDataFrame(List.of(manifest.runsRow()), RunManifest.RUNS).coalesce(1).write()
                        .mode(SaveMode.ErrorIfExists).parquet(commit.tablePath(OutputCommit.RUNS));
            }
            commit.commit(manifest.toJson());
            for (String w : warnings) {
                LOG.warn(w);
            }
            return new AnalyzeResult(options.output().out(), options.pass().mode().optionName(),
                    options.pass().precision().optionName(), results, rowsRead, sums.count(), sums.meanLoss(), accuracy,
                    phases, passes, options.spectra().eigenvectors() > 0, warnings, classes, report, options.output().runId());
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + options.output().out() + " failed: " + e.getMessage(), e);
        } finally {
            batches.unpersist(false);
            network.destroy();
        }
    }

    /**
     * --spark-conf on a session that was already running (spark-submit's, or a test's): the settings
     * Spark lets a running session change are set, the others (core settings fixed when the context
     * started) are logged as ignored.
     */
    private static void applyToRunningSession(SparkSession spark, Map<String, String> settings) {
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (spark.conf().isModifiable(e.getKey())) {
                spark.conf().set(e.getKey(), e.getValue());
            } else if (!e.getValue().equals(spark.conf().get(e.getKey(), null))) {
                LOG.warn("--spark-conf {}={} ignored: the running Spark session fixed it at start (pass it to "
                        + "spark-submit as --conf)", e.getKey(), e.getValue());
            }
        }
    }

    /** Checks --layers and, for --spectrum dense, the memory budget; messages name the option. */
    static void validateAgainstNetwork(AnalyzeOptions options, Network net) {
        int[] layers = options.pass().layers();
        if (layers != null) {
            for (int l : layers) {
                if (l > net.depth()) {
                    throw new InputException("--layers: layer " + l + " does not exist, the model has layers 1.."
                            + net.depth());
                }
            }
        }
        if (options.pass().byClass()) {
            int classes = net.classCount();
            if (classes == 0) {
                throw new InputException("--by-class: the model's labels name no classes (loss " + net.loss().jsonName()
                        + " with " + net.outputSize() + " outputs); expected softmax cross-entropy, or binary cross-entropy "
                        + "with one output");
            }
            int[] analysed = CurvaturePlan.of(net, options.pass().mode(), options.pass().network() ? null : layers,
                    Long.MAX_VALUE, false, false).layers();
            long bytes = CurvaturePlan.perClassFactorBytes(net, analysed, classes);
            if (bytes > options.spectra().denseBudgetBytes()) {
                throw new InputException("--by-class: the per-class Kronecker factors of " + classes + " classes need "
                        + CurvaturePlan.mib(bytes) + " MiB per task, over --dense-budget-mb "
                        + options.spectra().denseBudgetMb() + " (raise the budget or analyse fewer --layers)");
            }
        }
        if (options.spectra().spectrum() == SpectrumMethod.DENSE) {
            CurvaturePlan probe = CurvaturePlan.of(net, options.pass().mode(), layers, options.spectra().denseBudgetBytes(), false, false);
            for (int l : probe.layers()) {
                if (!probe.isDense(l)) {
                    long mb = CurvaturePlan.mib(CurvaturePlan.denseBytes(net.layer(l)));
                    throw new InputException("--spectrum dense: layer " + l + " needs a " + mb + " MiB dense block ("
                            + net.layer(l).parameterCount() + " parameters), over --dense-budget-mb "
                            + options.spectra().denseBudgetMb() + " (raise the budget or use --spectrum auto or kronecker)");
                }
            }
        }
    }

    /** Whether any spectrum needs matrix-free passes over the batches after the per-sample pass. */
    static boolean needsMatrixFreePasses(AnalyzeOptions options, CurvaturePlan plan) {
        if (options.pass().network() || options.spectra().density().density() || options.spectra().spectrum() == SpectrumMethod.LANCZOS) {
            return true;
        }
        if (options.spectra().spectrum() == SpectrumMethod.AUTO) {
            for (int l : plan.layers()) {
                if (!plan.isDense(l)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The pass's plan: dense blocks where they fit the budget (none for kronecker or lanczos); with
     * --network every layer, since the network's exact trace is the sum of all layers' traces.
     */
    static CurvaturePlan plan(AnalyzeOptions options, Network net) {
        long budget = options.spectra().spectrum() == SpectrumMethod.KRONECKER || options.spectra().spectrum() == SpectrumMethod.LANCZOS
                ? -1 : options.spectra().denseBudgetBytes();
        CurvaturePlan plan = CurvaturePlan.of(net, options.pass().mode(), options.pass().network() ? null : options.pass().layers(),
                budget, false, options.pass().empiricalFisher());
        return options.pass().byClass() ? plan.withClasses(net, net.classCount(), options.spectra().denseBudgetBytes()) : plan;
    }
}
