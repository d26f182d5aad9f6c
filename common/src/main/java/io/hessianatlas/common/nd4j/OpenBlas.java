package io.hessianatlas.common.nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.jna.NativeLibrary;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;

/**
 * The OpenBLAS that nd4j-native loaded, seen two ways:
 * <ul>
 *   <li>the cblas routines the engine calls itself ({@code ?syrk}; {@code dtrmm} for the self-check),
 *   through the bytedeco preset's {@code org.bytedeco.openblas.global.openblas}, looked up at run time
 *   because other ND4J backends do not ship it;</li>
 *   <li>what the library says about itself ({@code openblas_get_config}, {@code _corename},
 *   {@code _num_threads}, {@code _parallel}), which the preset does not map: called through JNA on
 *   the library files the preset loaded.</li>
 * </ul>
 * The preset loads the library twice, as two files with the same content: {@code openblas_nolapack}
 * (ND4J's BLAS calls, GEMM among them; the copy whose thread count {@link NativeRuntime} sets) and
 * {@code openblas} (ND4J's LAPACK calls such as {@code dsyev}, and the calls made here). Each copy
 * picks its kernels when it loads, from the same CPU and {@code OPENBLAS_CORETYPE}.
 */
public final class OpenBlas {
    /** CBLAS enum values (cblas.h). */
    public static final int COL_MAJOR = 102;
    public static final int NO_TRANS = 111;
    public static final int TRANS = 112;
    public static final int UPPER = 121;
    public static final int LOWER = 122;
    public static final int NON_UNIT = 131;
    public static final int LEFT = 141;
    public static final int RIGHT = 142;

    private static final Pattern VERSION = Pattern.compile("OpenBLAS\\s+(\\d+\\.\\d+\\.\\d+\\S*)");

    private static final MethodHandle DSYRK;
    private static final MethodHandle SSYRK;
    private static final MethodHandle DTRMM;

    static {
        MethodHandle d = null;
        MethodHandle s = null;
        MethodHandle t = null;
        try {
            Class<?> blas = Class.forName("org.bytedeco.openblas.global.openblas");
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            d = lookup.findStatic(blas, "cblas_dsyrk", MethodType.methodType(void.class, int.class, int.class, int.class,
                    int.class, int.class, double.class, DoublePointer.class, int.class, double.class, DoublePointer.class,
                    int.class));
            s = lookup.findStatic(blas, "cblas_ssyrk", MethodType.methodType(void.class, int.class, int.class, int.class,
                    int.class, int.class, float.class, FloatPointer.class, int.class, float.class, FloatPointer.class,
                    int.class));
            t = lookup.findStatic(blas, "cblas_dtrmm", MethodType.methodType(void.class, int.class, int.class, int.class,
                    int.class, int.class, int.class, int.class, double.class, DoublePointer.class, int.class,
                    DoublePointer.class, int.class));
        } catch (ReflectiveOperationException | LinkageError e) {
            d = null;
            s = null;
            t = null;
        }
        DSYRK = d;
        SSYRK = s;
        DTRMM = t;
    }

    private OpenBlas() {
    }

    /** Whether the bytedeco OpenBLAS preset is on the classpath (the CPU backend ships it). */
    public static boolean available() {
        return DSYRK != null;
    }

