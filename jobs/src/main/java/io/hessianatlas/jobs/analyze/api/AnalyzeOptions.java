package io.hessianatlas.jobs.analyze.api;

import java.io.Serializable;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.spectra.BlockLanczos;

/**
 * The validated, immutable options of one `analyze` run, in the groups `atlas analyze --help` shows.
 * Each record checks its values when it is built, before any Spark work, and throws
 * {@link IllegalArgumentException} naming the option and what was expected. Component names are the
 * options' names in camel case ({@code topK} is {@code --top-k}): {@link #toManifest()} writes every
 * option to run.json under its command-line name from them, so an option is declared once here.
 *
 * @param input   what to read (--model, --data and the columns, sampling, partitions, invalid rows)
 * @param pass    the per-sample pass (--mode, --precision, --layers, --batch-size, ...)
 * @param spectra how spectra are computed and reported (--spectrum, --top-k, Lanczos, density)
 * @param output  where results go and where Spark runs (--out, --overwrite, --master, --conf)
 */
public record AnalyzeOptions(Input input, Pass pass, Spectra spectra, Output output) implements Serializable {
    public AnalyzeOptions {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(pass, "pass");
        Objects.requireNonNull(spectra, "spectra");
        Objects.requireNonNull(output, "output");
        int maxBasis = spectra.lanczos().lanczosMaxBasis();
        if (maxBasis > 0) {
            // the wanted Ritz vectors (both ends for the exact Hessian) and two blocks must fit
            boolean bothEnds = pass.mode() == CurvatureMode.HESSIAN;
            int k = pass.network() ? Math.max(spectra.topK(), spectra.networkTopK()) : spectra.topK();
            int block = spectra.lanczos().blockFor(k);
            int needed = BlockLanczos.minimumBasis(k, bothEnds, block);
            require(maxBasis >= needed, "--lanczos-max-basis: expected 0 or at least " + needed + " (the " + (bothEnds ? 2 * k : k)
                    + " wanted Ritz vectors and two blocks of " + block + "), got " + maxBasis);
        }
    }

    /**
     * @param model          native model directory, Spark ML MLP or PipelineModel ending in one, or an ONNX file
     * @param loss           the loss: AUTO (the model's) or a named one ({@code ModelLoader} checks it against the model)
     * @param data           input file or directory
     * @param format         the Spark source, resolved: AUTO is replaced by the one the path names
     * @param featuresCol    one vector or array column or, for csv, several numeric columns
     * @param labelCol       label column
     * @param idCol          id column, or null for the stable row index
     * @param sampleFraction fraction of the rows analysed, in (0, 1]
     * @param seed           seed of --sample-fraction, and of the Lanczos and SLQ start vectors
     * @param partitions     partitions of the per-sample pass (0: the source's)
     * @param onInvalidRow   what a bad row does
     */
    public record Input(String model, LossChoice loss, String data, InputFormat format, List<String> featuresCol, String labelCol,
                        String idCol, double sampleFraction, long seed, int partitions, InvalidRowPolicy onInvalidRow)
            implements Serializable {
        public Input {
            require(model != null && !model.isBlank(), "--model: a model directory or ONNX file is required");
            loss = loss == null ? LossChoice.AUTO : loss;
            require(data != null && !data.isBlank(), "--data: an input path is required");
            Objects.requireNonNull(format, "format");
            format = format.resolve(data);
            featuresCol = featuresCol == null ? null : featuresCol.stream().map(c -> c == null ? null : c.trim()).toList();
            require(featuresCol != null && !featuresCol.isEmpty() && featuresCol.stream().noneMatch(c -> c == null || c.isBlank()),
                    "--features-col: expected a column name (or, for csv, a comma-separated list), got '" + featuresCol + "'");
            featuresCol = List.copyOf(featuresCol);
            require(labelCol != null && !labelCol.isBlank(), "--label-col: expected a column name");
            idCol = idCol == null || idCol.isBlank() ? null : idCol;
            require(sampleFraction > 0 && sampleFraction <= 1 && !Double.isNaN(sampleFraction),
                    "--sample-fraction: expected a number in (0, 1], got " + sampleFraction);
            require(partitions >= 0, "--partitions: expected 0 (keep the source's) or a positive integer, got " + partitions);
            Objects.requireNonNull(onInvalidRow, "onInvalidRow");
        }

        /** --on-invalid-row skip: drop invalid rows (counted in run.json) instead of failing. */
        public boolean skipInvalidRows() {
            return onInvalidRow == InvalidRowPolicy.SKIP;
        }
    }

