package io.hessianatlas.jobs.analyze.api;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.hessianatlas.common.hessian.CurvatureMode;
import io.hessianatlas.common.hessian.Precision;

/**
 * The validated, immutable options of one `analyze` run. Built by {@link Builder#build()}, which
 * checks every value before any Spark work and throws {@link IllegalArgumentException} naming the
 * option and what was expected.
 */
public final class AnalyzeOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String model;
    private final String data;
    private final InputFormat format;
    private final List<String> featuresCols;
    private final String labelCol;
    private final String idCol;
    private final String out;
    private final boolean overwrite;
    private final String master;
    private final CurvatureMode mode;
    private final Precision precision;
    private final SpectrumMethod spectrum;
    private final int topK;
    private final int batchSize;
    private final long denseBudgetMb;
    private final int[] layers;
    private final boolean empiricalFisher;
    private final double sampleFraction;
    private final long seed;
    private final int partitions;
    private final boolean network;
    private final boolean density;
    private final int densityProbes;
    private final int densitySteps;
    private final int densityGrid;
    private final double densityWidth;
    private final double lanczosTolerance;
    private final int lanczosMaxPasses;
    private final int lanczosBlock;
    private final int eigenvectors;
    private final int networkTopK;
    private final boolean skipInvalidRows;

    private AnalyzeOptions(Builder b) {
        this.model = b.model;
        this.data = b.data;
        this.format = b.format;
        this.featuresCols = List.copyOf(b.featuresCols);
        this.labelCol = b.labelCol;
        this.idCol = b.idCol;
        this.out = b.out;
        this.overwrite = b.overwrite;
        this.master = b.master;
        this.mode = b.mode;
        this.precision = b.precision;
        this.spectrum = b.spectrum;
        this.topK = b.topK;
        this.batchSize = b.batchSize;
        this.denseBudgetMb = b.denseBudgetMb;
        this.layers = b.layers == null ? null : b.layers.clone();
        this.empiricalFisher = b.empiricalFisher;
        this.sampleFraction = b.sampleFraction;
        this.seed = b.seed;
        this.partitions = b.partitions;
        this.network = b.network;
        this.density = b.density;
        this.densityProbes = b.densityProbes;
        this.densitySteps = b.densitySteps;
        this.densityGrid = b.densityGrid;
        this.densityWidth = b.densityWidth;
        this.lanczosTolerance = b.lanczosTolerance;
        this.lanczosMaxPasses = b.lanczosMaxPasses;
        this.lanczosBlock = b.lanczosBlock;
        this.eigenvectors = b.eigenvectors;
        this.networkTopK = b.networkTopK;
        this.skipInvalidRows = b.skipInvalidRows;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String model() {
        return model;
    }

    public String data() {
        return data;
    }

    /** The concrete input format (AUTO already resolved from the path). */
    public InputFormat format() {
        return format.resolve(data);
    }

    /** One column (vector or array) or, for csv, several numeric columns. */
    public List<String> featuresCols() {
        return featuresCols;
    }

    public String labelCol() {
        return labelCol;
    }

    /** The id column, or null for a stable row index. */
    public String idCol() {
        return idCol;
    }

    public String out() {
        return out;
    }

    public boolean overwrite() {
        return overwrite;
    }

    public String master() {
        return master;
    }

    public CurvatureMode mode() {
        return mode;
    }

    /** Floating-point type of the per-sample pass (sums, spectra and matrix-free products stay float64). */
    public Precision precision() {
        return precision;
    }

    public SpectrumMethod spectrum() {
        return spectrum;
    }

    public int topK() {
        return topK;
    }

    public int batchSize() {
        return batchSize;
    }

    public long denseBudgetBytes() {
        return denseBudgetMb * 1024L * 1024L;
    }

    public long denseBudgetMb() {
        return denseBudgetMb;
    }

    /** 1-based layers to analyse, or null for all. */
    public int[] layers() {
        return layers == null ? null : layers.clone();
    }

    public boolean empiricalFisher() {
        return empiricalFisher;
    }

    public double sampleFraction() {
        return sampleFraction;
    }

    public long seed() {
        return seed;
    }

    /** Partitions of the per-sample pass; 0 keeps the source's partitioning. */
    public int partitions() {
        return partitions;
    }

    /** Whole-network curvature as layer 0 (--network). */
    public boolean network() {
        return network;
    }

    /** Spectral densities by SLQ (--density). */
    public boolean density() {
        return density;
    }

    /** Rademacher probes of SLQ. */
    public int densityProbes() {
        return densityProbes;
    }

    /** Lanczos steps per SLQ probe. */
    public int densitySteps() {
        return densitySteps;
    }

    /** Grid points of each density. */
    public int densityGrid() {
        return densityGrid;
    }

    /** Gaussian broadening σ relative to the span of the Ritz values. */
    public double densityWidth() {
        return densityWidth;
    }

    /** Relative residual tolerance of Lanczos Ritz pairs. */
    public double lanczosTolerance() {
        return lanczosTolerance;
    }

    /** At most this many Lanczos passes per matrix. */
    public int lanczosMaxPasses() {
        return lanczosMaxPasses;
    }

    /** Vectors per Lanczos pass (0 = top-k). */
    public int lanczosBlock() {
        return lanczosBlock;
    }

    /** Leading eigenvectors written per layer (0 = none). */
    public int eigenvectors() {
        return eigenvectors;
    }

    /** Eigenvalues of the whole network from each end (0 = --top-k). */
    public int networkTopK() {
        return networkTopK > 0 ? networkTopK : topK;
    }

    /** --on-invalid-row skip: drop invalid rows (counted in run.json) instead of failing. */
    public boolean skipInvalidRows() {
        return skipInvalidRows;
    }

    /** The options as written to run.json, with the option names of the command line. */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("data", data);
        m.put("format", format().sourceName());
        m.put("features-col", String.join(",", featuresCols));
        m.put("label-col", labelCol);
        m.put("id-col", idCol);
        m.put("out", out);
        m.put("overwrite", overwrite);
        m.put("master", master);
        m.put("mode", mode.optionName());
        m.put("precision", precision.optionName());
        m.put("spectrum", spectrum.optionName());
        m.put("top-k", topK);
        m.put("batch-size", batchSize);
        m.put("dense-budget-mb", denseBudgetMb);
        m.put("layers", layers == null ? "all" : Arrays.toString(layers));
        m.put("empirical-fisher", empiricalFisher);
        m.put("sample-fraction", sampleFraction);
        m.put("seed", seed);
        m.put("partitions", partitions);
        m.put("network", network);
        m.put("density", density);
        m.put("density-probes", densityProbes);
        m.put("density-steps", densitySteps);
        m.put("density-grid", densityGrid);
        m.put("density-width", densityWidth);
        m.put("lanczos-tol", lanczosTolerance);
        m.put("lanczos-max-passes", lanczosMaxPasses);
        m.put("lanczos-block", lanczosBlock);
        m.put("eigenvectors", eigenvectors);
        m.put("network-top-k", networkTopK());
        m.put("on-invalid-row", skipInvalidRows ? "skip" : "fail");
        return m;
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private String model;
        private String data;
        private InputFormat format = InputFormat.AUTO;
        private List<String> featuresCols = List.of("features");
        private String labelCol = "label";
        private String idCol;
        private String out;
        private boolean overwrite;
        private String master = "local[*]";
        private CurvatureMode mode = CurvatureMode.GGN;
        private Precision precision = Precision.FLOAT64;
        private SpectrumMethod spectrum = SpectrumMethod.AUTO;
        private int topK = 20;
        private int batchSize = 256;
        private long denseBudgetMb = 256;
        private int[] layers;
        private boolean empiricalFisher;
        private double sampleFraction = 1.0;
        private long seed = 42;
        private int partitions;
        private boolean network = false;
        private boolean density = false;
        private int densityProbes = 8;
        private int densitySteps = 40;
        private int densityGrid = 256;
        private double densityWidth = 0.01;
        private double lanczosTolerance = 1e-6;
        private int lanczosMaxPasses = 50;
        private int lanczosBlock = 0;
        private int eigenvectors = 0;
        private int networkTopK = 0;
        private boolean skipInvalidRows;

        public Builder model(String v) {
            this.model = v;
            return this;
        }

        public Builder data(String v) {
            this.data = v;
            return this;
        }

        public Builder format(InputFormat v) {
            this.format = v;
            return this;
        }

        public Builder featuresCols(List<String> v) {
            this.featuresCols = v;
            return this;
        }

        public Builder labelCol(String v) {
            this.labelCol = v;
            return this;
        }

        public Builder idCol(String v) {
            this.idCol = v == null || v.isBlank() ? null : v;
            return this;
        }

        public Builder out(String v) {
            this.out = v;
            return this;
        }

        public Builder overwrite(boolean v) {
            this.overwrite = v;
            return this;
        }

        public Builder master(String v) {
            this.master = v;
            return this;
        }

        public Builder mode(CurvatureMode v) {
            this.mode = v;
            return this;
        }

        public Builder precision(Precision v) {
            this.precision = v;
            return this;
        }

        public Builder spectrum(SpectrumMethod v) {
            this.spectrum = v;
            return this;
        }

        public Builder topK(int v) {
            this.topK = v;
            return this;
        }

        public Builder batchSize(int v) {
            this.batchSize = v;
            return this;
        }

        public Builder denseBudgetMb(long v) {
            this.denseBudgetMb = v;
            return this;
        }

        public Builder layers(int[] v) {
            this.layers = v;
            return this;
        }

        public Builder empiricalFisher(boolean v) {
            this.empiricalFisher = v;
            return this;
        }

        public Builder sampleFraction(double v) {
            this.sampleFraction = v;
            return this;
        }

        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        public Builder partitions(int v) {
            this.partitions = v;
            return this;
        }

        public Builder network(boolean v) {
            this.network = v;
            return this;
        }

        public Builder density(boolean v) {
            this.density = v;
            return this;
        }

        public Builder densityProbes(int v) {
            this.densityProbes = v;
            return this;
        }

        public Builder densitySteps(int v) {
            this.densitySteps = v;
            return this;
        }

        public Builder densityGrid(int v) {
            this.densityGrid = v;
            return this;
        }

        public Builder densityWidth(double v) {
            this.densityWidth = v;
            return this;
        }

        public Builder lanczosTolerance(double v) {
            this.lanczosTolerance = v;
            return this;
        }

        public Builder lanczosMaxPasses(int v) {
            this.lanczosMaxPasses = v;
            return this;
        }

        public Builder lanczosBlock(int v) {
            this.lanczosBlock = v;
            return this;
        }

        public Builder eigenvectors(int v) {
            this.eigenvectors = v;
            return this;
        }

        public Builder networkTopK(int v) {
            this.networkTopK = v;
            return this;
        }

        public Builder skipInvalidRows(boolean v) {
            this.skipInvalidRows = v;
            return this;
        }

        /** @throws IllegalArgumentException "--option: what was expected, got what" */
        public AnalyzeOptions build() {
            require(model != null && !model.isBlank(), "--model: a model directory is required");
            require(data != null && !data.isBlank(), "--data: an input path is required");
            require(out != null && !out.isBlank(), "--out: an output directory is required");
            require(featuresCols != null && !featuresCols.isEmpty()
                    && featuresCols.stream().noneMatch(c -> c == null || c.isBlank()),
                    "--features-col: expected a column name (or, for csv, a comma-separated list), got '"
                            + featuresCols + "'");
            require(labelCol != null && !labelCol.isBlank(), "--label-col: expected a column name");
            require(topK > 0, "--top-k: expected a positive integer, got " + topK);
            require(batchSize > 0, "--batch-size: expected a positive integer, got " + batchSize);
            require(denseBudgetMb >= 0, "--dense-budget-mb: expected a non-negative number of MiB, got " + denseBudgetMb);
            require(sampleFraction > 0 && sampleFraction <= 1 && !Double.isNaN(sampleFraction),
                    "--sample-fraction: expected a number in (0, 1], got " + sampleFraction);
            require(partitions >= 0, "--partitions: expected 0 (keep the source's) or a positive integer, got " + partitions);
            require(densityProbes > 0, "--density-probes: expected a positive integer, got " + densityProbes);
            require(densitySteps > 0, "--density-steps: expected a positive integer, got " + densitySteps);
            require(densityGrid >= 2, "--density-grid: expected at least 2 points, got " + densityGrid);
            require(densityWidth > 0 && Double.isFinite(densityWidth),
                    "--density-width: expected a positive number, got " + densityWidth);
            require(lanczosTolerance > 0 && lanczosTolerance < 1,
                    "--lanczos-tol: expected a number in (0, 1), got " + lanczosTolerance);
            require(lanczosMaxPasses > 0, "--lanczos-max-passes: expected a positive integer, got " + lanczosMaxPasses);
            require(lanczosBlock >= 0, "--lanczos-block: expected 0 (= top-k) or a positive integer, got " + lanczosBlock);
            require(networkTopK >= 0, "--network-top-k: expected 0 (= --top-k) or a positive integer, got " + networkTopK);
            require(eigenvectors >= 0, "--eigenvectors: expected 0 or a positive integer, got " + eigenvectors);
            require(master != null && !master.isBlank(), "--master: expected a Spark master URL such as local[*]");
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(precision, "precision");
            Objects.requireNonNull(spectrum, "spectrum");
            if (layers != null) {
                for (int l : layers) {
                    require(l >= 1, "--layers: expected 1-based layer numbers, got " + l);
                }
            }
            return new AnalyzeOptions(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
