#!/usr/bin/env bash
# Run a command with the project's environment: the venv first on PATH, PG* variables of the
# project-local cluster (override them to use another server), DBT_PROFILES_DIR = project root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
export PATH="$VENV/bin:$PG_BIN:$PATH"
export SHOPSEG_DSN="${SHOPSEG_DSN:-$(dsn)}"
cd "$ROOT"
exec "$@"
