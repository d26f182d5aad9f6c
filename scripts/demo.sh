#!/usr/bin/env bash
# The demo: builds the project if needed, trains a real network — a Spark ML PipelineModel
# (VectorAssembler p0..p63 -> ElementwiseProduct 1/16 -> MLP 64-32-10, sigmoid hidden, softmax
# output) on the handwritten digits in scripts/demo-data/digits.csv (1797 rows; provenance in
# scripts/demo-data/README.md) — then runs `atlas analyze --by-class --report` on it and prints the per-layer and per-class summary.
#
#   scripts/demo.sh                  # model under target/demo/digits-mlp (trained once, then reused),
#                                    # tables under target/demo/out (replaced on every run)
#
# Settings (environment variables): DEMO_MASTER (local[2]); ATLAS_JAVA_OPTS (-Xmx4g) and
# ATLAS_JAVACPP_CACHE as for scripts/atlas. Delete target/demo/digits-mlp to retrain.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/launcher.sh"
cd "$ATLAS_ROOT"
START=$SECONDS
MASTER="${DEMO_MASTER:-local[2]}"
DATA=scripts/demo-data/digits.csv
MODEL=target/demo/digits-mlp
OUT=target/demo/out

# build (or rebuild a jar that predates the demo's trainer)
atlas_ensure_built --tools

if [[ -d "$MODEL" ]]; then
  echo "demo: reusing the trained model $MODEL (delete it to retrain)"
else
  echo "demo: training a 64-32-10 MLP with Spark ML on $DATA ($MASTER)..."
  atlas_java_command --tools io.hessianatlas.jobs.demo.TrainDigitsModel
  # Spark ML's netlib probes for a system libblas.so.3 and says so on stderr when there is none
  # (it then uses its Java BLAS, which is all this small network needs): keep that line out.
  "${ATLAS_JAVA_CMD[@]}" "$DATA" "$MODEL" "$MASTER" 2> >(grep --line-buffered -v '^netlib-blas: ' >&2)
fi

echo "demo: analyzing it (GGN, per layer, per sample, per class, with the HTML report)..."
echo "+ scripts/atlas analyze --model $MODEL --data $DATA --format csv --out $OUT --overwrite --master $MASTER --top-k 5 --by-class --report"
scripts/atlas analyze --model "$MODEL" --data "$DATA" --format csv --out "$OUT" --overwrite \
  --master "$MASTER" --top-k 5 --by-class --report

cat <<EOF

demo: done in $((SECONDS - START)) s. Parquet tables under $OUT/ (run.json beside them):
  layers    one row per layer: trace, lambda_max/min, frobenius, KFAC error of the mean θ-block
  spectrum  eigenvalues of H, A, G (dense) and A⊗G (kronecker), by rank
  factors   the mean matrices A, G, H row by row
  samples        one row per sample: label, loss, output, predicted_class
  sample_layers  one row per sample and layer: trace, lambda_max, grad_norm
  classes        one row per class and layer: samples, loss, accuracy, trace, lambda_max (--by-class)
and $OUT/report.html (open it in a browser; charts as SVG and PNG under $OUT/report/).
Read them with Spark, pandas/pyarrow or DuckDB, e.g.
  duckdb -c "SELECT * FROM '$OUT/layers/*.parquet' ORDER BY layer"
EOF
