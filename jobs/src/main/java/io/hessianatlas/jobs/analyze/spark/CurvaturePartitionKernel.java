package io.hessianatlas.jobs.analyze.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;

import io.hessianatlas.common.aggregate.CurvatureAccumulator;
import io.hessianatlas.common.aggregate.CurvaturePlan;
import io.hessianatlas.common.hessian.BatchCurvature;
import io.hessianatlas.common.hessian.Precision;
import io.hessianatlas.common.hessian.SampleScores;
import io.hessianatlas.common.linalg.SymmetricEigen;
import io.hessianatlas.common.model.Network;
import io.hessianatlas.common.nd4j.BatchWorkspace;
import io.hessianatlas.common.nd4j.NativeRuntime;
import io.hessianatlas.jobs.analyze.io.InputBatch;
import io.hessianatlas.jobs.analyze.io.InputBatcher;
import io.hessianatlas.jobs.analyze.io.LabelType;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.CollectionAccumulator;
import org.nd4j.linalg.api.memory.MemoryWorkspace;

/**
 * The executor side of the per-sample pass over one partition of {@link InputBatch}es: each batch
 * runs through {@link BatchCurvature}, is scored and accumulated; the partition emits one
 * {@link PassRecord.Batch} per mini-batch and finally its {@link PassRecord.Sums}. ND4J objects are
 * created here, inside the task, never shipped.
 */
public final class CurvaturePartitionKernel implements Function2<Integer, Iterator<InputBatch>, Iterator<PassRecord>> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<Network> network;
    private final CurvaturePlan plan;
    private final Precision precision;
    private final LabelType labelType;
    private final CollectionAccumulator<ExecutorEnvironments.Seen> environments;

    CurvaturePartitionKernel(Broadcast<Network> network, CurvaturePlan plan, Precision precision, LabelType labelType,
                             CollectionAccumulator<ExecutorEnvironments.Seen> environments) {
        this.labelType = labelType;
        this.network = network;
        this.plan = plan;
        this.precision = precision;
        this.environments = environments;
    }

    @Override
    public Iterator<PassRecord> call(Integer partition, Iterator<InputBatch> batches) {
        // the BLAS self-check runs here, once per executor JVM, before its first batch
        ExecutorEnvironments.report(environments, NativeRuntime.configure());
        Network net = network.value();
        return new Iterator<>() {
            private final CurvatureAccumulator acc = new CurvatureAccumulator(net, plan);
            private final SymmetricEigen eigen = new SymmetricEigen(maxWidth(net));
            private boolean sumsEmitted;

            private InputBatch pending;
            private long skipped;
            private final java.util.List<String> skipReasons = new java.util.ArrayList<>();

            /** The next non-empty batch (batches whose rows were all skipped as invalid carry no samples). */
            private boolean advance() {
                while (pending == null && batches.hasNext()) {
                    InputBatch in = batches.next();
                    skipped += in.skipped;
                    for (String r : in.skipReasons) {
                        if (skipReasons.size() < InputBatcher.REASONS_KEPT) {
                            skipReasons.add(r);
                        }
                    }
                    if (in.size() > 0) {
                        pending = in;
                    }
                }
                return pending != null;
            }

            @Override
            public boolean hasNext() {
                return advance() || !sumsEmitted;
            }

            @Override
            public PassRecord next() {
                if (advance()) {
                    InputBatch in = pending;
                    pending = null;
                    // every array of the batch lives in the per-batch workspace; scores leave as Java arrays
                    try (MemoryWorkspace ignored = BatchWorkspace.open()) {
                        BatchCurvature bc = BatchCurvature.computeAugmented(net, in.augmentedInputs(precision.dataType()),
                                in.targets(), plan.mode(), plan.lowestLayer());
                        SampleScores scores = SampleScores.compute(bc, plan.layers(), true, eigen);
                        acc.add(bc, scores, in.classes);
                        return PassRecord.Batch.of(in.ids, in.labels(labelType), scores);
                    }
                }
                if (sumsEmitted) {
                    throw new NoSuchElementException();
                }
                sumsEmitted = true;
                return new PassRecord.Sums(partition, acc.toSums(), skipped, skipReasons);
            }
        };
    }

    private static int maxWidth(Network net) {
        int w = net.outputSize();
        for (int l = 1; l <= net.depth(); l++) {
            w = Math.max(w, net.layer(l).fanOut());
        }
        return w;
    }
}
