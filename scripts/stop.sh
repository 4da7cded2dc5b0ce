#!/usr/bin/env bash
# Stop the project-local PostgreSQL cluster (data stays in .pg/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
if [ -f "$PGDATA/PG_VERSION" ]; then
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast stop || true
  else "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast stop || true; fi
fi
