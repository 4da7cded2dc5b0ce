"""Shared fixtures: every test runs against the real PostgreSQL server of SHOPSEG_TEST_DSN
(default: the project-local cluster that `make setup` starts), never a mock.

    fresh_database(name_prefix)  -> a new empty database (plpython3u enabled), dropped afterwards
    generate(dsn, *args)         -> run the demo-data generator CLI into a database
    run_dbt(dbname, *args)       -> run dbt against a database, output captured, returns CompletedProcess
                                    (in this process, one parse per set of --vars: tests/dbt_in_process.py)
    built_db                     -> (session) a tiny generated database after a full `dbt build`
    MODELS_ONLY                  -> `dbt build` arguments that leave out the data and unit tests
    REBUILD_MODELS               -> MODELS_ONLY without seeds and functions, for re-builds (see its comment)
    clone_database(source, prefix) -> a copy of a database (CREATE DATABASE ... TEMPLATE), dropped afterwards
    clone_of_built_db            -> a private copy of built_db (CREATE DATABASE ... TEMPLATE), dropped afterwards

Speed (docs/decisions.md, issue 19): the tiny shop is built ONCE per pytest run and copied with
`CREATE DATABASE ... TEMPLATE` (about a second) wherever a built database is needed:
  * scripts/test.sh builds it before the lint and names it in SHOPSEG_TEST_BUILT_TEMPLATE (and its
    dbt target dir in SHOPSEG_TEST_BUILT_TARGET), so pytest does not build it a second time;
  * otherwise the first pytest process that needs it builds it under a file lock, and the other
    xdist workers copy it; the controller drops it at the end of the run.
The work units go longest first (target/pytest/durations.json of the last run, else the measured
tests/durations.json; scripts/test.sh passes --no-loadscope-reorder to keep that order).
Each xdist worker gets its own copy as `built_db`, so tests that change built_db and restore it
never race with another worker. Tests that share a module-scoped fixture are kept on one worker
(pytest_collection_modifyitems below), so a module fixture's build runs once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dbt_in_process  # tests/ is on sys.path (pytest's rootdir-relative conftest import)
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from shopseg import settings

ROOT = Path(__file__).resolve().parents[1]
BASE_DSN = settings.test_dsn()
VENV_BIN = Path(sys.executable).parent
TINY_CUSTOMERS = int(os.environ.get("SHOPSEG_TEST_CUSTOMERS", "3000"))
# the generator arguments of built_db (scripts/test.sh builds its template with the same ones)
BUILT_DB_ARGS = ("--customers", str(TINY_CUSTOMERS), "--seed", "11")
# one id per pytest run, shared by the xdist workers (they inherit the controller's environment)
# dbt runs inside the pytest process (tests/dbt_in_process.py); 0 = a `dbt` subprocess per call
DBT_IN_PROCESS = os.environ.get("SHOPSEG_TEST_DBT_IN_PROCESS", "1") != "0"
RUN_ID = os.environ.setdefault("SHOPSEG_TEST_RUN", secrets.token_hex(4))
dbt_in_process.SHARED_DIR = ROOT / "target" / "pytest" / f"manifests_{RUN_ID}"


def dsn_for(dbname: str) -> str:
    params = conninfo_to_dict(BASE_DSN)
    params["dbname"] = dbname
    return make_conninfo(**params)


@contextlib.contextmanager
def fresh_database(prefix: str = "shopseg_t"):
    """A new database with plpython3u, dropped (with force) when the block ends."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(BASE_DSN, autocommit=True) as con:
        con.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(dsn_for(name), autocommit=True) as con:
            con.execute("create extension if not exists plpython3u")
        yield name
    finally:
        with psycopg.connect(BASE_DSN, autocommit=True) as con:
            con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def generate(dbname: str, *args: str) -> None:
    """Run `python -m shopseg.generate` into `dbname`; raises with its output on failure."""
    cmd = [sys.executable, "-m", "shopseg.generate", "--dsn", dsn_for(dbname), "--quiet", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"generator failed:\n{done.stdout}\n{done.stderr}")


def dbt_env(dbname: str) -> dict[str, str]:
    """The environment a dbt run of the project against `dbname` needs (profile vars, the venv)."""
    params = conninfo_to_dict(dsn_for(dbname))
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": params.get("host", "127.0.0.1"),
            "PGPORT": str(params.get("port", "5432")),
            "PGUSER": params.get("user", "postgres"),
            "PGDATABASE": dbname,
            "DBT_PROFILES_DIR": str(ROOT),
            "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
        }
    )
    if params.get("password"):
        env["PGPASSWORD"] = params["password"]
    return env