    /**
     * @param mode            GGN or exact Hessian
     * @param precision       floating-point type of the per-sample pass (sums, spectra and products stay float64)
     * @param layers          1-based layers to analyse, or null for all
     * @param batchSize       samples per mini-batch
     * @param empiricalFisher also accumulate F (layers with a dense block)
     * @param network         the whole network as layer 0
     * @param byClass         also per-class sums (labels that name classes), for the classes table
     */
    public record Pass(CurvatureMode mode, Precision precision, int[] layers, int batchSize, boolean empiricalFisher,
                       boolean network, boolean byClass) implements Serializable {
        public Pass {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(precision, "precision");
            if (layers != null) {
                layers = layers.clone();
                for (int l : layers) {
                    require(l >= 1, "--layers: expected 1-based layer numbers, got " + l);
                }
            }
            require(batchSize > 0, "--batch-size: expected a positive integer, got " + batchSize);
        }

        @Override
        public int[] layers() {
            return layers == null ? null : layers.clone();
        }
    }

    /**
     * @param spectrum      how each layer's spectrum is obtained
     * @param topK          eigenvalues of A⊗G from each end; k of the eigenspace overlap
     * @param denseBudgetMb memory budget of one dense θ-block, MiB
     * @param eigenvectors  leading eigenvectors written per matrix (0: none)
     * @param networkTopK   eigenvalues of the whole network from each end (0 given: topK)
     * @param requireConverged exit 3 (tables written) when a Lanczos spectrum did not converge
     * @param lanczos       block Lanczos settings
     * @param density       spectral-density settings
     */
    public record Spectra(SpectrumMethod spectrum, int topK, long denseBudgetMb, int eigenvectors, int networkTopK,
                          boolean requireConverged, Lanczos lanczos, Density density) implements Serializable {
        public Spectra {
            Objects.requireNonNull(spectrum, "spectrum");
            require(topK > 0, "--top-k: expected a positive integer, got " + topK);
            require(denseBudgetMb >= 0, "--dense-budget-mb: expected a non-negative number of MiB, got " + denseBudgetMb);
            require(eigenvectors >= 0, "--eigenvectors: expected 0 or a positive integer, got " + eigenvectors);
            require(networkTopK >= 0, "--network-top-k: expected 0 (= --top-k) or a positive integer, got " + networkTopK);
            networkTopK = networkTopK > 0 ? networkTopK : topK;
            Objects.requireNonNull(lanczos, "lanczos");
            Objects.requireNonNull(density, "density");
        }

        public long denseBudgetBytes() {
            return denseBudgetMb * 1024L * 1024L;
        }
    }

    /**
     * @param lanczosTol       stop when every wanted Ritz pair has ‖Hy − θy‖ ≤ tol · max|θ|
     * @param lanczosMaxPasses at most this many block products per matrix
     * @param lanczosBlock     vectors per pass (0: the number of eigenvalues wanted)
     * @param lanczosProducts  compute type of the executors' per-batch products: FLOAT64, or FLOAT32 then
     *                         float64 refinement passes started from the float32 Ritz vectors
     * @param lanczosMaxBasis  at most this many basis vectors on the driver per matrix, kept by thick restarts
     *                         (0: {@link BlockLanczos#defaultBasis}, 20 blocks)
     */
    public record Lanczos(double lanczosTol, int lanczosMaxPasses, int lanczosBlock, Precision lanczosProducts,
                          int lanczosMaxBasis) implements Serializable {
        public Lanczos {
            require(lanczosMaxBasis >= 0, "--lanczos-max-basis: expected 0 (20 blocks) or a positive integer, got "
                    + lanczosMaxBasis);
            require(lanczosProducts != null, "--lanczos-products: expected float64 or float32");
            require(lanczosTol > 0 && lanczosTol < 1, "--lanczos-tol: expected a number in (0, 1), got " + lanczosTol);
            require(lanczosMaxPasses > 0, "--lanczos-max-passes: expected a positive integer, got " + lanczosMaxPasses);
            require(lanczosBlock >= 0, "--lanczos-block: expected 0 (= top-k) or a positive integer, got " + lanczosBlock);
        }

        /** Vectors per pass for a matrix whose k eigenvalues (per end) are wanted: --lanczos-block, or k when 0. */
        public int blockFor(int k) {
            return lanczosBlock > 0 ? lanczosBlock : k;
        }
    }

