package io.hessianatlas.common.nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A start-up check that the native BLAS and LAPACK compute right on this CPU, run once per JVM by
 * {@link NativeRuntime} before any batch. OpenBLAS picks its kernels from the CPU when it loads, and
 * some releases have kernels that are wrong on some CPUs (0.3.19's SkylakeX TRMM/TRSM/SYMM, and so
 * LAPACK's dsyev vectors from n = 130; its Cooperlake GEMM once M spans two 192-row blocks), silently.
 *
 * <p>Each check runs one routine the engine relies on, through the same entry point the engine uses,
 * and compares it with a plain-Java reference:
 * <ul>
 *   <li>GEMM ({@code Nd4j.gemm}) in all four transpose combinations, float64 and float32, on
 *   {@code (261 x 5)·(5 x 9)} (M crosses the 192- and 256-row blocks) and {@code (5 x 517)·(517 x 9)}
 *   (K crosses the 256/384/512 depth blocks), plus row-major operands and {@code INDArray.mmul};</li>
 *   <li>SYRK {@code C = X Xᵀ}, X {@code (200 x 5)} (n crosses the 192 block), both transposes, float64
 *   and float32;</li>
 *   <li>TRMM on a {@code (37 x 9)} B, all eight side/uplo/trans variants ({@code (37 x 37)} and
 *   {@code (9 x 9)} triangles);</li>
 *   <li>dsyev on a {@code (160 x 160)} matrix built with a known spectrum, with and without vectors.</li>
 * </ul>
 * The error of a product is normalised by its normwise rounding bound: {@code max|C − C_ref| /
 * (k · max|A| · max|B|)}, which is at most about u (the unit roundoff) for a correct kernel and
 * of order 1/√k for a wrong one. For dsyev: eigenvalue error and residual {@code |A V − V Λ|} over
 * {@code n · ‖A‖}, orthogonality {@code max|VᵀV − I|} over n (both applied to {@value #PROBES} random
 * vectors, O(n²)). Each must stay within
 * {@link #ALLOWED_ROUNDOFFS} units of roundoff.
 *
 * <p>The failure path can be exercised with the system property {@value #PERTURB_PROPERTY} = a
 * routine prefix (e.g. {@code dsyev}): the first matching check's reference is changed by 1 before
 * the same comparison runs.
 */
public final class BlasSelfCheck {
    /** System property naming a routine whose reference is perturbed (to see the failure path). */
    public static final String PERTURB_PROPERTY = "hessianatlas.blas.selfcheck.perturb";

    /**
     * Allowed normalised error in units of the precision's roundoff. Measured on correct kernels
     * (OpenBLAS 0.3.31, Haswell, SkylakeX and Cooperlake): at most about 1 unit; wrong kernels give
     * 10^11 units and more (float64).
     */
    static final double ALLOWED_ROUNDOFFS = 64;
    static final double ROUNDOFF64 = 0x1p-53;
    static final double ROUNDOFF32 = 0x1p-24;

    /** {m, n, k}: M across the 192- and 256-row blocks; K across the 256/384/512 depth blocks. */
    static final int[][] GEMM_SHAPES = {{261, 9, 5}, {5, 9, 517}};
    static final int SYRK_N = 200;
    static final int SYRK_K = 5;
    static final int TRMM_M = 37;
    static final int TRMM_N = 9;
    static final int SYEV_N = 160;
    /** Random probes of the dsyev orthogonality and residual checks. */
    static final int PROBES = 2;

    /** One comparison: what it checked and its normalised error in units of roundoff. */
    public record Check(String label, double roundoffs) {
    }

    /** What ran: the checks in order, and how long they took. */
    public record Outcome(List<Check> checks, double millis) {
        /** The largest error of any check, in units of roundoff. */
        public double worstRoundoffs() {
            double worst = 0;
            for (Check c : checks) {
                worst = Math.max(worst, c.roundoffs());
            }
            return worst;
        }
    }

    private final String perturb;
    private boolean perturbed;
    private final List<Check> checks = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(20261130L);

    private BlasSelfCheck(String perturb) {
        this.perturb = perturb == null || perturb.isBlank() ? null : perturb.trim().toLowerCase(Locale.ROOT);
    }

    /** Runs every check, perturbing the routine named by {@value #PERTURB_PROPERTY} if set. */
    public static Outcome run() {
        return run(System.getProperty(PERTURB_PROPERTY));
    }

    /**
     * Runs every check (ND4J must be initialised).
     *
     * @param perturb a routine prefix whose first check gets a wrong reference, or null
     * @throws BlasSelfCheckException on the first check whose error exceeds its allowance
     */
    public static Outcome run(String perturb) {
        BlasSelfCheck check = new BlasSelfCheck(perturb);
        long t0 = System.nanoTime();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            check.gemm(DataType.DOUBLE);
            check.gemm(DataType.FLOAT);
            if (OpenBlas.available()) {
                check.syrk();
                check.trmm();
            }
            check.syev();
        }
        return new Outcome(List.copyOf(check.checks), (System.nanoTime() - t0) / 1e6);
    }

    // ---- GEMM ----

    private void gemm(DataType type) {
        String name = type == DataType.DOUBLE ? "dgemm" : "sgemm";
        for (int[] s : GEMM_SHAPES) {
            for (int combo = 0; combo < 4; combo++) {
                boolean ta = (combo & 2) != 0;
                boolean tb = (combo & 1) != 0;
                gemmCase(label(name, " ", ta ? "T" : "N", tb ? "T" : "N", " ", shape(s)),
                        type, s[0], s[1], s[2], ta, tb, 'f', false);
            }
        }
        int[] s = GEMM_SHAPES[0];
        gemmCase(label(name, " NN ", shape(s), " row-major"), type, s[0], s[1], s[2], false, false,
                'c', false);
        if (type == DataType.DOUBLE) {
            gemmCase(label("dgemm via INDArray.mmul ", shape(s)), type, s[0], s[1], s[2], false, false,
                    'c', true);
        }
    }

    /**
     * C (m x n) = op(A) op(B), op(A) (m x k), op(B) (k x n); A stored (k x m) when transposed. The
     * arrays are made in the type and order wanted straight from Java arrays (no ND4J copy ops: each
     * costs a native call, and the check should not be slower than it needs to be).
     */
    private void gemmCase(String label, DataType type, int m, int n, int k, boolean ta, boolean tb, char order,
                          boolean viaMmul) {
        int aRows = ta ? k : m;
        int aCols = ta ? m : k;
        int bRows = tb ? n : k;
        int bCols = tb ? k : n;
        double[] a = values(aRows * aCols, type);   // row-major
        double[] b = values(bRows * bCols, type);
        INDArray na = array(a, aRows, aCols, type, order);
        INDArray nb = array(b, bRows, bCols, type, order);
        INDArray nc;
        if (viaMmul) {
            nc = na.mmul(nb);
        } else {
            nc = Nd4j.create(type, new long[] {m, n}, order);
            Nd4j.gemm(na, nb, nc, ta, tb, 1.0, 0.0);
        }
        double[] got = rowMajor(nc, m, n);
        double[] ref = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                double aip = ta ? a[p * aCols + i] : a[i * aCols + p];
                for (int j = 0; j < n; j++) {
                    ref[i * n + j] += aip * (tb ? b[j * bCols + p] : b[p * bCols + j]);
                }
            }
        }
        compareProduct(label, got, ref, k * maxAbs(a) * maxAbs(b), type);
    }

    /** An ND4J (rows x cols) array of the row-major values, in the given type and order. */
    private static INDArray array(double[] rowMajor, int rows, int cols, DataType type, char order) {
        double[] data = rowMajor;
        if (order == 'f') {
            data = new double[rowMajor.length];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    data[j * rows + i] = rowMajor[i * cols + j];
                }
            }
        }
        long[] shape = {rows, cols};
        if (type == DataType.FLOAT) {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) data[i];
            }
            return Nd4j.create(f, shape, order);
        }
        return Nd4j.create(data, shape, order);
    }

    /** The values of an (m x n) array in row-major order, read from its buffer in its own order. */
    private static double[] rowMajor(INDArray x, int m, int n) {
        if (!HostBuffers.isPacked(x)) {
            x = x.dup('c');
        }
        double[] mem = x.data().asDouble();
        if (x.ordering() == 'c') {
            return mem;
        }
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                out[i * n + j] = mem[j * m + i];
            }
        }
        return out;
    }

    // ---- SYRK ----

    private void syrk() {
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            for (boolean trans : new boolean[] {false, true}) {
                int n = SYRK_N;
                int k = SYRK_K;
                // column-major X: (n x k) with lda = n, or its transpose (k x n) with lda = k
                double[] x = values(n * k, type);   // x[col * rows + row] of the stored matrix
                String label = label(type == DataType.DOUBLE ? "dsyrk " : "ssyrk ", trans ? "T " : "N ", shape(n, k));
                double[] got = new double[n * n];
                int lda = trans ? k : n;
                int op = trans ? OpenBlas.TRANS : OpenBlas.NO_TRANS;
                if (type == DataType.DOUBLE) {
                    try (DoublePointer xp = new DoublePointer(x); DoublePointer cp = new DoublePointer(new double[n * n])) {
                        OpenBlas.dsyrk(OpenBlas.UPPER, op, n, k, 1.0, xp, lda, 0.0, cp, n);
                        cp.get(got);
                    }
                } else {
                    float[] xf = new float[x.length];
                    for (int i = 0; i < x.length; i++) {
                        xf[i] = (float) x[i];
                    }
                    float[] gf = new float[n * n];
                    try (FloatPointer xp = new FloatPointer(xf); FloatPointer cp = new FloatPointer(new float[n * n])) {
                        OpenBlas.ssyrk(OpenBlas.UPPER, op, n, k, 1.0f, xp, lda, 0.0f, cp, n);
                        cp.get(gf);
                    }
                    for (int i = 0; i < gf.length; i++) {
                        got[i] = gf[i];
                    }
                }
                // the upper triangle (column-major: row i <= column j) is defined; compare it alone
                double[] gotUpper = new double[n * (n + 1) / 2];
                double[] refUpper = new double[gotUpper.length];
                int idx = 0;
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i <= j; i++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            s += xAt(x, i, p, n, k, trans) * xAt(x, j, p, n, k, trans);
                        }
                        refUpper[idx] = s;
                        gotUpper[idx++] = got[j * n + i];
                    }
                }
                double mx = maxAbs(x);
                compareProduct(label, gotUpper, refUpper, k * mx * mx, type);
            }
        }
    }

    /** Element (i, p) of the (n x k) operand X of a syrk, stored column-major as X or as Xᵀ. */
    private static double xAt(double[] x, int i, int p, int n, int k, boolean trans) {
        return trans ? x[i * k + p] : x[p * n + i];
    }

    // ---- TRMM ----

    private void trmm() {
        int m = TRMM_M;
        int n = TRMM_N;
        for (boolean left : new boolean[] {true, false}) {
            for (boolean upper : new boolean[] {true, false}) {
                for (boolean trans : new boolean[] {false, true}) {
                    int ka = left ? m : n;
                    double[] a = values(ka * ka, DataType.DOUBLE);   // column-major; the other triangle is noise
                    double[] b = values(m * n, DataType.DOUBLE);     // column-major (m x n)
                    String label = label("dtrmm ", left ? "L," : "R,", upper ? "U," : "L,", trans ? "T " : "N ",
                            shape(m, n));
                    double[] got = new double[m * n];
                    try (DoublePointer ap = new DoublePointer(a); DoublePointer bp = new DoublePointer(b)) {
                        OpenBlas.dtrmm(left ? OpenBlas.LEFT : OpenBlas.RIGHT, upper ? OpenBlas.UPPER : OpenBlas.LOWER,
                                trans ? OpenBlas.TRANS : OpenBlas.NO_TRANS, OpenBlas.NON_UNIT, m, n, 1.0, ap, ka, bp, m);
                        bp.get(got);
                    }
                    double[] ref = new double[m * n];
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double s = 0;
                            for (int p = 0; p < ka; p++) {
                                s += left ? tri(a, ka, i, p, upper, trans) * b[j * m + p]
                                        : b[p * m + i] * tri(a, ka, p, j, upper, trans);
                            }
                            ref[j * m + i] = s;
                        }
                    }
                    compareProduct(label, got, ref, ka * maxAbs(a) * maxAbs(b), DataType.DOUBLE);
                }
            }
        }
    }

    /** Element (r, c) of op(T), T the upper or lower triangle of the column-major (k x k) a. */
    private static double tri(double[] a, int k, int r, int c, boolean upper, boolean trans) {
        int row = trans ? c : r;
        int col = trans ? r : c;
        boolean inside = upper ? row <= col : row >= col;
        return inside ? a[col * k + row] : 0.0;
    }

    // ---- dsyev ----

    private void syev() {
        int n = SYEV_N;
        double[] lambda = new double[n];                 // ascending, well separated, both signs
        for (int i = 0; i < n; i++) {
            lambda[i] = -3.0 + 10.0 * i / (n - 1);
        }
        double norm = 7.0;
        double[] a = new double[n * n];                   // A = H2 H1 diag(λ) H1 H2, dense and symmetric
        for (int i = 0; i < n; i++) {
            a[i * n + i] = lambda[i];
        }
        for (int r = 0; r < 2; r++) {
            reflect(a, n, values(n, DataType.DOUBLE));
        }

        // eigenvalues and vectors, as DenseSymmetricSpectrum calls it: in place on an 'f' copy
        INDArray withVectors = Nd4j.create(a.clone(), new long[] {n, n}, 'f');
        double[] values = Eigen.symmetricGeneralizedEigenvalues(withVectors, true).toDoubleVector();
        double[] v = (HostBuffers.isPacked(withVectors) && withVectors.ordering() == 'f' ? withVectors
                : withVectors.dup('f')).data().asDouble();             // column c is eigenvector c
        String label = label("dsyev ", shape(n, n), " with eigenvectors");
        double[] expected = perturbIfNamed(label, lambda.clone());
        check(label(label, " (eigenvalues)"), maxDiff(values, expected) / (n * norm), DataType.DOUBLE);
        // VᵀV − I and A V − V Λ applied to random probes x: O(n²) instead of O(n³), and a wrong V
        // (an entry of VᵀV − I of order 1) shows in |(VᵀV − I) x| whatever the probe
        double orth = 0;
        double resid = 0;
        for (int probe = 0; probe < PROBES; probe++) {
            double[] x = values(n, DataType.DOUBLE);
            double[] vx = columnMajorTimes(v, n, x, false);                 // V x
            double[] vtvx = columnMajorTimes(v, n, vx, true);               // Vᵀ V x
            double[] lx = new double[n];
            for (int i = 0; i < n; i++) {
                orth = Math.max(orth, Math.abs(vtvx[i] - x[i]));
                lx[i] = values[i] * x[i];
            }
            double[] vlx = columnMajorTimes(v, n, lx, false);               // V Λ x
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int p = 0; p < n; p++) {
                    s += a[i * n + p] * vx[p];                               // A V x
                }
                resid = Math.max(resid, Math.abs(s - vlx[i]));
            }
        }
        check(label(label, " (orthogonality |(VᵀV − I) x|)"), orth / n, DataType.DOUBLE);
        check(label(label, " (residual |(AV − VΛ) x|)"), resid / (n * norm), DataType.DOUBLE);

        // eigenvalues only (jobz = 'N'), as DenseSymmetricSpectrum calls it
        INDArray valuesOnly = Nd4j.create(a.clone(), new long[] {n, n}, 'f');
        INDArray ev = Nd4j.create(DataType.DOUBLE, n);
        int info = Nd4j.getBlasWrapper().lapack().syev('N', 'L', valuesOnly, ev);
        String label2 = label("dsyev ", shape(n, n), " eigenvalues only");
        check(label(label2, " (info = ", Integer.toString(info), ")"), info == 0 ? 0.0 : Double.POSITIVE_INFINITY, DataType.DOUBLE);
        check(label2, maxDiff(ev.toDoubleVector(), perturbIfNamed(label2, lambda.clone())) / (n * norm),
                DataType.DOUBLE);
    }

    /** V x or Vᵀ x for the column-major (n x n) V. */
    private static double[] columnMajorTimes(double[] v, int n, double[] x, boolean transpose) {
        double[] y = new double[n];
        for (int c = 0; c < n; c++) {
            if (transpose) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += v[c * n + i] * x[i];
                }
                y[c] = s;
            } else {
                double xc = x[c];
                for (int i = 0; i < n; i++) {
                    y[i] += v[c * n + i] * xc;
                }
            }
        }
        return y;
    }

    /** a := H a H for the symmetric row-major (n x n) a and H = I − 2 v vᵀ / vᵀv. */
    private static void reflect(double[] a, int n, double[] v) {
        double vv = 0;
        for (double x : v) {
            vv += x * x;
        }
        // with u = a v and β = 2 / vᵀv: H a H = a − β (u vᵀ + v uᵀ) + β² (vᵀu) v vᵀ
        double[] u = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += a[i * n + j] * v[j];
            }
            u[i] = s;
        }
        double vu = 0;
        for (int i = 0; i < n; i++) {
            vu += v[i] * u[i];
        }
        double beta = 2.0 / vv;
        double c2 = beta * beta * vu;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                a[i * n + j] += -beta * (u[i] * v[j] + v[i] * u[j]) + c2 * v[i] * v[j];
            }
        }
        // exact symmetry (the two halves round alike, but make sure)
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                a[j * n + i] = a[i * n + j];
            }
        }
    }

    // ---- comparison ----

    private void compareProduct(String label, double[] got, double[] ref, double scale, DataType type) {
        perturbIfNamed(label, ref);
        check(label, scale == 0 ? maxDiff(got, ref) : maxDiff(got, ref) / scale, type);
    }

    /** Fails when the normalised error is above the allowance (or not a number). */
    private void check(String label, double normalisedError, DataType type) {
        double roundoff = type == DataType.DOUBLE ? ROUNDOFF64 : ROUNDOFF32;
        checks.add(new Check(label, normalisedError / roundoff));
        double allowed = ALLOWED_ROUNDOFFS * roundoff;
        if (!(normalisedError <= allowed)) {
            throw failure(label, normalisedError, allowed);
        }
    }

    private double[] perturbIfNamed(String label, double[] reference) {
        if (perturb != null && !perturbed && label.toLowerCase(Locale.ROOT).startsWith(perturb)) {
            perturbed = true;
            reference[0] += 1.0;
        }
        return reference;
    }

    static BlasSelfCheckException failure(String label, double error, double allowed) {
        NativeEnvironment env;
        try {
            env = NativeEnvironment.current();
        } catch (RuntimeException | LinkageError e) {
            env = null;
        }
        String routine = label.contains(" (") ? label.substring(0, label.indexOf(" (")) : label;
        StringBuilder msg = new StringBuilder("native BLAS self-check failed: ").append(label)
                .append(String.format(Locale.ROOT, " is off by %.3g (normalised; allowed %.1e)", error, allowed))
                .append(" with ").append(env == null ? "an unidentified BLAS" : env.describe()).append(". ")
                .append(workaround(env));
        return new BlasSelfCheckException(routine, msg.toString());
    }

    /** What to do instead, for the core type in use and the build loaded. */
    static String workaround(NativeEnvironment env) {
        String core = env == null ? null : env.coreType();
        String requested = env == null ? null : env.requestedCoreType();
        String fallback = OpenBlasCoreType.HASWELL.openBlasName();
        String target = core != null && core.equalsIgnoreCase(fallback) ? "Sandybridge" : fallback;
        StringBuilder b = new StringBuilder("Workaround: ");
        if (requested != null && requested.isBlank()) {
            b.append("unset the empty OPENBLAS_CORETYPE, or ");
        }
        b.append("set OPENBLAS_CORETYPE=").append(target)
                .append(" for the driver and the executors (spark.executorEnv.OPENBLAS_CORETYPE=").append(target).append(')');
        String pinned = OpenBlas.pinnedBuild();
        if (pinned != null && (env == null || !pinned.equals(env.blasBuild()))) {
            b.append(", or put ").append(pinned).append(" (the build this release pins) first on the classpath");
        }
        return b.toString();
    }

    // ---- labels: built without string concatenation, whose first use in a JVM links an
    // invokedynamic call site per expression (measured: ~18 ms of a ~70 ms first run) ----

    private static String label(String... parts) {
        StringBuilder b = new StringBuilder();
        for (String p : parts) {
            b.append(p);
        }
        return b.toString();
    }

    private static String shape(int... dims) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                b.append('x');
            }
            b.append(dims[i]);
        }
        return b.toString();
    }

    // ---- data ----

    /** Uniform values in [-1, 1), rounded to float when the check runs in float32 (both sides see them). */
    private double[] values(int count, DataType type) {
        double[] x = new double[count];
        for (int i = 0; i < count; i++) {
            double v = random.nextDouble(-1.0, 1.0);
            x[i] = type == DataType.FLOAT ? (float) v : v;
        }
        return x;
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** max |x − y|; NaN in either gives NaN, so the check fails. */
    private static double maxDiff(double[] x, double[] y) {
        if (x.length != y.length) {
            return Double.POSITIVE_INFINITY;
        }
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            double d = Math.abs(x[i] - y[i]);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            m = Math.max(m, d);
        }
        return m;
    }
}