def run_dbt(dbname: str, *args: str, check: bool = True, target_dir: str | None = None, manifest_json: bool = False):
    """Run dbt in the project against `dbname` (own target/log dirs, so runs don't collide).
    In process, the target dir gets run_results.json but no manifest.json unless `manifest_json`
    (tests/dbt_in_process.py _no_manifest_json); a dbt subprocess writes both."""
    env = dbt_env(dbname)
    work = target_dir or f"target/pytest/{dbname}"
    dbt_args = [*args, "--target-path", work, "--log-path", f"{work}/logs"]
    if DBT_IN_PROCESS:  # parse once per vars, no interpreter start-up (tests/dbt_in_process.py)
        done = dbt_in_process.invoke(dbt_args, env, str(ROOT), manifest_json=manifest_json)
    else:
        done = subprocess.run(
            [str(VENV_BIN / "dbt"), *dbt_args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
        )
    if check and done.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}")
    return done


# `dbt build` without the data and unit tests (models, seeds, snapshots, functions, grants): for the
# builds that set up or move a scenario whose assertions are SQL on the outputs. Every dbt test of the
# DAG still runs where it is the thing checked: scripts/test.sh's build of built_db, the bad_db build
# (warnings), the builds that must stop, the shapes, the source formats and the test-scope tests.
MODELS_ONLY = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
# MODELS_ONLY without the seeds and the Python functions, for a RE-build of a scenario whose claim
# is about the models: valid only on a database whose seeds and functions an earlier build of this
# project (same seed CSVs, same python_udfs/) already loaded and deployed, and that the test has
# not changed since (a seed table or a function the test edits is not restored by this build).
# Reloading unchanged seeds and re-deploying unchanged functions (14 of the ~63 nodes) changes
# nothing the models read. Not for a database's first build, nor where the point is that a whole
# build (seeds included) is idempotent, all-or-nothing or keeps grants and readers whole.
REBUILD_MODELS = (*MODELS_ONLY, "--exclude-resource-type", "seed", "--exclude-resource-type", "function")


def query(dbname: str, statement: str, params=None):
    with psycopg.connect(dsn_for(dbname)) as con:
        return con.execute(statement, params).fetchall()


def _admin(statement: sql.Composable) -> None:
    with psycopg.connect(BASE_DSN, autocommit=True) as con:
        con.execute(statement)


def _database_exists(name: str) -> bool:
    with psycopg.connect(BASE_DSN, autocommit=True) as con:
        return con.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is not None


def _own_template_name() -> str:
    return f"shopseg_tpl_{RUN_ID}"


