package io.hessianatlas.jobs.cli;

import java.util.List;
import java.util.concurrent.Callable;

import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.jobs.analyze.AnalyzeJob;
import io.hessianatlas.jobs.analyze.api.AnalyzeOptions;
import io.hessianatlas.jobs.analyze.api.AnalyzeResult;
import io.hessianatlas.jobs.analyze.api.InputFormat;
import io.hessianatlas.jobs.analyze.api.LossChoice;
import io.hessianatlas.jobs.analyze.api.SpectrumMethod;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code atlas analyze}: curvature tables of a model over a dataset. One argument group per
 * {@link AnalyzeOptions} record; the defaults come from conf/atlas-defaults.properties through
 * picocli's {@link CommandLine.PropertiesDefaultProvider} (see {@link DefaultsFile}), typed values
 * (enums, numbers) are converted by picocli, and each record validates its values.
 */
@Command(name = "analyze", mixinStandardHelpOptions = true, versionProvider = AtlasCli.Version.class,
        showDefaultValues = true, sortOptions = false, usageHelpWidth = 110,
        description = "Computes exact per-sample, per-layer curvature (GGN or Hessian θ-blocks), their dataset "
                + "means, Kronecker factors and spectra, and writes them as Parquet tables under --out.")
public final class AnalyzeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @ArgGroup(validate = false, heading = "%nInput%n", order = 1)
    InputArgs input = new InputArgs();

    @ArgGroup(validate = false, heading = "%nPer-sample pass%n", order = 2)
    PassArgs pass = new PassArgs();

    @ArgGroup(validate = false, heading = "%nSpectra%n", order = 3)
    SpectraArgs spectra = new SpectraArgs();

    @ArgGroup(validate = false, heading = "%nOutput and run%n", order = 4)
    OutputArgs output = new OutputArgs();

    /** --model, --data and how to read them. */
    static final class InputArgs {
        @Option(names = "--model", required = true, paramLabel = "DIR|FILE",
                description = "Model directory: native (model.json + weights.safetensors), a Spark ML "
                        + "MultilayerPerceptronClassificationModel, or a Spark ML PipelineModel ending in one; "
                        + "or an ONNX file (any file: a feed-forward graph as torch.onnx.export writes it).")
        String model;

        @Option(names = "--loss", paramLabel = "NAME",
                description = "auto (the model's), softmax_cross_entropy, sigmoid_binary_cross_entropy or mse. "
                        + "Needed for an ONNX graph that ends in its logits; overrides an ONNX graph's final "
                        + "Softmax/Sigmoid; for native and Spark ML models it must match the model's loss.")
        LossChoice loss;

        @Option(names = "--data", required = true, paramLabel = "PATH", description = "Input data (file or directory).")
        String data;

        @Option(names = "--format", paramLabel = "FMT",
                description = "auto, parquet, csv, json or libsvm (auto: from the path's extension, else parquet).")
        InputFormat format;

        @Option(names = "--features-col", paramLabel = "COL", split = ",",
                description = "Features: a Spark ML vector or array column; for csv also a comma-separated list of "
                        + "numeric columns.")
        List<String> featuresCol;

        @Option(names = "--label-col", paramLabel = "COL", description = "Label column.")
        String labelCol;

        @Option(names = "--id-col", paramLabel = "COL", description = "Sample id column (default: the stable row index).")
        String idCol;

        @Option(names = "--sample-fraction", paramLabel = "F",
                description = "Analyse a reproducible random subsample of this fraction.")
        double sampleFraction;

        @Option(names = "--seed", paramLabel = "N",
                description = "Seed of --sample-fraction and of the Lanczos and density start vectors.")
        long seed;

        @Option(names = "--partitions", paramLabel = "N", description = "Partitions of the per-sample pass (0: keep the source's).")
        int partitions;

        @Option(names = "--on-invalid-row", paramLabel = "fail|skip",
                description = "A row with bad features or label: fail the run (naming the row), or skip it "
                        + "(counted, with the first reasons, in run.json).")
        AnalyzeOptions.InvalidRowPolicy onInvalidRow;

        AnalyzeOptions.Input toOptions() {
            return new AnalyzeOptions.Input(model, loss, data, format, featuresCol, labelCol, idCol, sampleFraction, seed,
                    partitions, onInvalidRow);
        }
    }

    /** What the per-sample pass computes. */
    static final class PassArgs {
        @Option(names = "--mode", paramLabel = "MODE", description = "ggn (Gauss-Newton) or hessian (exact).")
        CurvatureMode mode;

        @Option(names = "--precision", paramLabel = "TYPE",
                description = "Floating-point type of the per-sample pass: float64, or float32 (float32 forward, "
                        + "back-propagation and per-batch products, float64 sums, spectra and matrix-free products; "
                        + "results within 1e-4 relative of float64).")
        Precision precision;

        @Option(names = "--layers", paramLabel = "all|L[,L...]", description = "Layers to analyse, 1-based.")
        String layers;

        @Option(names = "--batch-size", paramLabel = "B", description = "Samples per mini-batch on the executors.")
        int batchSize;

        @Option(names = "--empirical-fisher", arity = "0..1", paramLabel = "BOOL",
                description = "Also accumulate the empirical Fisher F = mean g gᵀ (layers with a dense block).")
        boolean empiricalFisher;

        @Option(names = "--network", arity = "0..1", paramLabel = "BOOL",
                description = "Also the whole network's GGN / Hessian (all layers, cross-layer blocks) as layer 0; "
                        + "the per-sample pass then covers all layers.")
        boolean network;

        @Option(names = "--by-class", arity = "0..1", paramLabel = "BOOL",
                description = "Also per-class curvature (the classes table) on the same pass: labels must name classes "
                        + "(softmax cross-entropy, or binary cross-entropy with labels 0 and 1).")
        boolean byClass;

        AnalyzeOptions.Pass toOptions() {
            return new AnalyzeOptions.Pass(mode, precision, parseLayers(layers), batchSize, empiricalFisher, network, byClass);
        }
    }

    /** How spectra are computed and reported. */
    static final class SpectraArgs {
        @Option(names = "--spectrum", paramLabel = "METHOD",
                description = "auto (dense where the θ-block fits --dense-budget-mb, else lanczos), dense, kronecker "
                        + "(A⊗G only) or lanczos (matrix-free, any size).")
        SpectrumMethod spectrum;

        @Option(names = "--top-k", paramLabel = "K",
                description = "Eigenvalues of A⊗G reported from each end, and the k of the eigenspace overlap.")
        int topK;

        @Option(names = "--dense-budget-mb", paramLabel = "MiB", description = "Memory budget of one dense θ-block (8·d² bytes).")
        long denseBudgetMb;

        @Option(names = "--eigenvectors", paramLabel = "K", description = "Write the top-K eigenvectors of each H and A⊗G (0: none).")
        int eigenvectors;

        @Option(names = "--network-top-k", paramLabel = "K", description = "Eigenvalues of the whole network (0: --top-k).")
        int networkTopK;

        @Option(names = "--require-converged", arity = "0..1", paramLabel = "BOOL",
                description = "Exit with code 3 (after writing the tables) when a Lanczos spectrum did not reach "
                        + "--lanczos-tol within --lanczos-max-passes.")
        boolean requireConverged;

        @Option(names = "--lanczos-tol", paramLabel = "TOL",
                description = "Lanczos stops when every wanted Ritz pair has ||Hy − θy|| ≤ TOL · max|θ|.")
        double lanczosTol;

        @Option(names = "--lanczos-max-passes", paramLabel = "N", description = "At most N Lanczos passes over the data per matrix.")
        int lanczosMaxPasses;

        @Option(names = "--lanczos-block", paramLabel = "B", description = "Vectors per Lanczos pass (0: --top-k).")
        int lanczosBlock;

        @Option(names = "--lanczos-max-basis", paramLabel = "N",
                description = "At most N basis vectors per matrix on the driver (memory: N x the matrix's dimension x 8 B); "
                        + "when full, Lanczos restarts thickly from its best Ritz vectors (0: 20 blocks).")
        int lanczosMaxBasis;

        @Option(names = "--lanczos-products", paramLabel = "TYPE",
                description = "Floating-point type of the executors' products in Lanczos passes: float64, or float32 "
                        + "(twice the GEMM peak; float64 sums and driver work) followed by float64 passes from the "
                        + "float32 Ritz vectors until --lanczos-tol holds in float64.")
        Precision lanczosProducts;

        @Option(names = "--density", arity = "0..1", paramLabel = "BOOL",
                description = "Spectral density of each H (and of the network with --network) by stochastic Lanczos "
                        + "quadrature.")
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

        AnalyzeOptions.Spectra toOptions() {
            return new AnalyzeOptions.Spectra(spectrum, topK, denseBudgetMb, eigenvectors, networkTopK, requireConverged,
                    new AnalyzeOptions.Lanczos(lanczosTol, lanczosMaxPasses, lanczosBlock, lanczosProducts, lanczosMaxBasis),
                    new AnalyzeOptions.Density(density, densityProbes, densitySteps, densityGrid, densityWidth));
        }
    }

    /** Where results go and where Spark runs. */
    static final class OutputArgs {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (must not exist or be empty).")
        String out;

        @Option(names = "--overwrite", arity = "0..1", paramLabel = "BOOL",
                description = "Replace an existing --out directory (only once the new output is complete).")
        boolean overwrite;

        @Option(names = "--master", paramLabel = "URL", description = "Spark master; spark-submit's --master wins when set.")
        String master;

        @Option(names = "--defaults", paramLabel = "FILE",
                description = "Properties file of option defaults (keys: option names without dashes); an unknown key "
                        + "or a bad value is an error naming the file and line.")
        String defaults;

        @Option(names = "--conf", paramLabel = "FILE", description = "Deprecated name of --defaults (warns).")
        String conf;

        @Option(names = "--spark-conf", paramLabel = "KEY=VALUE", mapFallbackValue = "",
                description = "A Spark setting for the session, as spark-submit's --conf (repeatable), e.g. "
                        + "--spark-conf spark.sql.shuffle.partitions=8.")
        java.util.Map<String, String> sparkConf;

        @Option(names = "--run-id", paramLabel = "ID",
                description = "Write this run under --out as a root shared by many runs: every table under "
                        + "<table>/run_id=ID/ (Hive-style partitions), run.json and the report under manifests/run_id=ID/, "
                        + "one row in the runs table. Rerunning an ID needs --overwrite and replaces only its partitions.")
        String runId;

        @Option(names = "--report", arity = "0..1", paramLabel = "BOOL",
                description = "Also write report.html (self-contained: opens from disk, no network) and its charts as "
                        + "SVG and PNG under report/ in --out.")
        boolean report;

        @Option(names = "--verbose", description = "Print stack traces of errors.")
        boolean verbose;

        AnalyzeOptions.Output toOptions() {
            return new AnalyzeOptions.Output(out, overwrite, master, defaults != null ? defaults : conf, report,
                    sparkConf == null ? java.util.Map.of() : sparkConf, runId);
        }
    }

    @Override
    public Integer call() {
        AnalyzeOptions options = toOptions();
        if (!output.verbose) {
            quietTaskFailureLogs();
        }
        AnalyzeResult result = AnalyzeJob.run(options);
        spec.commandLine().getOut().println(result.summary());
        spec.commandLine().getOut().flush();
        List<String> unconverged = result.unconverged();
        if (options.spectra().requireConverged() && !unconverged.isEmpty()) {
            spec.commandLine().getErr().println("error: " + String.join(", ", unconverged)
                    + ": Lanczos did not converge (--require-converged); the tables are written under " + result.out());
            spec.commandLine().getErr().flush();
            return AtlasCli.EXIT_UNCONVERGED;
        }
        return AtlasCli.EXIT_OK;
    }

    /** The records, validated before any Spark work; an invalid value is a usage error naming the option. */
    AnalyzeOptions toOptions() {
        try {
            return new AnalyzeOptions(input.toOptions(), pass.toOptions(), spectra.toOptions(), output.toOptions());
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
        Configurator.setLevel("org.apache.spark.executor.Executor", Level.OFF);
        Configurator.setLevel("org.apache.spark.scheduler.TaskSetManager", Level.ERROR);
        Configurator.setLevel("org.apache.spark.storage.BlockManager", Level.ERROR);
    }

    /** {@code --layers}: "all" (or empty) is null; else a comma-separated list of layer numbers. */
    static int[] parseLayers(String s) {
        if (s == null || s.isBlank() || s.trim().equalsIgnoreCase("all")) {
            return null;
        }
        String[] parts = s.split(",");
        int[] layers = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                layers[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--layers: expected 'all' or a comma-separated list of layer numbers, got '"
                        + s + "'");
            }
        }
        return layers;
    }
}
