# Shared settings for the project's shell scripts; source it, don't run it.
# Every value can be overridden from the environment.
SHOPSEG_ROOT="${SHOPSEG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export VENV="${VENV:-$SHOPSEG_ROOT/.venv}"
export PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
export PG_HOME="${PG_HOME:-$SHOPSEG_ROOT/.pg}"
export PGDATA="${PGDATA_LOCAL:-$PG_HOME/data}"
export PG_SOCKET_DIR="$PG_HOME/run"
export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-55432}"
export PGUSER="${PGUSER:-postgres}"
export PGDATABASE="${PGDATABASE:-shopseg}"
export DBT_PROFILES_DIR="${DBT_PROFILES_DIR:-$SHOPSEG_ROOT}"
dsn() { printf 'postgresql://%s@%s:%s/%s\n' "$PGUSER" "$PGHOST" "$PGPORT" "$PGDATABASE"; }
