package io.hessianatlas.common.nd4j;

import java.util.function.Supplier;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The per-batch ND4J workspace: every array a mini-batch creates (activations, factors, Gram
 * matrices, per-batch products — some 30 MB for a 784-256-128-10 network at batch 256) is carved
 * from one block that is reused by the next batch, instead of a fresh off-heap allocation (and its
 * page faults and deferred, GC-driven release) per array. Nothing created inside may outlive the
 * scope: results leave as Java arrays, and long-lived arrays (weight caches, sums) are created
 * {@link #outside} it. Backend-neutral (ND4J workspaces exist on every backend).
 */
public final class BatchWorkspace {
    private static final String ID = "hessian-atlas-batch";
    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyLearning(LearningPolicy.FIRST_LOOP)      // sized by the first batch
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .overallocationLimit(0.2)
            .policySpill(SpillPolicy.REALLOCATE)            // a larger batch (or layer) grows the block
            .build();

    private BatchWorkspace() {
    }

    /** Opens the scope for one batch on this thread (try-with-resources; closing it recycles the block). */
    public static MemoryWorkspace open() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, ID);
    }

    /** Creates a long-lived array outside any workspace that is open on this thread. */
    public static <T> T outside(Supplier<T> create) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return create.get();
        }
    }
}