    /**
     * @param density       compute spectral densities by stochastic Lanczos quadrature
     * @param densityProbes Rademacher probes
     * @param densitySteps  Lanczos steps per probe
     * @param densityGrid   grid points per density
     * @param densityWidth  Gaussian broadening σ relative to the span of the Ritz values
     */
    public record Density(boolean density, int densityProbes, int densitySteps, int densityGrid, double densityWidth)
            implements Serializable {
        public Density {
            require(densityProbes > 0, "--density-probes: expected a positive integer, got " + densityProbes);
            require(densitySteps > 0, "--density-steps: expected a positive integer, got " + densitySteps);
            require(densityGrid >= 2, "--density-grid: expected at least 2 points, got " + densityGrid);
            require(densityWidth > 0 && Double.isFinite(densityWidth),
                    "--density-width: expected a positive number, got " + densityWidth);
        }
    }

    /**
     * @param out       output directory
     * @param overwrite replace an existing --out once the new output is complete
     * @param master    Spark master (a master set by spark-submit wins)
     * @param conf      the --conf defaults file, or null (the bundled defaults only)
     */
    /**
     * @param defaults  the --defaults file (or its deprecated name --conf), or null
     * @param report    also write report.html and its charts (report/) under out
     * @param sparkConf Spark settings for the session (--spark-conf KEY=VALUE), by key
     * @param runId     --run-id: out is a root of many runs, each table partitioned by run_id; null: one run
     */
    public record Output(String out, boolean overwrite, String master, String defaults, boolean report,
                         Map<String, String> sparkConf, String runId) implements Serializable {
        /** What a run id may hold: it names a folder (run_id=ID) on every file system. */
        public static final String RUN_ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}";

        public Output {
            runId = runId == null || runId.isEmpty() ? null : runId;
            require(runId == null || runId.matches(RUN_ID_PATTERN), "--run-id: '" + runId + "' is not a valid run id, "
                    + "expected letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)");
            require(out != null && !out.isBlank(), "--out: an output directory is required");
            require(master != null && !master.isBlank(), "--master: expected a Spark master URL such as local[*]");
            sparkConf = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(sparkConf));
            for (Map.Entry<String, String> e : sparkConf.entrySet()) {
                require(!e.getKey().isBlank() && !e.getValue().isEmpty(), "--spark-conf: expected KEY=VALUE, got '"
                        + e.getKey() + "=" + e.getValue() + "'");
            }
        }
    }

    /** What a row with bad features or label does (`--on-invalid-row`). */
    public enum InvalidRowPolicy {
        /** stop the run with exit 2 naming the row */
        FAIL,
        /** drop the row; run.json counts the dropped rows and keeps the first reasons */
        SKIP
    }

    /**
     * Every option under its command-line name, as run.json records it: enums in lower case, lists
     * comma-joined, {@code --layers} as "all" or "[1, 2]".
     */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        addComponents(this, m);
        return m;
    }

    private static void addComponents(Record r, Map<String, Object> m) {
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(r);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("option " + c.getName(), e);
            }
            if (v instanceof Record nested) {
                addComponents(nested, m);
            } else {
                m.put(optionName(c.getName()), manifestValue(c.getName(), v));
            }
        }
    }

    private static Object manifestValue(String name, Object v) {
        if (v instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        if (v instanceof List<?> l) {
            return String.join(",", l.stream().map(String::valueOf).toList());
        }
        if (name.equals("layers")) {
            return v == null ? "all" : Arrays.toString((int[]) v);
        }
        return v;
    }

    /** {@code topK} → {@code top-k}: the command-line name of a record component. */
    static String optionName(String component) {
        StringBuilder b = new StringBuilder();
        for (char ch : component.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                b.append('-').append(Character.toLowerCase(ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
