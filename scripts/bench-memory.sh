#!/usr/bin/env bash
# Memory benchmark (issue 5), a script and not a test: SAMPLES synthetic samples x 784 features
# through a 784-256-10 ReLU softmax network (fixed seed) with a 1 GB heap (driver = executor in
# local mode), kronecker spectra and the per-sample table. Per-sample data stream through
# mini-batches; nothing per-sample is collected to the driver. Prints the wall time and the
# peak resident set size (VmHWM) of the JVM.
#
#   scripts/bench-memory.sh [SAMPLES=1000000] [MASTER=local[2]]
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/launcher.sh"
SAMPLES="${1:-1000000}"
MASTER="${2:-local[2]}"
WORK="$ATLAS_ROOT/target/bench/memory-$SAMPLES"
atlas_ensure_built --tools
if [[ ! -d "$WORK/data.parquet" ]]; then
  ATLAS_JAVA_OPTS="-Xmx2g" atlas_java_command --tools io.hessianatlas.jobs.bench.SyntheticWorkload
  "${ATLAS_JAVA_CMD[@]}" "$WORK" "$SAMPLES" 784,256,10 11 32 "$MASTER"
fi
rm -rf "$WORK/out"
export ATLAS_JAVA_OPTS="-Xmx1g -Dspark.sql.files.maxPartitionBytes=${MAX_PARTITION_BYTES:-33554432}"
export ATLAS_OFFHEAP_MAX="${ATLAS_OFFHEAP_MAX:-1G}"
atlas_java_command io.hessianatlas.jobs.cli.AtlasCli
start=$(date +%s)
"${ATLAS_JAVA_CMD[@]}" analyze --model "$WORK/model" --data "$WORK/data.parquet" --out "$WORK/out" \
  --master "$MASTER" --spectrum kronecker &
atlas_wait_peak_rss $!
end=$(date +%s)
echo "exit $ATLAS_EXIT, wall time $((end - start)) s, peak RSS (VmHWM) $((ATLAS_PEAK_RSS_KIB / 1024)) MiB, heap -Xmx1g, javacpp off-heap limit $ATLAS_OFFHEAP_MAX"
exit $ATLAS_EXIT
