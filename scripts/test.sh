#!/usr/bin/env bash
# The whole test suite (what CI runs): `dbt build` into a fresh database with generated data,
# sqlfluff lint (its dbt templater compiles against that database), then pytest against the
# real server. Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
run() { "$ROOT/scripts/run.sh" "$@"; }
TEST_DB="${SHOPSEG_TEST_DB:-shopseg_ci}"

echo "== 1/3 dbt build into a fresh database ($TEST_DB)"
run psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "drop database if exists \"$TEST_DB\" with (force)" \
  -c "create database \"$TEST_DB\""
run psql -X -q -d "$TEST_DB" -v ON_ERROR_STOP=1 -c "create extension plpython3u"
PGDATABASE="$TEST_DB" SHOPSEG_DSN="postgresql://$PGUSER@$PGHOST:$PGPORT/$TEST_DB" \
  run python -m shopseg.generate --preset tiny --seed 7 --quiet
PGDATABASE="$TEST_DB" run dbt build --target-path target/ci --log-path logs/ci

echo "== 2/3 sqlfluff lint (the dbt templater compiles against the database just built)"
PGDATABASE="$TEST_DB" run sqlfluff lint --processes 2 models analyses snapshots tests/assert_*.sql

echo "== 3/3 pytest"
SHOPSEG_TEST_DSN="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres" run python -m pytest -q tests
