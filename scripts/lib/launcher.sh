# shellcheck shell=bash
# Shared by scripts/atlas and scripts/demo.sh (source it; it defines functions only):
#   atlas_ensure_built [--tools]   builds the project (mvn install, tests skipped) unless the jobs jar
#                                  and its classpath file exist and are newer than every source;
#                                  --tools: also the test sources (benchmarks, demo trainer); sets
#                                  ATLAS_JAR and ATLAS_CP_FILE.
#   atlas_java_command [--tools] MAIN_CLASS
#                                  sets the array ATLAS_JAVA_CMD: java with the options Spark needs on
#                                  Java 17 and the full local classpath (Spark included; --tools: jobs'
#                                  test classes and test classpath in front), then MAIN_CLASS;
#                                  exports SPARK_LOCAL_IP (default 127.0.0.1: local runs stay on loopback);
#                                  unsets an empty OPENBLAS_CORETYPE (atlas_openblas_coretype).
# Environment: ATLAS_JAVA_OPTS (default -Xmx4g), ATLAS_JAVACPP_CACHE (ND4J's native library cache),
# ATLAS_OFFHEAP_MAX (javacpp's off-heap limit, default 3G: past it javacpp runs the GC to free ND4J
# buffers), ATLAS_JIT (c1, the default, or full: see below; the parallel GC is used unless
# ATLAS_JAVA_OPTS names a collector), SPARK_LOCAL_IP,
# MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ (see below).
ATLAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The module opens Spark needs on Java 17 (the list spark-submit adds itself); also used by scripts/cluster.sh.
ATLAS_JAVA17_OPENS=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false
  -Dio.netty.tryReflectionSetAccessible=true)

# atlas_wait_peak_rss PID: waits for PID to end, then sets ATLAS_PEAK_RSS_KIB (its VmHWM, polled
# every second) and ATLAS_EXIT (its exit code).
atlas_wait_peak_rss() {
  local pid=$1 hwm
  ATLAS_PEAK_RSS_KIB=0
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [[ -n "$hwm" && "$hwm" -gt "$ATLAS_PEAK_RSS_KIB" ]] && ATLAS_PEAK_RSS_KIB=$hwm
    sleep 1
  done
  ATLAS_EXIT=0
  wait "$pid" || ATLAS_EXIT=$?
}

# atlas_openblas_coretype: OPENBLAS_CORETYPE picks OpenBLAS's kernels. Set to an empty string it is
# not "unset": OpenBLAS 0.3.19 read it as a core type (Cooperlake, whose GEMM was wrong). An empty
# value is unset here, with a note; a user's own value is left as it is (submit.sh passes it on to the
# executors). The BLAS self-check at start-up stops any run whose kernels compute wrong.
atlas_openblas_coretype() {
  if [[ -n "${OPENBLAS_CORETYPE+set}" && -z "${OPENBLAS_CORETYPE}" ]]; then
    echo "atlas: OPENBLAS_CORETYPE is set to an empty string; unsetting it (OpenBLAS picks the core type)" >&2
    unset OPENBLAS_CORETYPE
  fi
}

atlas_find_jar() {
  ATLAS_JAR="$(ls "$ATLAS_ROOT"/jobs/target/hessian-atlas-jobs-*-SNAPSHOT.jar 2>/dev/null | grep -v -- '-spark.jar' | head -1 || true)"
  ATLAS_CP_FILE="$ATLAS_ROOT/jobs/target/classpath.txt"
}