def built_template() -> tuple[str, Path]:
    """(database, dbt target dir) of the tiny shop after one full `dbt build`, built once per run.
    Never connected to after the build: it is only a template for copies."""
    given = os.environ.get("SHOPSEG_TEST_BUILT_TEMPLATE")
    if given:
        target = Path(os.environ.get("SHOPSEG_TEST_BUILT_TARGET", f"target/pytest/{given}"))
        return given, target if target.is_absolute() else ROOT / target
    name = _own_template_name()
    target = ROOT / "target" / "pytest" / name
    lock_path = ROOT / "target" / "pytest" / f"{name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the one build
        if not (target / "built").exists():
            _admin(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            _admin(sql.SQL("create database {}").format(sql.Identifier(name)))
            with psycopg.connect(dsn_for(name), autocommit=True) as con:
                con.execute("create extension if not exists plpython3u")
            generate(name, *BUILT_DB_ARGS)
            run_dbt(name, "build", target_dir=str(target), manifest_json=True)  # test_persist_docs reads it
            (target / "built").write_text(name)
    return name, target


@contextlib.contextmanager
def clone_database(source: str, prefix: str, source_target: Path | None = None):
    """A copy of `source` (CREATE DATABASE ... TEMPLATE), dropped afterwards. The source's last
    run_results.json is copied to the clone's dbt target dir (tests read build results there)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    for attempt in range(20):  # a template must have no other sessions while it is copied
        try:
            _admin(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source)))
            break
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.5)
    try:
        if source_target is not None and (source_target / "run_results.json").exists():
            target = ROOT / "target" / "pytest" / name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source_target / "run_results.json", target / "run_results.json")
        yield name
    finally:
        _admin(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def built_db():
    """A tiny generated shop after one full `dbt build`: the database name (this worker's copy)."""
    template, target = built_template()
    with clone_database(template, "shopseg_built", target) as name:
        yield name


@pytest.fixture
def clone_of_built_db(built_db):
    """A private copy of the tiny built shop for a test that changes it: the database name."""
    template, target = built_template()
    with clone_database(template, "shopseg_clone", target) as name:
        yield name


# ---- pytest-xdist: keep the tests of one module-scoped fixture on one worker --------------------


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the marks into group ids
def pytest_collection_modifyitems(config, items):
    """Tests that share a module- or class-scoped fixture (directly or through other fixtures) get
    one xdist_group, so with `--dist loadgroup` that fixture is set up on one worker only; the
    other tests are spread freely. No effect without xdist."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys_of = {}
    for item in items:
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        module = getattr(getattr(item, "module", None), "__name__", item.nodeid.split("::")[0])
        keys = [
            f"{module}::{name}"
            for name in item.fixturenames
            if defs.get(name) and defs[name][-1].scope in ("module", "class", "package")
        ]
        keys_of[item] = keys
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
    for item, keys in keys_of.items():
        if keys:
            item.add_marker(pytest.mark.xdist_group(find(keys[0])))
    # longest work units first, so neither worker is left with a long one at the end (scripts/test.sh
    # passes --no-loadscope-reorder, which keeps this order; xdist's default orders by test count)
    unit_of = {item: find(keys_of[item][0]) if keys_of[item] else item.nodeid for item in items}
    cost = _unit_costs(items, unit_of)
    first_index = {}
    for index, item in enumerate(items):
        first_index.setdefault(unit_of[item], index)
    items.sort(key=lambda item: (-cost[unit_of[item]], first_index[unit_of[item]]))


# the measured seconds of each test of the last run (written by the controller at the end of a run);
# a fresh clone uses tests/durations.json (the tests of 2 s or more of a measured full run,
# docs/benchmarks.md "The test suite"; a test not listed counts 1 s)
DURATIONS_FILE = ROOT / "target" / "pytest" / "durations.json"
MEASURED_DURATIONS = Path(__file__).resolve().parent / "durations.json"
_DURATIONS: dict[str, float] = {}


def _unit_costs(items, unit_of) -> dict[str, float]:
    """The seconds of each work unit: the sum of its tests' last measured durations."""
    last = {}
    for path in (DURATIONS_FILE, MEASURED_DURATIONS):
        try:
            last = json.loads(path.read_text())
            break
        except (OSError, ValueError):
            continue
    cost: dict[str, float] = {}
    for item in items:
        cost[unit_of[item]] = cost.get(unit_of[item], 0.0) + last.get(item.nodeid, 1.0)
    return cost


def pytest_runtest_logreport(report):
    """Sums each test's setup, call and teardown seconds (in the controller under xdist)."""
    nodeid = report.nodeid.split("@", 1)[0]  # xdist appends @<group> to grouped tests' ids
    _DURATIONS[nodeid] = _DURATIONS.get(nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    """The controller (or a run without xdist) drops the template it built for this run. Each
    process writes its in-process dbt figures (invocations, parses, seconds) to
    target/pytest/dbt_in_process_<worker>.json (docs/benchmarks.md)."""
    if dbt_in_process.STATS["invocations"]:
        worker = getattr(session.config, "workerinput", {}).get("workerid", "main")
        out = ROOT / "target" / "pytest" / f"dbt_in_process_{worker}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(dbt_in_process.STATS, indent=2))
    if hasattr(session.config, "workerinput"):
        return
    if _DURATIONS:  # merged into the last figures, so a run of a few tests keeps the others'
        try:
            durations = json.loads(DURATIONS_FILE.read_text())
        except (OSError, ValueError):
            durations = {}
        durations.update({nodeid: round(seconds, 2) for nodeid, seconds in _DURATIONS.items()})
        DURATIONS_FILE.parent.mkdir(parents=True, exist_ok=True)
        DURATIONS_FILE.write_text(json.dumps(durations, indent=1, sort_keys=True))
    shutil.rmtree(dbt_in_process.SHARED_DIR, ignore_errors=True)  # this run's shared parses
    if os.environ.get("SHOPSEG_TEST_BUILT_TEMPLATE"):
        return
    name = _own_template_name()
    try:
        if _database_exists(name):
            _admin(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    except psycopg.Error:
        pass
