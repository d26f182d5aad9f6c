package io.hessianatlas.common.nd4j;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What this machine's CPU is, as Linux reports it in {@code /proc/cpuinfo}: the model name and the
 * instruction-set flags. Read without loading any native library, so it can decide which OpenBLAS
 * core types a test run may force before OpenBLAS starts.
 *
 * @param model the first processor's {@code model name} ({@code "unknown"} where there is none)
 * @param flags the first processor's {@code flags}, as written there ({@code avx2}, {@code avx512f}, ...)
 */
public record CpuInfo(String model, Set<String> flags) implements Serializable {
    /** The ISA flags that decide OpenBLAS's x86-64 kernels; run.json lists which of them the CPU has. */
    public static final List<String> KERNEL_FLAGS = List.of("avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw",
            "avx512dq", "avx512vl", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16");

    private static final CpuInfo CURRENT = read(Path.of("/proc/cpuinfo"));

    public CpuInfo {
        flags = Set.copyOf(flags);
    }

    /** This machine's CPU (read once per JVM). */
    public static CpuInfo current() {
        return CURRENT;
    }

    /** Parses a cpuinfo file; a missing or unreadable file gives model "unknown" and no flags. */
    static CpuInfo read(Path cpuinfo) {
        String model = null;
        Set<String> flags = null;
        try {
            for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (model == null && key.equals("model name")) {
                    model = value;
                } else if (flags == null && key.equals("flags")) {
                    flags = new TreeSet<>(Arrays.asList(value.split("\\s+")));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no procfs: the CPU stays unknown, which only affects what is reported
        }
        return new CpuInfo(model == null ? "unknown" : model, flags == null ? Set.of() : flags);
    }

    /** Which of {@link #KERNEL_FLAGS} this CPU has, in that list's order. */
    public List<String> kernelFlags() {
        return KERNEL_FLAGS.stream().filter(flags::contains).toList();
    }
}
