package io.hessianatlas.jobs.analyze.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import io.hessianatlas.common.nd4j.NativeEnvironment;
import io.hessianatlas.common.nd4j.NativeRuntime;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.util.CollectionAccumulator;

/**
 * What computed on each executor that ran the per-sample pass (BLAS build, core type, threads, CPU),
 * gathered through an accumulator as each task starts (no extra pass over the data) and grouped by
 * distinct configuration for run.json. Executors that joined only for later matrix-free passes are
 * not listed (they run the same self-check before their first batch).
 */
public final class ExecutorEnvironments {
    /** One task's report: where it ran, with what, and how long that JVM's self-check took. */
    record Seen(String executorId, String host, NativeEnvironment environment, double selfCheckMillis)
            implements Serializable {
    }

    private ExecutorEnvironments() {
    }

    static CollectionAccumulator<Seen> register(SparkContext sc) {
        return sc.collectionAccumulator("hessian-atlas native environments");
    }

    /** Called by a task after {@link NativeRuntime#configure()}. */
    static void report(CollectionAccumulator<Seen> acc, NativeRuntime.Status status) {
        SparkEnv env = SparkEnv.get();
        String id = env == null ? "unknown" : env.executorId();
        String host = env == null ? "unknown" : env.blockManager().blockManagerId().host();
        acc.add(new Seen(id, host, status.environment(), status.selfCheck().millis()));
    }

    /** The distinct configurations, each with the executors and hosts that ran it, in first-seen order. */
    public static List<Map<String, Object>> manifest(List<Seen> seen) {
        Map<NativeEnvironment, List<Seen>> groups = new LinkedHashMap<>();
        for (Seen s : seen) {
            groups.computeIfAbsent(s.environment(), k -> new ArrayList<>()).add(s);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<NativeEnvironment, List<Seen>> g : groups.entrySet()) {
            Map<String, Object> m = new LinkedHashMap<>(g.getKey().toManifest());
            TreeSet<String> ids = new TreeSet<>();
            TreeSet<String> hosts = new TreeSet<>();
            double slowest = 0;
            for (Seen s : g.getValue()) {
                ids.add(s.executorId());
                hosts.add(s.host());
                slowest = Math.max(slowest, s.selfCheckMillis());
            }
            m.put("executor_ids", new ArrayList<>(ids));
            m.put("hosts", new ArrayList<>(hosts));
            m.put("self_check_ms_max", slowest);
            out.add(m);
        }
        return out;
    }

    /** The driver's entry: its environment and its self-check. */
    public static Map<String, Object> driverManifest(NativeRuntime.Status status) {
        Map<String, Object> m = new LinkedHashMap<>(status.environment().toManifest());
        m.put("self_check_ms", status.selfCheck().millis());
        m.put("self_check_routines", status.selfCheck().checks().size());
        m.put("self_check_worst_roundoffs", status.selfCheck().worstRoundoffs());
        return m;
    }
}
