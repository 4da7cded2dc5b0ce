#!/usr/bin/env bash
# The main job on the embedded default: generate demo data into the project-local database,
# run `dbt build` (features, discovery, assignment, tests) and print a short summary.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CUSTOMERS="${1:-10000}"
SEED="${2:-42}"
run() { "$ROOT/scripts/run.sh" "$@"; }
echo "== generating demo data: $CUSTOMERS customers (seed $SEED)"
run python -m shopseg.generate --customers "$CUSTOMERS" --seed "$SEED"
# new data: the centroid versions, drift history and segment snapshot describe other data, so the
# build starts them over first (var start_over: the on-run-start hook shopseg_start_over runs
# shopseg_reset_centroid_history) and discovers version 1 on the data just generated (issue 22)
echo "== dbt build, starting the centroid history over (it described the previous demo data)"
run dbt build --full-refresh --vars '{start_over: true}'
echo "== summary"
run python -m shopseg.summary
