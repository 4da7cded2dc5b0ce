#!/usr/bin/env bash
# The whole test suite (what CI runs): the Python linter (ruff, about a second; a finding stops
# here), `dbt build` into a fresh database with generated data, then sqlfluff lint (its dbt templater compiles against a copy of that database) and pytest
# against the real server, side by side. Exits non-zero on any failure.
#
# The database built in step 1 is the tiny shop of the pytest fixture `built_db` (same generator
# arguments as tests/conftest.py BUILT_DB_ARGS): pytest copies it with CREATE DATABASE ... TEMPLATE
# instead of building it again. pytest runs on SHOPSEG_TEST_WORKERS xdist workers (default 2,
# `0` = no xdist), longest work units first (--no-loadscope-reorder keeps the conftest's order), and
# prints the 10 slowest tests (PYTEST_DURATIONS to change). dbt runs inside pytest, one parse per
# set of --vars (tests/dbt_in_process.py). The lint runs
# beside pytest on its own copy (a template must have no other sessions while it is copied), in one
# process: pytest's two workers already keep both cores busy, and each extra sqlfluff process loads
# the dbt project again (measured: 148 s of CPU with --processes 2, 131 s with 1). The lint database
# keeps only a set of axes that covers every kind of axis the catalog has (scripts/lint_catalog.sql):
# the four models unrolled over the axes were 70% of the lint's CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
run() { "$ROOT/scripts/run.sh" "$@"; }
TEST_DB="${SHOPSEG_TEST_DB:-shopseg_ci}"
LINT_DB="${TEST_DB}_lint"
CUSTOMERS="${SHOPSEG_TEST_CUSTOMERS:-3000}"
WORKERS="${SHOPSEG_TEST_WORKERS:-2}"
started=$SECONDS
elapsed() { echo "($(( SECONDS - started )) s since the start)"; }
admin() { run psql -X -q -d postgres -v ON_ERROR_STOP=1 "$@"; }

echo "== 0/3 ruff check + ruff format --check (scripts/ruff.sh)"
"$ROOT/scripts/ruff.sh"

echo "== 1/3 dbt build into a fresh database ($TEST_DB)"
admin -c "drop database if exists \"$TEST_DB\" with (force)" -c "drop database if exists \"$LINT_DB\" with (force)" \
  -c "create database \"$TEST_DB\""
run psql -X -q -d "$TEST_DB" -v ON_ERROR_STOP=1 -c "create extension plpython3u"
PGDATABASE="$TEST_DB" SHOPSEG_DSN="postgresql://$PGUSER@$PGHOST:$PGPORT/$TEST_DB" \
  run python -m shopseg.generate --customers "$CUSTOMERS" --seed 11 --quiet
PGDATABASE="$TEST_DB" run dbt build --target-path target/ci --log-path logs/ci
admin -c "create database \"$LINT_DB\" template \"$TEST_DB\""
# the lint compiles against a covering subset of the axis catalog (scripts/lint_catalog.sql)
run psql -X -q -d "$LINT_DB" -v ON_ERROR_STOP=1 -v catalog_schema="${SHOPSEG_SCHEMA:-analytics}_catalog" \
  -f "$ROOT/scripts/lint_catalog.sql"
build_s=$(( SECONDS - started ))
echo "   build done $(elapsed)"

echo "== 2/3 sqlfluff lint, in the background (the dbt templater compiles against $LINT_DB)"
lint_log="$ROOT/logs/ci/sqlfluff.log"
mkdir -p "$(dirname "$lint_log")"
( lint_started=$SECONDS
  rc=0; PGDATABASE="$LINT_DB" run sqlfluff lint --processes 1 models analyses snapshots tests/assert_*.sql \
    > "$lint_log" 2>&1 || rc=$?
  echo "$rc $(( SECONDS - lint_started ))" > "$lint_log.rc" ) &
lint_pid=$!

echo "== 3/3 pytest (built_db = copies of $TEST_DB)"
xdist=()
[ "$WORKERS" = "0" ] || xdist=(-n "$WORKERS" --dist loadgroup --no-loadscope-reorder)
pytest_rc=0
pytest_started=$SECONDS
SHOPSEG_TEST_DSN="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres" \
SHOPSEG_TEST_CUSTOMERS="$CUSTOMERS" SHOPSEG_TEST_BUILT_TEMPLATE="$TEST_DB" SHOPSEG_TEST_BUILT_TARGET="$ROOT/target/ci" \
  run python -m pytest -q "${xdist[@]}" --durations="${PYTEST_DURATIONS:-10}" tests || pytest_rc=$?
pytest_s=$(( SECONDS - pytest_started ))
echo "   pytest done $(elapsed)"

wait "$lint_pid" || true
read -r lint_rc lint_s < "$lint_log.rc" 2>/dev/null || { lint_rc=1; lint_s=0; }
echo "== sqlfluff lint (2/3) output"
cat "$lint_log"
admin -c "drop database if exists \"$LINT_DB\" with (force)"
echo "== done $(elapsed): pytest exit $pytest_rc, sqlfluff exit $lint_rc"
# the wall time for the benchmark's targets table (shopseg/bench/report.py)
printf '{"wall_s": %d, "build_s": %d, "pytest_s": %d, "lint_s": %d, "workers": "%s", "pytest_exit": %d, "lint_exit": %d, "finished_at": "%s"}\n' \
  "$(( SECONDS - started ))" "$build_s" "$pytest_s" "$lint_s" "$WORKERS" "$pytest_rc" "$lint_rc" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$ROOT/target/ci/make_test.json"
[ "$pytest_rc" = 0 ] && [ "$lint_rc" = 0 ]
