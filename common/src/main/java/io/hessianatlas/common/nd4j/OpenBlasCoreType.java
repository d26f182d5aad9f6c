package io.hessianatlas.common.nd4j;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The OpenBLAS x86-64 core types (kernel sets) a run may force with {@code OPENBLAS_CORETYPE}, with the
 * CPU flags each needs. OpenBLAS picks one itself at load time from the CPU; forcing one the CPU
 * cannot run either crashes or makes OpenBLAS fall back to another (measured with 0.3.31 on a
 * Xeon without AMX: {@code SapphireRapids} ran as Cooperlake), so a run that forces a core type
 * first checks {@link #missingFlags}.
 */
public enum OpenBlasCoreType {
    /** AVX2 + FMA kernels; the fallback every x86-64 CPU of the last decade runs. */
    HASWELL("Haswell", List.of("avx2", "fma")),
    /** AVX-512 kernels; chosen on Skylake-SP/Cascade Lake/Ice Lake servers. */
    SKYLAKEX("SkylakeX", List.of("avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")),
    /** AVX-512 + BF16; chosen on Cooper Lake, and on later Xeons and AMD Zen 4 without AMX. */
    COOPERLAKE("Cooperlake", List.of("avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl",
            "avx512_bf16")),
    /** AVX-512 + BF16 + AMX tiles; chosen on Sapphire Rapids and later Xeons with AMX enabled. */
    SAPPHIRERAPIDS("SapphireRapids", List.of("avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq",
            "avx512vl", "avx512_bf16", "amx_tile", "amx_bf16"));

    private final String openBlasName;
    private final List<String> requiredFlags;

    OpenBlasCoreType(String openBlasName, List<String> requiredFlags) {
        this.openBlasName = openBlasName;
        this.requiredFlags = requiredFlags;
    }

    /** The name OpenBLAS uses ({@code OPENBLAS_CORETYPE} value, {@code openblas_get_corename}). */
    public String openBlasName() {
        return openBlasName;
    }

    /** The CPU flags this core type's kernels need that {@code cpu} lacks (empty: it can run them). */
    public List<String> missingFlags(CpuInfo cpu) {
        return requiredFlags.stream().filter(f -> !cpu.flags().contains(f)).toList();
    }

    /** The core type with this OpenBLAS name, ignoring case (as OpenBLAS itself does). */
    public static Optional<OpenBlasCoreType> fromName(String name) {
        for (OpenBlasCoreType t : values()) {
            if (t.openBlasName.toLowerCase(Locale.ROOT).equals(name.trim().toLowerCase(Locale.ROOT))) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
