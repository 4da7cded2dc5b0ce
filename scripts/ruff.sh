#!/usr/bin/env bash
# The Python linter (docs/decisions.md, "Issue 18"): `ruff check` and `ruff format --check` over the
# tools (shopseg/), the tests, scripts/, the PL/Python UDFs (python_udfs/), the Python models (models/) and the in-repo dbt
# packages (packages/, when present), with the settings of pyproject.toml [tool.ruff]. Takes about a
# second; exits non-zero on any finding. `scripts/ruff.sh --fix` applies the safe fixes and formats.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
paths=()
for dir in shopseg tests scripts python_udfs packages models; do
  [ -e "$dir" ] && paths+=("$dir")
done
ruff() { "$ROOT/scripts/run.sh" ruff "$@"; }
if [ "${1:-}" = "--fix" ]; then
  ruff check --fix "${paths[@]}"
  ruff format "${paths[@]}"
else
  ruff check "${paths[@]}"
  ruff format --check "${paths[@]}"
fi