# atlas_ensure_built [--tools]: builds the project (mvn install, tests skipped) when the jobs jar or
# its classpath file is missing, or when a source the jar is built from (common/ and jobs/ main
# sources and resources, conf/, the poms) is newer than the jar, so an edited source never runs
# the old jar. With --tools the test sources count too (the benchmarks, the demo trainer and
# scripts/golden.sh live there) and jobs/target/classpath-test.txt must exist.
atlas_ensure_built() {
  atlas_find_jar
  local tools=0 need_build=0 reason="first run; later runs start at once"
  [[ "${1:-}" == "--tools" ]] && tools=1
  local sources=("$ATLAS_ROOT"/common/src/main "$ATLAS_ROOT"/jobs/src/main "$ATLAS_ROOT"/conf
    "$ATLAS_ROOT"/pom.xml "$ATLAS_ROOT"/common/pom.xml "$ATLAS_ROOT"/jobs/pom.xml)
  (( tools )) && sources+=("$ATLAS_ROOT"/common/src/test "$ATLAS_ROOT"/jobs/src/test)
  if [[ -z "$ATLAS_JAR" || ! -f "$ATLAS_CP_FILE" ]] \
      || { (( tools )) && [[ ! -f "$ATLAS_ROOT/jobs/target/classpath-test.txt" ]]; }; then
    need_build=1
  elif [[ -n "$(find "${sources[@]}" -newer "$ATLAS_JAR" -type f -print -quit 2>/dev/null)" ]]; then
    need_build=1
    reason="sources changed since the last build"
  fi
  if (( need_build )); then
    echo "atlas: building the project ($reason)..." >&2
    (cd "$ATLAS_ROOT" && mvn -B -q -DskipTests install) >&2
    atlas_find_jar
    [[ -n "$ATLAS_JAR" && -f "$ATLAS_CP_FILE" ]] || { echo "atlas: the build produced no jobs jar" >&2; return 1; }
  fi
}

# The JVM's JIT and GC flags, for local runs and (scripts/submit.sh) for the driver and executors,
# in ATLAS_VM_FLAGS. JIT: the work is native BLAS; on a 2-core machine HotSpot's C2 compiler thread
# held one core for the first ~10 s of a run (Spark, Parquet and our loops), so local[2] ran at 1.2x
# local[1]. C1 only (ATLAS_JIT=c1): the 60,000-sample pass 5.2 s -> 3.9 s, no loss at 240,000
# samples. GC: the throughput collector, unless ATLAS_JAVA_OPTS picks one. G1's concurrent threads
# competed with the two task threads for the two cores: 60,000-sample float64 pass on local[2]
# 12,100 -> 13,600 samples/s (mean of 3 alternating runs each), local[1] unchanged.
atlas_vm_flags() {
  ATLAS_VM_FLAGS=()
  [[ "${ATLAS_JIT:-c1}" == "c1" ]] && ATLAS_VM_FLAGS=(-XX:TieredStopAtLevel=1)
  [[ "${ATLAS_JAVA_OPTS:-}" == *GC* ]] || ATLAS_VM_FLAGS+=(-XX:+UseParallelGC)
  return 0
}

atlas_java_command() {
  local opens=("${ATLAS_JAVA17_OPENS[@]}")
  # --tools: a main class in jobs' test sources (benchmarks, demo trainer, golden outputs)
  local cp="$ATLAS_JAR:$(cat "$ATLAS_CP_FILE")"
  if [[ "$1" == "--tools" ]]; then
    cp="$ATLAS_ROOT/jobs/target/test-classes:$(cat "$ATLAS_ROOT/jobs/target/classpath-test.txt"):$cp"
    shift
  fi
  atlas_openblas_coretype
  export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
  # ND4J allocates a fresh off-heap buffer per op result outside the per-batch workspace (driver
  # spectra, Lanczos bookkeeping); keeping freed buffers (up to 32 MB) in glibc's heap instead of
  # unmapping them saves the page faults (before that workspace, the per-sample pass ran 1.75x
  # faster with it: 20,000 x 784-256-128-10, 8.4 s -> 4.8 s).
  export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
  export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
  atlas_vm_flags
  local vm=("${ATLAS_VM_FLAGS[@]}")
  # ATLAS_JAVA_OPTS is split on spaces on purpose (several options in one variable)
  # shellcheck disable=SC2206
  ATLAS_JAVA_CMD=(java ${ATLAS_JAVA_OPTS:--Xmx4g} "${vm[@]}" "${opens[@]}"
    -Dorg.bytedeco.javacpp.cachedir="${ATLAS_JAVACPP_CACHE:-$HOME/.cache/hessian-atlas/javacpp}"
    -Dorg.bytedeco.javacpp.maxbytes="${ATLAS_OFFHEAP_MAX:-3G}"
    -Dlog4j2.configurationFile="$ATLAS_ROOT/conf/log4j2.properties"
    -Dspark.ui.enabled=false -Dspark.ui.showConsoleProgress=true -Dspark.sql.debug.maxToStringFields=1000
    -cp "$cp" "$1")
}
