#!/usr/bin/env bash
# Throughput benchmark (issue 6), a script and never a timed test. Prints one table and writes
# target/bench/bench.json so runs can be compared:
#   1. machine peak: ND4J GEMM at 1024^3 on one thread, float64 and float32;
#   2. kernels on synthetic layers (784/256 and 256/128, output width 10, batch 256 and 1024):
#      forward + factor propagation, A and G accumulation, matrix-free H·v, and the dense
#      θ-block GEMM (on a 64/32 layer, the largest whose block is small enough to hold here),
#      with flops, samples/s, GFLOP/s and the fraction of the float64 peak;
#   3. end to end: the synthetic 60,000 x 784-256-128-10 workload through `analyze` (ggn,
#      kronecker spectra and per-sample scores) on local[1] and local[2], --precision float64 and
#      float32, from the generator's Parquet (16 MB row groups, 8 files) and from the same rows in one
#      file of one row group (as DuckDB or pandas write it): wall time per phase, samples/s of the
#      per-sample pass, passes over the data, peak RSS; then local[2] vs local[1], float32 vs float64,
#      and the pass against the two-core GEMM-bound limit (2 x the measured one-thread float64 GEMM
#      peak / the pass's 3.21 MFLOP per sample, counted in the script below).
# With --lanczos it also runs scripts/bench-spectra.sh (lanczos top-20 per layer, ~14 min).
#
#   scripts/bench.sh [--lanczos] [SAMPLES=60000]
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/launcher.sh"
LANCZOS=0
if [[ "${1:-}" == "--lanczos" ]]; then LANCZOS=1; shift; fi
SAMPLES="${1:-60000}"
OUT="$ATLAS_ROOT/target/bench"
WORK="$OUT/mnist-like-$SAMPLES"
mkdir -p "$OUT"
export ATLAS_JAVA_OPTS="${ATLAS_JAVA_OPTS:--Xmx4g}"
atlas_ensure_built --tools

echo "== kernels (one thread)"
atlas_java_command --tools io.hessianatlas.jobs.bench.KernelBenchmark
"${ATLAS_JAVA_CMD[@]}" "$OUT/kernels.json" 2>/dev/null | grep -v '^HAVE_'

if [[ ! -d "$WORK/data-one-row-group.parquet" ]]; then
  atlas_java_command --tools io.hessianatlas.jobs.bench.SyntheticWorkload
  "${ATLAS_JAVA_CMD[@]}" "$WORK" "$SAMPLES" 784,256,128,10 7 8 "local[2]" >/dev/null 2>&1
fi

echo "== end to end: $SAMPLES x 784-256-128-10, ggn, kronecker spectra + per-sample scores"
atlas_java_command io.hessianatlas.jobs.cli.AtlasCli
for source in data one-row-group; do
for precision in float64 float32; do
  for master in "local[1]" "local[2]"; do
    tag="${master//[\[\]]/}-$precision"
    [[ "$source" == data ]] || tag="$tag-$source"
    file="$WORK/data.parquet"
    [[ "$source" == data ]] || file="$WORK/data-$source.parquet"
    dir="$WORK/out-$tag"
    rm -rf "$dir"
    start=$(date +%s.%N)
    "${ATLAS_JAVA_CMD[@]}" analyze --model "$WORK/model" --data "$file" --out "$dir" \
      --master "$master" --spectrum kronecker --precision "$precision" >/dev/null 2>"$dir.log" &
    atlas_wait_peak_rss $!
    [[ "$ATLAS_EXIT" == 0 ]] || { echo "analyze failed ($ATLAS_EXIT), see $dir.log" >&2; exit 1; }
    end=$(date +%s.%N)
    python3 - "$dir/run.json" "$master $precision $source" "$ATLAS_PEAK_RSS_KIB" "$start" "$end" "$OUT/e2e-$tag.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
t = m["timings_seconds"]
rows = m["input"]["rows_used"]
res = {"run": sys.argv[2], "wall_s": float(sys.argv[5]) - float(sys.argv[4]), "phases_s": t,
       "pass_samples_per_s": rows / t["pass"], "passes_over_data": m["passes_over_data"],
       "peak_rss_mib": int(sys.argv[3]) // 1024}
json.dump(res, open(sys.argv[6], "w"), indent=2)
print(f"{sys.argv[2]:34s} wall {res['wall_s']:5.1f} s  start {t['start']:.1f}  read {t['read']:.1f}  pass {t['pass']:.1f}"
      f"  spectra {t['spectra']:.1f}  write {t['write']:.1f}  | pass {res['pass_samples_per_s']:6.0f} samples/s"
      f"  | passes {res['passes_over_data']}  | peak RSS {res['peak_rss_mib']} MiB")
PY
  done
done
done
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
b = {"kernels": json.load(open(os.path.join(out, "kernels.json")))}
rate = {}
for p in ("float64", "float32"):
    for m in ("local1", "local2"):
        r = json.load(open(os.path.join(out, f"e2e-{m}-{p}.json")))
        b[f"e2e_{m}_{p}"] = r
        rate[(m, p)] = r["pass_samples_per_s"]
for p in ("float64", "float32"):
    b[f"speedup_local2_vs_local1_{p}"] = rate[("local2", p)] / rate[("local1", p)]
    print(f"{p}: local[2] vs local[1] on the per-sample pass {rate[('local2', p)] / rate[('local1', p)]:.2f}x")
for m in ("local1", "local2"):
    b[f"speedup_float32_vs_float64_{m}"] = rate[(m, "float32")] / rate[(m, "float64")]
    print(f"{m}: float32 vs float64 on the per-sample pass {rate[(m, 'float32')] / rate[(m, 'float64')]:.2f}x")
# the per-sample pass's flops (ggn, every layer, kronecker): forward 2 n (m+1); δ and the output-Hessian
# factor back through W (2 n' n (1 + C)); A = Σ ã ãᵀ (m+1)(m+2), G = Σ C Cᵀ n (n+1) C, gradient 2 n (m+1)
widths, classes = [784, 256, 128, 10], 10
flops = 0
for l in range(1, len(widths)):
    m, n = widths[l - 1], widths[l]
    flops += 2 * n * (m + 1) + (m + 1) * (m + 2) + n * (n + 1) * classes + 2 * n * (m + 1)
    if l < len(widths) - 1:
        flops += 2 * widths[l + 1] * n * (1 + classes)
peak = b["kernels"]["gemm_1024_float64_gflops"] * 1e9
limit = 2 * peak / flops
b["pass_flops_per_sample"] = flops
b["gemm_bound_limit_2_cores_samples_per_s"] = limit
print(f"two-core GEMM-bound limit: 2 x {peak / 1e9:.1f} GFLOP/s / {flops / 1e6:.2f} MFLOP = {limit:.0f} samples/s")
for src in ("", "-one-row-group"):
    for p in ("float64", "float32"):
        r = json.load(open(os.path.join(out, f"e2e-local2-{p}{src}.json")))
        b[f"e2e_local2_{p}{src.replace('-', '_')}"] = r
        print(f"local[2] {p} {src[1:] or 'generator data'}: {r['pass_samples_per_s']:.0f} samples/s = "
              f"{100 * r['pass_samples_per_s'] / limit:.0f} % of the limit")
json.dump(b, open(os.path.join(out, "bench.json"), "w"), indent=2)
print(f"written {out}/bench.json")
PY
if (( LANCZOS )); then
  echo "== matrix-free spectra (scripts/bench-spectra.sh)"
  "$ATLAS_ROOT/scripts/bench-spectra.sh" "$SAMPLES"
fi
