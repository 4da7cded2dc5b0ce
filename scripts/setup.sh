#!/usr/bin/env bash
# Idempotent setup of everything the project needs on a Debian/Ubuntu machine:
#   1. system packages (PostgreSQL 15 server, PL/Python, numpy and scikit-learn for the server's Python)
#   2. the Python virtual environment (.venv) from requirements.txt, and the dbt packages (dbt deps)
#   3. a project-local PostgreSQL cluster (.pg/, its own port), started
#   4. the demo database with plpython3u, and a dbt profile (profiles.yml) pointing at it
# Safe to run again: every step checks before it acts. Works as root or as a normal user
# (initdb/pg_ctl refuse root, so as root they run as the unprivileged `postgres` OS user).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

log() { printf '[setup] %s\n' "$*" >&2; }

# ---- 1. system packages ------------------------------------------------------------------
need_pkgs=()
[ -x "$PG_BIN/initdb" ] || need_pkgs+=(postgresql-15 postgresql-contrib)
[ -f "/usr/lib/postgresql/15/lib/plpython3.so" ] || need_pkgs+=(postgresql-plpython3-15)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need_pkgs+=(python3-numpy)
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || need_pkgs+=(python3-sklearn)
command -v python3 >/dev/null || need_pkgs+=(python3 python3-venv)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing system packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# ---- 2. virtual environment --------------------------------------------------------------
stamp="$VENV/.requirements.sha"
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating the virtual environment in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
fi

# ---- 2b. dbt packages (packages.yml: the in-repo dbt_plpython package) ----------------------
# `dbt deps` links packages/dbt_plpython into dbt_packages/; redone only when packages.yml changed
# or the link does not point at this checkout's package (a moved or copied checkout).
deps_stamp="dbt_packages/.packages.sha"
deps_want="$(sha256sum packages.yml | cut -d' ' -f1)"
if [ "$(cat "$deps_stamp" 2>/dev/null)" != "$deps_want" ] \
   || [ "$(readlink -f dbt_packages/dbt_plpython 2>/dev/null)" != "$(readlink -f packages/dbt_plpython)" ]; then
  log "installing dbt packages (dbt deps)"
  rm -rf dbt_packages
  "$VENV/bin/dbt" deps --project-dir "$ROOT" --log-path "$ROOT/logs" >/dev/null
  echo "$deps_want" > "$deps_stamp"
fi

# ---- 3. project-local PostgreSQL cluster -------------------------------------------------
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then
  # the postgres OS user must be able to reach and own the data directory
  mkdir -p "$PG_HOME"
  chown postgres:postgres "$PG_HOME"
  chmod 0755 "$PG_HOME"
  # make every parent directory traversable for the postgres user
  d="$PG_HOME"; while [ "$d" != "/" ]; do d="$(dirname "$d")"; chmod o+x "$d" 2>/dev/null || true; done
else
  mkdir -p "$PG_HOME"
fi
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  log "initialising the project-local cluster in $PGDATA (port $PGPORT)"
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U "$PGUSER" --auth=trust -E UTF8 --locale=C >/dev/null
  as_pg mkdir -p "$PG_SOCKET_DIR"
  as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null <<CONF

# ---- shopseg project-local settings (see docs/decisions.md) ----
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PG_SOCKET_DIR'
logging_collector = on
log_directory = 'log'
log_min_duration_statement = -1
CONF
fi
# The measured settings (docs/decisions.md, docs/benchmarks.md "Settings"), rewritten on every run
# so an existing cluster gets a changed value too (reloaded below; shared_buffers and wal_level
# need a restart: `make stop && make setup`). The include is the last line of postgresql.conf, so
# it also wins over the values an older setup wrote there.
settings="$(cat <<SETTINGS
# written by scripts/setup.sh on every run: edit there, not here
shared_buffers = '1GB'
work_mem = '64MB'
hash_mem_multiplier = 2
maintenance_work_mem = '512MB'
max_parallel_workers_per_gather = 2
jit = off
synchronous_commit = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = '4GB'
checkpoint_timeout = '30min'
fsync = on
SETTINGS
)"
settings_changed=0
if [ "$(as_pg cat "$PGDATA/shopseg.conf" 2>/dev/null)" != "$settings" ]; then
  printf '%s\n' "$settings" | as_pg tee "$PGDATA/shopseg.conf" >/dev/null
  settings_changed=1
fi
if ! as_pg grep -qx "include_if_exists = 'shopseg.conf'" "$PGDATA/postgresql.conf"; then
  printf "%s\n" "# the measured settings, rewritten by scripts/setup.sh" "include_if_exists = 'shopseg.conf'" \
    | as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null
  settings_changed=1
fi
if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  log "starting PostgreSQL on port $PGPORT"
  as_pg mkdir -p "$PG_SOCKET_DIR"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_HOME/server.log" -w -t 60 start >/dev/null
elif [ "$settings_changed" = 1 ]; then
  log "settings changed: reloading PostgreSQL"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" reload >/dev/null
fi

# ---- 4. database, extension, dbt profile -------------------------------------------------
psql_admin() { "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" -d postgres -v ON_ERROR_STOP=1 "$@"; }
for db in "$PGDATABASE" ${EXTRA_DATABASES:-}; do
  if [ -z "$(psql_admin -tAc "select 1 from pg_database where datname = '$db'")" ]; then
    log "creating database $db"
    psql_admin -c "create database \"$db\""
  fi
  "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" -d "$db" -v ON_ERROR_STOP=1 \
    -c "create extension if not exists plpython3u"
done

if [ ! -f "$ROOT/profiles.yml" ]; then
  log "writing profiles.yml for the project-local cluster"
  cp "$ROOT/profiles.yml.example" "$ROOT/profiles.yml"
fi
log "ready: $(dsn)"
