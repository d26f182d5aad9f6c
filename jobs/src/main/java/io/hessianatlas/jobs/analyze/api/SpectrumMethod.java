package io.hessianatlas.jobs.analyze.api;

import java.util.Locale;

/** How the spectrum of each layer's θ-block is obtained (`--spectrum`). */
public enum SpectrumMethod {
    /** dense where the θ-block fits the memory budget, lanczos otherwise. */
    AUTO,
    /** accumulate H densely and decompose it with LAPACK on the driver; fails when over budget. */
    DENSE,
    /** the spectrum of A ⊗ G only (any size, no extra pass). */
    KRONECKER,
    /** matrix-free block Lanczos on H (any size; one pass over the data per block product). */
    LANCZOS;

    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SpectrumMethod parse(String s) {
        String key = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        for (SpectrumMethod m : values()) {
            if (m.optionName().equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown spectrum method '" + s
                + "' (expected auto, dense, kronecker or lanczos)");
    }
}
