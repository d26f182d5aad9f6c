#!/usr/bin/env bash
# Golden outputs for refactors that must not change a bit: `record DIR` runs `analyze` on every
# oracle case with four option sets (see jobs' testing/GoldenOutputs) and, with --demo, copies the
# demo's tables (scripts/demo.sh) into DIR/demo; `compare A B` compares every table of A's runs with
# B's bit for bit and exits 1 on any difference.
#
#   scripts/golden.sh record target/golden/before [--demo]     # on the old code
#   scripts/golden.sh record target/golden/after [--demo]      # on the new code
#   scripts/golden.sh compare target/golden/before target/golden/after
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/launcher.sh"
cd "$ATLAS_ROOT"
atlas_ensure_built --tools
demo=0
args=()
for a in "$@"; do if [[ "$a" == "--demo" ]]; then demo=1; else args+=("$a"); fi; done
atlas_java_command --tools io.hessianatlas.jobs.testing.GoldenOutputs
"${ATLAS_JAVA_CMD[@]}" "${args[@]}"
if [[ "${args[0]:-}" == "record" && $demo == 1 ]]; then
  scripts/demo.sh >/dev/null
  rm -rf "${args[1]}/demo" && cp -r target/demo/out "${args[1]}/demo"
  echo "demo: copied target/demo/out"
fi
