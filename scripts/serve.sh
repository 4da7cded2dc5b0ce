#!/usr/bin/env bash
# `make serve` (HTTP API) and `make mcp` (MCP server, stdio): read-only serving of the segments
# (docs/serving.md). On the project-local cluster (SHOPSEG_SERVE_DSN not set) it first makes sure
# the serving login role exists (python -m shopseg.serve.role: a NOINHERIT member of the BI role,
# no password; the cluster only listens on 127.0.0.1). With SHOPSEG_SERVE_DSN set (your own
# server) it only starts the server: a DBA creates that role (docs/serving.md).
# Only stderr is used before the server starts: stdout is the MCP stdio channel.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run() { "$ROOT/scripts/run.sh" "$@"; }
what="${1:?usage: scripts/serve.sh api|mcp [server arguments]}"
shift
if [ -z "${SHOPSEG_SERVE_DSN:-}" ]; then
  run python -m shopseg.serve.role >&2
fi
case "$what" in
  api) exec "$ROOT/scripts/run.sh" python -m shopseg.serve.api "$@" ;;
  mcp) exec "$ROOT/scripts/run.sh" python -m shopseg.serve.mcp_server "$@" ;;
  *) echo "usage: scripts/serve.sh api|mcp [server arguments]" >&2; exit 2 ;;
esac
