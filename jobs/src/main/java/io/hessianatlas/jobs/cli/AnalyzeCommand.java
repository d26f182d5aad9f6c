package io.hessianatlas.jobs.cli;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.jobs.analyze.AnalyzeJob;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.AnalyzeResult;
import io.hessianatlas.jobs.analyze.api.InputFormat;
import io.hessianatlas.jobs.analyze.api.SpectrumMethod;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code atlas analyze}: curvature tables of a model over a dataset (README: "Options"). */
@Command(name = "analyze", mixinStandardHelpOptions = true, versionProvider = AtlasCli.Version.class,
        showDefaultValues = true, sortOptions = false,
        description = "Computes exact per-sample, per-layer curvature (GGN or Hessian θ-blocks), their dataset "
                + "means, Kronecker factors and spectra, and writes them as Parquet tables under --out.")
public final class AnalyzeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory: native (model.json + weights.safetensors), a Spark ML "
                    + "MultilayerPerceptronClassificationModel, or a Spark ML PipelineModel ending in one.")
    String model;

    @Option(names = "--data", required = true, paramLabel = "PATH", description = "Input data (file or directory).")
    String data;

    @Option(names = "--format", paramLabel = "FMT",
            description = "auto, parquet, csv, json or libsvm (auto: from the path's extension, else parquet).")
    String format;

    @Option(names = "--features-col", paramLabel = "COL[,COL...]",
            description = "Features: a Spark ML vector or array column; for csv also a comma-separated list of numeric columns.")
    String featuresCol;

    @Option(names = "--label-col", paramLabel = "COL", description = "Label column.")
    String labelCol;

    @Option(names = "--id-col", paramLabel = "COL", description = "Sample id column (default: the stable row index).")
    String idCol;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (must not exist or be empty).")
    String out;

    @Option(names = "--overwrite", arity = "0..1", paramLabel = "BOOL", description = "Replace an existing --out directory (only once the new output is complete).")
    boolean overwrite;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master; spark-submit's --master wins when set.")
    String master;

    @Option(names = "--mode", paramLabel = "MODE", description = "ggn (Gauss-Newton) or hessian (exact).")
    String mode;

    @Option(names = "--precision", paramLabel = "TYPE",
            description = "Floating-point type of the per-sample pass: float64, or float32 (float32 forward, "
                    + "back-propagation and per-batch products, float64 sums, spectra and matrix-free products; "
                    + "results within 1e-4 relative of float64).")
    String precision;

    @Option(names = "--spectrum", paramLabel = "METHOD",
            description = "auto (dense where the θ-block fits --dense-budget-mb, else lanczos), dense, kronecker "
                    + "(A⊗G only) or lanczos (matrix-free, any size).")
    String spectrum;

    @Option(names = "--top-k", paramLabel = "K", description = "Eigenvalues of A⊗G reported from each end, and the k of the eigenspace overlap.")
    int topK;

    @Option(names = "--batch-size", paramLabel = "B", description = "Samples per mini-batch on the executors.")
    int batchSize;

    @Option(names = "--dense-budget-mb", paramLabel = "MiB", description = "Memory budget of one dense θ-block (8·d² bytes).")
    long denseBudgetMb;

    @Option(names = "--layers", paramLabel = "all|L[,L...]", description = "Layers to analyse, 1-based.")
    String layers;

    @Option(names = "--empirical-fisher", arity = "0..1", paramLabel = "BOOL",
            description = "Also accumulate the empirical Fisher F = mean g gᵀ (layers with a dense block).")
    boolean empiricalFisher;

    @Option(names = "--sample-fraction", paramLabel = "F", description = "Analyse a reproducible random subsample of this fraction.")
    double sampleFraction;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of --sample-fraction.")
    long seed;

    @Option(names = "--partitions", paramLabel = "N", description = "Partitions of the per-sample pass (0: keep the source's).")
    int partitions;

    @Option(names = "--lanczos-tol", paramLabel = "TOL",
            description = "Lanczos stops when every wanted Ritz pair has ||Hy − θy|| ≤ TOL · max|θ|.")
    double lanczosTol;

    @Option(names = "--lanczos-max-passes", paramLabel = "N", description = "At most N Lanczos passes over the data per matrix.")
    int lanczosMaxPasses;

    @Option(names = "--lanczos-block", paramLabel = "B", description = "Vectors per Lanczos pass (0: --top-k).")
    int lanczosBlock;

    @Option(names = "--density", arity = "0..1", paramLabel = "BOOL",
            description = "Spectral density of each H (and of the network with --network) by stochastic Lanczos quadrature.")
    boolean density;

    @Option(names = "--density-probes", paramLabel = "P", description = "Rademacher probes; all advance in the same passes.")
    int densityProbes;

    @Option(names = "--density-steps", paramLabel = "M", description = "Lanczos steps per probe (= passes over the data).")
    int densitySteps;

    @Option(names = "--density-grid", paramLabel = "N", description = "Grid points of each density.")
    int densityGrid;

    @Option(names = "--density-width", paramLabel = "W",
            description = "Gaussian broadening σ as a fraction of the span of the extreme Ritz values.")
    double densityWidth;

    @Option(names = "--network", arity = "0..1", paramLabel = "BOOL",
            description = "Also the whole network's GGN / Hessian (all layers, cross-layer blocks) as layer 0; "
                    + "the per-sample pass then covers all layers.")
    boolean network;

    @Option(names = "--network-top-k", paramLabel = "K", description = "Eigenvalues of the whole network (0: --top-k).")
    int networkTopK;

    @Option(names = "--eigenvectors", paramLabel = "K", description = "Write the top-K eigenvectors of each H and A⊗G (0: none).")
    int eigenvectors;

    @Option(names = "--on-invalid-row", paramLabel = "fail|skip",
            description = "A row with bad features or label: fail the run (naming the row), or skip it "
                    + "(counted, with the first reasons, in run.json).")
    String onInvalidRow;

    @Option(names = "--conf", paramLabel = "FILE", description = "Properties file of option defaults (keys: option names without dashes).")
    String conf;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        AnalyzeOptions options = toOptions();
        if (!verbose) {
            quietTaskFailureLogs();
        }
        AnalyzeResult result = AnalyzeJob.run(options);
        spec.commandLine().getOut().println(result.summary());
        spec.commandLine().getOut().flush();
        return AtlasCli.EXIT_OK;
    }

    /** Validates the options before any Spark work; errors become usage errors naming the option. */
    AnalyzeOptions toOptions() {
        try {
            return AnalyzeOptions.builder()
                    .model(model).data(data).format(named("--format", () -> InputFormat.parse(format)))
                    .featuresCols(splitColumns(featuresCol)).labelCol(labelCol).idCol(idCol)
                    .out(out).overwrite(overwrite).master(master)
                    .mode(named("--mode", () -> CurvatureMode.parse(mode)))
                    .precision(named("--precision", () -> Precision.parse(precision)))
                    .spectrum(named("--spectrum", () -> SpectrumMethod.parse(spectrum)))
                    .topK(topK).batchSize(batchSize).denseBudgetMb(denseBudgetMb)
                    .layers(parseLayers(layers)).empiricalFisher(empiricalFisher)
                    .sampleFraction(sampleFraction).seed(seed).partitions(partitions)
                    .lanczosTolerance(lanczosTol).lanczosMaxPasses(lanczosMaxPasses).lanczosBlock(lanczosBlock)
                    .density(density).densityProbes(densityProbes).densitySteps(densitySteps)
                    .densityGrid(densityGrid).densityWidth(densityWidth)
                    .network(network).networkTopK(networkTopK).eigenvectors(eigenvectors)
                    .skipInvalidRows(named("--on-invalid-row", () -> parseInvalidRow(onInvalidRow)))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /**
     * A bad data row fails its task; Spark then logs the exception with its stack trace from the
     * executor and the scheduler. The CLI reports it as one line, so without --verbose those
     * loggers are turned down (the error line still carries the cause).
     */
    private static void quietTaskFailureLogs() {
        org.apache.logging.log4j.core.config.Configurator.setLevel("org.apache.spark.executor.Executor",
                org.apache.logging.log4j.Level.OFF);
        org.apache.logging.log4j.core.config.Configurator.setLevel("org.apache.spark.scheduler.TaskSetManager",
                org.apache.logging.log4j.Level.ERROR);
        org.apache.logging.log4j.core.config.Configurator.setLevel("org.apache.spark.storage.BlockManager",
                org.apache.logging.log4j.Level.ERROR);
    }

    /** Prefixes a parser's message with the option name. */
    private static <T> T named(String option, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }

    private static boolean parseInvalidRow(String s) {
        String v = s == null ? "" : s.trim().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("fail")) {
            return false;
        }
        if (v.equals("skip")) {
            return true;
        }
        throw new IllegalArgumentException("expected fail or skip, got '" + s + "'");
    }

    static List<String> splitColumns(String s) {
        if (s == null) {
            return List.of();
        }
        return Arrays.stream(s.split(",")).map(String::trim).toList();
    }

    /** "all" (or empty) = null; else a comma-separated list of positive layer numbers. */
    static int[] parseLayers(String s) {
        if (s == null || s.isBlank() || s.trim().equalsIgnoreCase("all")) {
            return null;
        }
        try {
            return Arrays.stream(s.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--layers: expected 'all' or a comma-separated list of layer numbers, got '"
                    + s + "'");
        }
    }
}
