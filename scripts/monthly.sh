#!/usr/bin/env bash
# The monthly job: rediscover centroids (a new version; names stay continuous), move the
# reference date to the latest order date and re-score everyone. The centroid history
# survives --full-refresh (segment_centroids has full_refresh: false).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/run.sh" dbt build --full-refresh --vars '{rediscover: true}' "$@"
