#!/usr/bin/env bash
# The daily job: an incremental `dbt build` with the reference date pinned to the one the
# current centroid version was discovered on, so only customers with new source rows are
# re-computed, and the tests of the incremental models check only the rows the build rewrote
# (test_scope: rewritten). docs/lifecycle.md says which tests run when. Without centroids yet,
# it is a normal first build with every test on whole tables.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
run() { "$ROOT/scripts/run.sh" "$@"; }
SCHEMA="${SHOPSEG_SCHEMA:-analytics}"
ref="$(run psql -X -qtA -c "select reference_date from ${SCHEMA}_marts.segment_centroids
                             order by centroid_version desc limit 1" 2>/dev/null || true)"
if [ -n "$ref" ]; then
  echo "daily build, reference date pinned to $ref"
  run dbt build --vars "{reference_date: '$ref', test_scope: rewritten}" "$@"
else
  echo "no centroids yet: first build"
  run dbt build "$@"
fi
