package io.hessianatlas.jobs.testing;

import java.util.List;

/**
 * The JIT and GC flags scripts/atlas and scripts/submit.sh give every JVM of a run
 * (scripts/lib/launcher.sh, atlas_vm_flags): C1 only and the throughput collector. The JVMs the
 * tests start themselves (CLI processes, the standalone cluster's daemons, drivers and executors)
 * get them too, as the surefire forks do (pom.xml, test.vm.flags): on two cores, C2's compiler
 * threads of several JVMs starting at once took the cores the runs needed.
 */
public final class AtlasVmFlags {
    public static final List<String> FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC");

    private AtlasVmFlags() {
    }
}
