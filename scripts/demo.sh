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
# demo starts them over and the build discovers version 1 on the data just generated (issue 22)
echo "== starting the centroid history over (it described the previous demo data)"
run dbt run-operation shopseg_reset_centroid_history
echo "== dbt build"
run dbt build --full-refresh
echo "== summary"
run python -m shopseg.summary
