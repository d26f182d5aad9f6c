#!/usr/bin/env bash
# Scale benchmark of the matrix-free spectra (issue 4), a script and not a test:
# a synthetic MNIST-sized workload with a fixed seed (SAMPLES x 784 features, a 784-256-128-10
# ReLU softmax network), analysed locally with lanczos top-20 per layer, Kronecker spectra,
# SLQ densities and the whole network's top-5, in one JVM with a 4 GB heap.
#
#   scripts/bench-spectra.sh [SAMPLES=60000] [MASTER=local[2]] [INPUTS=uniform]
#
# INPUTS: uniform (features uniform in [0, 1), the MNIST-like workload) or normal (standard normal
# features: issue 14's workload, whose layer-1 top-20 GGN eigenvalues are tightly clustered).
# BENCH_SPECTRA_ARGS replaces the spectra options (default: the full set above), e.g.
#   BENCH_SPECTRA_ARGS="--spectrum lanczos --top-k 20" scripts/bench-spectra.sh 60000 local[2] normal
# Prints the wall time per phase, the passes over the data (from run.json), per layer the Lanczos
# passes, products and wall time (from the log), and the peak RSS; then a dense check: layer 3
# (d = 1,290) again by `--spectrum dense` (LAPACK on the whole block) and its eigenvalues against the
# run's, rank by rank. The data, the outputs and the log stay under target/bench/.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/launcher.sh"
SAMPLES="${1:-60000}"
MASTER="${2:-local[2]}"
INPUTS="${3:-uniform}"
case "$INPUTS" in
  uniform) WORK="$ATLAS_ROOT/target/bench/mnist-like-$SAMPLES" ;;
  normal) WORK="$ATLAS_ROOT/target/bench/normal-$SAMPLES" ;;
  *) echo "bench-spectra.sh: INPUTS must be uniform or normal, got $INPUTS" >&2; exit 2 ;;
esac
read -r -a SPECTRA_ARGS <<< "${BENCH_SPECTRA_ARGS:---spectrum lanczos --top-k 20 --network --network-top-k 5 --density --density-probes 4 --density-steps 20}"
export ATLAS_JAVA_OPTS="${ATLAS_JAVA_OPTS:--Xmx4g}"
atlas_ensure_built --tools
if [[ ! -d "$WORK/data.parquet" ]]; then
  atlas_java_command --tools io.hessianatlas.jobs.bench.SyntheticWorkload
  "${ATLAS_JAVA_CMD[@]}" "$WORK" "$SAMPLES" 784,256,128,10 7 8 "$MASTER" "$INPUTS"
fi
rm -rf "$WORK/out"
atlas_java_command io.hessianatlas.jobs.cli.AtlasCli
start=$(date +%s)
"${ATLAS_JAVA_CMD[@]}" analyze --model "$WORK/model" --data "$WORK/data.parquet" --out "$WORK/out" \
  --master "$MASTER" "${SPECTRA_ARGS[@]}" 2> >(tee "$WORK/analyze.log" >&2) &
atlas_wait_peak_rss $!
end=$(date +%s)
(( ATLAS_EXIT == 0 )) || { echo "analyze failed (exit $ATLAS_EXIT)" >&2; exit "$ATLAS_EXIT"; }
echo "wall time: $((end - start)) s, peak RSS $((ATLAS_PEAK_RSS_KIB / 1024)) MiB"
# per layer: "layer L: lanczos top-K in P passes (Q products, S s), ..." (SpectraStep)
grep -E '(layer [0-9]+|network): lanczos top-' "$WORK/analyze.log" || true
python3 - "$WORK/out/run.json" <<'PY' 2>/dev/null || cat "$WORK/out/run.json"
import json, sys
m = json.load(open(sys.argv[1]))
print("phases (s):", {k: round(v, 1) for k, v in m["timings_seconds"].items()})
print("passes over the data:", m["passes_over_data"])
for s in m["spectra"]:
    print("  layer", s["layer"], s["spectrum_method"], "lanczos passes", s.get("lanczos_passes"),
          "products", s.get("lanczos_products"), "converged", s.get("lanczos_converged"),
          "density passes", s.get("density_passes"))
PY
echo "== dense check of layer 3 (LAPACK on the 1,290 x 1,290 block)"
rm -rf "$WORK/out-dense-layer3"
"${ATLAS_JAVA_CMD[@]}" analyze --model "$WORK/model" --data "$WORK/data.parquet" --out "$WORK/out-dense-layer3" \
  --master "$MASTER" --layers 3 --spectrum dense --top-k 20 >/dev/null 2>"$WORK/dense-layer3.log" \
  || { echo "dense run failed, see $WORK/dense-layer3.log" >&2; exit 1; }
atlas_java_command --tools io.hessianatlas.jobs.bench.SpectrumComparison
"${ATLAS_JAVA_CMD[@]}" "$WORK/out-dense-layer3" "$WORK/out" 2>/dev/null | grep '^layer' \
  || echo "(layer 3 is not in the run's spectrum table)"