    /** {@code cblas_dsyrk(ColMajor, uplo, trans, n, k, alpha, A, lda, beta, C, ldc)}. */
    public static void dsyrk(int uplo, int trans, int n, int k, double alpha, DoublePointer a, int lda, double beta,
                             DoublePointer c, int ldc) {
        require(DSYRK, "cblas_dsyrk");
        try {
            DSYRK.invokeExact(COL_MAJOR, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_dsyrk failed", t);
        }
    }

    /** {@code cblas_ssyrk(ColMajor, uplo, trans, n, k, alpha, A, lda, beta, C, ldc)}. */
    public static void ssyrk(int uplo, int trans, int n, int k, float alpha, FloatPointer a, int lda, float beta,
                             FloatPointer c, int ldc) {
        require(SSYRK, "cblas_ssyrk");
        try {
            SSYRK.invokeExact(COL_MAJOR, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_ssyrk failed", t);
        }
    }

    /** {@code cblas_dtrmm(ColMajor, side, uplo, transA, diag, m, n, alpha, A, lda, B, ldb)}: B = alpha op(A) B or alpha B op(A). */
    public static void dtrmm(int side, int uplo, int trans, int diag, int m, int n, double alpha, DoublePointer a,
                             int lda, DoublePointer b, int ldb) {
        require(DTRMM, "cblas_dtrmm");
        try {
            DTRMM.invokeExact(COL_MAJOR, side, uplo, trans, diag, m, n, alpha, a, lda, b, ldb);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_dtrmm failed", t);
        }
    }

    private static void require(MethodHandle h, String name) {
        if (h == null) {
            throw new IllegalStateException(name + ": the bytedeco OpenBLAS preset is not on the classpath");
        }
    }

    /**
     * One loaded copy of the library, as it describes itself.
     *
     * @param name     the preset's name for the copy: {@code openblas_nolapack} or {@code openblas}
     * @param config   {@code openblas_get_config()}, e.g. "OpenBLAS 0.3.31 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"
     * @param coreType {@code openblas_get_corename()}: the kernel set in use, e.g. "SkylakeX"
     * @param threads  {@code openblas_get_num_threads()}
     * @param parallel {@code openblas_get_parallel()}: "sequential", "pthreads" or "openmp"
     */
    public record LoadedCopy(String name, String config, String coreType, int threads, String parallel)
            implements Serializable {
        /** The version from the config string ("0.3.31"), or null. */
        public String version() {
            Matcher m = VERSION.matcher(config == null ? "" : config);
            return m.find() ? m.group(1) : null;
        }
    }

    /**
     * Every loaded OpenBLAS copy, nd4j's BLAS copy ({@code openblas_nolapack}) first. Empty when the
     * preset is absent or JNA cannot open the files (then the BLAS still works; only its
     * description is missing).
     */
    public static List<LoadedCopy> loadedCopies() {
        List<LoadedCopy> copies = new ArrayList<>();
        Map<String, String> libs;
        try {
            libs = Loader.getLoadedLibraries();
        } catch (LinkageError e) {
            return copies;
        }
        for (String name : List.of("openblas_nolapack", "openblas")) {
            String path = null;
            for (Map.Entry<String, String> e : libs.entrySet()) {
                // javacpp's keys are "name@.soversion" for preloaded libraries
                String key = e.getKey();
                int at = key.indexOf('@');
                if ((at < 0 ? key : key.substring(0, at)).equals(name) && e.getValue() != null) {
                    path = e.getValue();
                }
            }
            if (path != null) {
                copies.add(describe(name, path));
            }
        }
        return copies;
    }

    private static LoadedCopy describe(String name, String path) {
        try {
            NativeLibrary lib = NativeLibrary.getInstance(path);
            String config = lib.getFunction("openblas_get_config").invokeString(new Object[0], false);
            String core = lib.getFunction("openblas_get_corename").invokeString(new Object[0], false);
            int threads = lib.getFunction("openblas_get_num_threads").invokeInt(new Object[0]);
            int parallel = lib.getFunction("openblas_get_parallel").invokeInt(new Object[0]);
            String mode = switch (parallel) {
                case 0 -> "sequential";
                case 1 -> "pthreads";
                case 2 -> "openmp";
                default -> "unknown(" + parallel + ")";
            };
            return new LoadedCopy(name, config == null ? null : config.trim(), core, threads, mode);
        } catch (RuntimeException | LinkageError e) {
            return new LoadedCopy(name, null, null, -1, "unknown (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The bytedeco artifact version of the preset ("0.3.31-1.5.13"), or null. */
    public static String presetVersion() {
        try {
            return Loader.getVersion("org.bytedeco", "openblas");
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** The OpenBLAS artifact the build pins, e.g. "org.bytedeco:openblas:0.3.31-1.5.13" (null: unknown). */
    public static String pinnedBuild() {
        Properties p = new Properties();
        try (InputStream in = OpenBlas.class.getResourceAsStream("/hessian-atlas-native.properties")) {
            if (in == null) {
                return null;
            }
            p.load(in);
        } catch (IOException e) {
            return null;
        }
        String v = p.getProperty("openblas.version");
        return v == null || v.startsWith("$") ? null : "org.bytedeco:openblas:" + v;
    }
}
