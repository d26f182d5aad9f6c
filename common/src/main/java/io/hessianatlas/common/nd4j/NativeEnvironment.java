package io.hessianatlas.common.nd4j;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.factory.Nd4j;

/**
 * What computes a JVM's results: the ND4J backend, the native BLAS (library, version, build, the core
 * type OpenBLAS chose and the one requested), thread counts, and the CPU. Recorded in run.json for the
 * driver and for each distinct executor configuration; equal records mean equal configurations.
 *
 * @param backend           ND4J backend class, e.g. "CpuBackend"
 * @param blasVersion       OpenBLAS version from {@code openblas_get_config}, e.g. "0.3.31" (null: unknown)
 * @param blasBuild         the bytedeco artifact, e.g. "org.bytedeco:openblas:0.3.31-1.5.13" (null: unknown)
 * @param coreType          the kernel set ND4J's BLAS copy uses, from {@code openblas_get_corename}
 * @param requestedCoreType {@code OPENBLAS_CORETYPE} as set in this JVM's environment (null: unset)
 * @param blasCopies        every loaded OpenBLAS copy as it describes itself (see {@link OpenBlas})
 * @param nd4jThreads       libnd4j's OpenMP threads ({@code Environment.maxThreads})
 * @param nd4jMasterThreads libnd4j's master threads ({@code Environment.maxMasterThreads})
 * @param ompNumThreads     {@code OMP_NUM_THREADS} as set (null: unset)
 * @param cpuModel          /proc/cpuinfo model name
 * @param cpuFlags          which of {@link CpuInfo#KERNEL_FLAGS} the CPU has
 * @param cores             processors this JVM may use
 */
public record NativeEnvironment(String backend, String blasVersion, String blasBuild, String coreType,
                                String requestedCoreType, List<OpenBlas.LoadedCopy> blasCopies, int nd4jThreads,
                                int nd4jMasterThreads, String ompNumThreads, String cpuModel, List<String> cpuFlags,
                                int cores) implements Serializable {
    public static final String CORETYPE_VARIABLE = "OPENBLAS_CORETYPE";

    public NativeEnvironment {
        blasCopies = List.copyOf(blasCopies);
        cpuFlags = List.copyOf(cpuFlags);
    }

    /** This JVM's environment, as it is now (ND4J must be initialised). */
    public static NativeEnvironment current() {
        List<OpenBlas.LoadedCopy> copies = OpenBlas.loadedCopies();
        String version = null;
        String core = null;
        if (!copies.isEmpty()) {
            version = copies.get(0).version();
            core = copies.get(0).coreType();
        }
        String preset = OpenBlas.presetVersion();
        CpuInfo cpu = CpuInfo.current();
        return new NativeEnvironment(Nd4j.getBackend().getClass().getSimpleName(), version,
                preset == null ? null : "org.bytedeco:openblas:" + preset, core, System.getenv(CORETYPE_VARIABLE),
                copies, Nd4j.getEnvironment().maxThreads(), Nd4j.getEnvironment().maxMasterThreads(),
                System.getenv("OMP_NUM_THREADS"), cpu.model(), cpu.kernelFlags(), Runtime.getRuntime().availableProcessors());
    }

    /**
     * One line for messages: "OpenBLAS 0.3.31 (org.bytedeco:openblas:0.3.31-1.5.13), core type SkylakeX
     * (OPENBLAS_CORETYPE unset) on Intel(R) Xeon(R) ...".
     */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append("OpenBLAS ").append(blasVersion == null ? "(version unknown)" : blasVersion);
        if (blasBuild != null) {
            b.append(" (").append(blasBuild).append(')');
        }
        b.append(", core type ").append(coreType == null ? "unknown" : coreType).append(" (");
        if (requestedCoreType == null) {
            b.append(CORETYPE_VARIABLE).append(" unset");
        } else if (requestedCoreType.isBlank()) {
            b.append(CORETYPE_VARIABLE).append(" set to an empty string");
        } else {
            b.append(CORETYPE_VARIABLE).append('=').append(requestedCoreType);
        }
        return b.append(") on ").append(cpuModel).toString();
    }

    /** The run.json form: snake_case keys, in a fixed order. */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nd4j_backend", backend);
        m.put("blas_library", blasCopies.isEmpty() ? null : "OpenBLAS");
        m.put("blas_version", blasVersion);
        m.put("blas_build", blasBuild);
        m.put("blas_config", blasCopies.isEmpty() ? null : blasCopies.get(0).config());
        m.put("blas_core_type", coreType);
        m.put("openblas_coretype_env", requestedCoreType);
        List<Map<String, Object>> copies = new ArrayList<>();
        for (OpenBlas.LoadedCopy c : blasCopies) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", c.name());
            e.put("config", c.config());
            e.put("core_type", c.coreType());
            e.put("threads", c.threads());
            e.put("parallel", c.parallel());
            copies.add(e);
        }
        m.put("blas_copies", copies);
        m.put("nd4j_omp_threads", nd4jThreads);
        m.put("nd4j_master_threads", nd4jMasterThreads);
        m.put("omp_num_threads_env", ompNumThreads);
        m.put("cpu_model", cpuModel);
        m.put("cpu_flags", cpuFlags);
        m.put("cores", cores);
        return m;
    }
}
