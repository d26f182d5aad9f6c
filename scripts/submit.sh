#!/usr/bin/env bash
# Submits `atlas analyze` to a Spark cluster with spark-submit, using the application jar
# (jobs/target/hessian-atlas-jobs-<version>-spark.jar: our code + ND4J + OpenBLAS; Spark comes
# from the cluster). Prints the spark-submit line first; DRY_RUN=1 prints it without running.
#
#   MASTER=spark://host:7077 scripts/submit.sh --model hdfs:///models/m --data hdfs:///data/d.parquet --out hdfs:///atlas/run1
#   MASTER=yarn scripts/submit.sh --queue curvature --conf spark.dynamicAllocation.enabled=false --files x.conf \
#       -- --model ... --data ... --out ...
#
# Arguments before a `--` go to spark-submit as they are (queue, --conf, --files, --jars, ...); the
# ones after it (or all of them, without a `--`) to `atlas analyze`. The driver and the executors
# get the JVM flags of local runs (ATLAS_JIT, the parallel GC: scripts/lib/launcher.sh).
#
# Settings (environment variables, with defaults):
#   MASTER              spark master URL, required: spark://host:7077, yarn, k8s://https://host:6443, local[4]
#   DEPLOY_MODE         client or cluster                         (client)
#   EXECUTOR_MEMORY     executor heap                             (4g)
#   EXECUTOR_OVERHEAD   off-heap headroom per executor: ND4J keeps its arrays off-heap (2g)
#   EXECUTOR_CORES      cores per executor = concurrent tasks     (2)
#   ND4J_MAXBYTES       javacpp off-heap limit per JVM            (2G)
#   ND4J_MAXPHYSICAL    javacpp physical-memory limit per JVM     (6G = heap + off-heap + margin)
#   DRIVER_MEMORY       driver heap (dense spectra run here)      (4g)
#   OPENBLAS_CORETYPE   OpenBLAS kernels (unset: OpenBLAS picks); passed to the executors as spark.executorEnv
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${MASTER:-}" ]]; then
  echo "submit.sh: set MASTER to the cluster's Spark master, e.g. MASTER=spark://host:7077, MASTER=yarn," \
    "MASTER=k8s://https://host:6443 or MASTER='local[4]'" >&2
  exit 2
fi
SUBMIT_ARGS=()
if [[ " $* " == *" -- "* ]]; then
  while [[ $# -gt 0 && "$1" != "--" ]]; do SUBMIT_ARGS+=("$1"); shift; done
  shift
fi
JAR="$(ls "$ROOT"/jobs/target/hessian-atlas-jobs-*-spark.jar 2>/dev/null | head -1 || true)"
if [[ -z "$JAR" ]]; then
  echo "submit.sh: building the application jar..." >&2
  (cd "$ROOT" && mvn -B -q -DskipTests install) >&2
  JAR="$(ls "$ROOT"/jobs/target/hessian-atlas-jobs-*-spark.jar | head -1)"
fi
# OPENBLAS_CORETYPE: an empty value is unset; a user's own value goes to the executors (and, in cluster
# deploy mode on YARN or Kubernetes, to the driver), so every JVM runs the kernels asked for.
source "$ROOT/scripts/lib/launcher.sh"
atlas_openblas_coretype
CORETYPE_CONF=()
if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
  CORETYPE_CONF+=(--conf "spark.executorEnv.OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE")
  if [[ "${DEPLOY_MODE:-client}" == "cluster" ]]; then
    case "$MASTER" in
      yarn*) CORETYPE_CONF+=(--conf "spark.yarn.appMasterEnv.OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE") ;;
      k8s://*) CORETYPE_CONF+=(--conf "spark.kubernetes.driverEnv.OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE") ;;
    esac
  fi
fi
atlas_vm_flags
ND4J_OPTS="-Dorg.bytedeco.javacpp.maxbytes=${ND4J_MAXBYTES:-2G} -Dorg.bytedeco.javacpp.maxphysicalbytes=${ND4J_MAXPHYSICAL:-6G} ${ATLAS_VM_FLAGS[*]}"
CMD=(spark-submit
  --class io.hessianatlas.jobs.cli.AtlasCli
  --name "hessian-atlas analyze"
  --master "$MASTER"
  --deploy-mode "${DEPLOY_MODE:-client}"
  --driver-memory "${DRIVER_MEMORY:-4g}"
  --executor-memory "${EXECUTOR_MEMORY:-4g}"
  --executor-cores "${EXECUTOR_CORES:-2}"
  --conf "spark.executor.memoryOverhead=${EXECUTOR_OVERHEAD:-2g}"
  --conf "spark.executor.extraJavaOptions=$ND4J_OPTS"
  --conf "spark.executorEnv.MALLOC_MMAP_THRESHOLD_=33554432"
  --conf "spark.executorEnv.MALLOC_TRIM_THRESHOLD_=4294967296"
  --conf "spark.driver.extraJavaOptions=$ND4J_OPTS"
  ${CORETYPE_CONF[@]+"${CORETYPE_CONF[@]}"}
  ${SUBMIT_ARGS[@]+"${SUBMIT_ARGS[@]}"}
  "$JAR" analyze "$@")
printf '%q ' "${CMD[@]}"; echo
if [[ "${DRY_RUN:-0}" != "1" ]]; then
  command -v spark-submit >/dev/null || { echo "submit.sh: spark-submit is not on PATH (set SPARK_HOME/bin on PATH)" >&2; exit 1; }
  exec "${CMD[@]}"
fi
