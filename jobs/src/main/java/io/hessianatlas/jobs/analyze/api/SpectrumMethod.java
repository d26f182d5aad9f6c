package io.hessianatlas.jobs.analyze.api;

/** How the spectrum of each layer's θ-block is obtained (`--spectrum`). */
public enum SpectrumMethod {
    /** dense where the θ-block fits the memory budget, lanczos otherwise. */
    AUTO,
    /** accumulate H densely and decompose it with LAPACK on the driver; fails when over budget. */
    DENSE,
    /** the spectrum of A ⊗ G only (any size, no extra pass). */
    KRONECKER,
    /** matrix-free block Lanczos on H (any size; one pass over the data per block product). */
    LANCZOS
}
