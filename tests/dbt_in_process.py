"""dbt in the pytest process, parsing the project once per set of `--vars` (issue 19, 4-minute suite).

`conftest.run_dbt` calls `invoke` instead of starting a `dbt` subprocess (SHOPSEG_TEST_DBT_IN_PROCESS=0
turns this off). A subprocess pays Python start-up and dbt's imports (2-4 s) and, on every new
database or new `--vars`, a full parse of the project (8-20 s on the shared 2-core machine):
dbt's partial-parse state is keyed by the connection's database name and the command-line vars,
and each test has its own database.

Here the project is parsed once per (vars, profile environment) in each pytest process with
`dbt parse` (dbt's programmatic `dbtRunner`), and every later invocation with the same vars gets a
fresh copy of that manifest (`dbtRunner(manifest=...)`, which skips parsing). Why that is correct:

  * the parse depends on the project files (unchanged during a test run: no test edits the
    project, tests with their own projects run dbt as a subprocess in their own directories), the
    command-line vars and the profile (both part of the cache key, as in dbt's own partial-parse
    state check; except RUNTIME_ONLY_VARS, which the parse does not read into the manifest),
    and the target database's NAME, which dbt writes into every node's `database` and
    `relation_name`. The copy is re-pointed at the invocation's database (`_retarget`): every
    node, source, snapshot, seed, test that named the parse database names the new one, and the
    `graph` context variable (manifest.flat_graph) is rebuilt from them;
  * the run itself is not cached: the runtime config (profile with the new database, the vars,
    `--full-refresh`, `--select`) is built by dbt for each invocation as in a subprocess, and
    each copy is compiled afresh (compiling writes into the manifest, hence a copy per invocation,
    unpickled from the parse).

The console output is captured (dbt's own `capture_stdout_logs`) and returned as `stdout` of a
`subprocess.CompletedProcess` with dbt's exit codes (0 success, 1 failure, 2 error), so the tests
read it exactly as a subprocess's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import io
import json
import os
import pickle
import subprocess
import threading
import time
from pathlib import Path

_LOCK = threading.Lock()  # dbt keeps global state (flags, adapters, event manager): one at a time
# key -> (the manifest's fields, pickled; the database it was parsed for)
_MANIFESTS: dict[tuple, tuple[bytes, str]] = {}
# the profile's environment (profiles.yml reads these): part of the manifest key
_PROFILE_ENV = ("SHOPSEG_TARGET", "PGHOST", "PGPORT", "PGUSER", "SHOPSEG_SCHEMA", "DBT_PROFILES_DIR")
# a directory private to one pytest run (set by conftest): a parsed manifest is pickled there, so the
# other xdist worker loads it instead of parsing the same project with the same vars again
SHARED_DIR: Path | None = None
STATS = {"invocations": 0, "parses": 0, "parse_s": 0.0, "run_s": 0.0, "calls": []}


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


# Vars that only the SQL of models and tests reads, at compile time (never a config, a ref, a
# source or a YAML property): the manifest a parse produces is the same whatever their values, and
# dbt reads them from the invocation's own --vars when it compiles. They are left out of the parse
# key, so e.g. every pinned reference date shares one parse. tests/test_dbt_in_process.py parses
# with all of them set and checks the manifest is the parse without them, node for node (e.g.
# allow_empty_orders is not here: it removes assert_sources_not_empty's edge to the orders source).
# The discovery vars reach the Python model segment_centroids through dbt_plpython's runtime_vars
# (read when the model runs), and the sample quotas only int_discovery_sample's SQL.
RUNTIME_ONLY_VARS = frozenset(
    {"reference_date", "test_scope", "centroid_version", "reporting_currency", "key_types"}
    | {"kmeans_k_max", "kmeans_max_iter", "min_cluster_share", "sample_seed", "min_customers_per_axis"}
    | {"silhouette_sample_size", "rediscover", "rediscover_after_days", "rediscover_on_drift", "on_identity_change"}
    | {"sample_quota_vip", "sample_quota_high", "sample_quota_mid", "sample_quota_low"}
    | {"start_over"}  # read only by the on-run-start hook shopseg_start_over, when it runs
)


def _vars_key(args: list[str]) -> str:
    """The command-line vars as dbt reads them (a YAML mapping), normalised like dbt's own state
    check (sorted), so `{a: 1, b: 2}` and `{b: 2, a: 1}` share a parse; without RUNTIME_ONLY_VARS."""
    raw = _option(args, "--vars")
    if not raw:
        return "{}"
    import yaml

    parsed = {k: v for k, v in (yaml.safe_load(raw) or {}).items() if k not in RUNTIME_ONLY_VARS}
    return json.dumps(parsed, sort_keys=True, default=str)


@contextlib.contextmanager
def _environment(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _fields(manifest) -> dict:
    """A Manifest's public fields. Copies and pickles go through this dict, not the Manifest:
    dbt 1.11's `Manifest.__reduce_ex__` (what deepcopy and pickle use) leaves out the
    `fixtures` field, which shifts its positional arguments (a copied manifest's `_ref_lookup`
    lands in the wrong field: "RefableLookup.find() missing 1 required positional argument")."""
    return {
        f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest) if f.init and not f.name.startswith("_")
    }


def _retarget(pickled: bytes, old: str, new: str):
    """A new Manifest from a fresh copy of the pickled fields, every reference to database `old`
    pointing at `new`. The copy is unpickled, not deep-copied: one pickle of the whole dict keeps
    the references between fields shared, as one deepcopy did, and loading it takes about a third
    of the time (0.2 s against 0.55 s for this project's manifest; the other xdist worker has always
    used the pickle the first one wrote)."""
    from dbt.contracts.graph.manifest import Manifest

    manifest = Manifest(**pickle.loads(pickled))
    if old == new:
        return manifest
    quoted_old, quoted_new = f'"{old}".', f'"{new}".'
    groups = [manifest.nodes, manifest.sources, manifest.unit_tests]
    groups += [getattr(manifest, name, {}) for name in ("snapshots", "seeds", "functions")]
    for group in groups:
        for node in group.values():
            if getattr(node, "database", None) == old:
                node.database = new
            relation_name = getattr(node, "relation_name", None)
            if relation_name and relation_name.startswith(quoted_old):
                node.relation_name = quoted_new + relation_name[len(quoted_old) :]
    # the `graph` context variable (macros reading graph.nodes, e.g. the daily test scope's
    # relation in macros/tests/test_scope.sql) is this dict built at parse: build it from the
    # re-pointed nodes, or it would still name the parse database
    if manifest.flat_graph:
        manifest.build_flat_graph()
    return manifest


def _shared_path(key: tuple) -> Path | None:
    if SHARED_DIR is None:
        return None
    return SHARED_DIR / (hashlib.sha256(repr(key).encode()).hexdigest()[:16] + ".pickle")


@contextlib.contextmanager
def _shared_lock(key: tuple):
    path = _shared_path(key)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _load_shared(key: tuple) -> dict:
    """The manifest another pytest process of this run parsed for `key`, if any."""
    path = _shared_path(key)
    if path is None or not path.exists():
        return {}
    with open(path, "rb") as f:
        return {key: pickle.load(f)}


def _save_shared(key: tuple, entry: tuple) -> None:
    path = _shared_path(key)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with open(partial, "wb") as f:
        pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)  # atomic: a reader sees a whole pickle or none


def _capture(runner, args: list[str]):
    from dbt_common.events.functions import capture_stdout_logs, stop_capture_stdout_logs

    stream = io.StringIO()
    capture_stdout_logs(stream)
    try:
        result = runner.invoke(args)
    finally:
        stop_capture_stdout_logs()
    return result, stream.getvalue()


@contextlib.contextmanager
def _no_manifest_json():
    """dbt writes target/manifest.json after every command (~0.8 s for this project's 600-odd
    nodes: serialising every node, 1-3 s on the loaded machine), and the invocation's manifest is
    the parse's, which the tests never read from a per-test target dir. run_results.json (which
    tests and the report read) is written as before; `invoke(..., manifest_json=True)` keeps the
    manifest too (built_template: test_persist_docs reads the built shop's)."""
    import dbt.task.runnable as runnable

    write_manifest = runnable.write_manifest
    runnable.write_manifest = lambda *args, **kwargs: None
    try:
        yield
    finally:
        runnable.write_manifest = write_manifest


def invoke(args: list[str], env: dict[str, str], cwd: str, manifest_json: bool = False) -> subprocess.CompletedProcess:
    """Run `dbt *args` in this process with `env` (PGDATABASE names the database); the result
    looks like `subprocess.run(["dbt", *args], capture_output=True, text=True)`'s, but for the
    target dir's manifest.json, written only with `manifest_json` (_no_manifest_json)."""
    from dbt.cli.main import dbtRunner

    database = env["PGDATABASE"]
    key = (_vars_key(args), tuple(env.get(name, "") for name in _PROFILE_ENV))
    with _LOCK, _environment(env), contextlib.chdir(cwd):
        STATS["invocations"] += 1
        parse_out, parsed_now = "", False
        with _shared_lock(key):  # the other worker waits for one parse of the same key, then loads it
            if key not in _MANIFESTS:
                _MANIFESTS.update(_load_shared(key))
            if key not in _MANIFESTS:
                parse_out, parsed_now = _parse(key, args, database), True
        if key not in _MANIFESTS:  # a parse error: report it as the command's own failure
            return subprocess.CompletedProcess(["dbt", *args], 2, parse_out, "")
        manifest, parsed_for = _MANIFESTS[key]
        started, cpu_started = time.perf_counter(), time.process_time()
        with contextlib.nullcontext() if manifest_json else _no_manifest_json():
            result, out = _capture(dbtRunner(manifest=_retarget(manifest, parsed_for, database)), list(args))
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started  # this process's CPU (dbt's threads): load-proof
        STATS["run_s"] += seconds
        STATS["run_cpu_s"] = STATS.get("run_cpu_s", 0.0) + cpu_seconds
        # which test ran which dbt command for how long (target/pytest/dbt_in_process_<worker>.json)
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
        command = [a for a in args if not a.startswith("target/pytest")][:12]
        STATS["calls"].append(
            {"test": test, "args": command, "parse": parsed_now, "s": round(seconds, 2), "cpu_s": round(cpu_seconds, 2)}
        )
    if result.success:
        code = 0
    elif result.exception is None:
        code = 1
    else:
        code = 2
        message = str(result.exception)
        if message and message not in out:  # a subprocess prints the error; so do we
            out += "\n" + message + "\n"
    return subprocess.CompletedProcess(["dbt", *args], code, out, "")


def _parse(key: tuple, args: list[str], database: str) -> str:
    """`dbt parse` with the invocation's vars and dirs; caches and shares the manifest; returns
    the parse's console output (with the error when it failed)."""
    from dbt.cli.main import dbtRunner

    started = time.perf_counter()
    # parse with the invocation's vars and target dir (--vars, --target-path, --log-path)
    parse_args = ["parse", "--no-write-json"]
    for name in ("--vars", "--target-path", "--log-path", "--profiles-dir", "--target", "--profile"):
        value = _option(args, name)
        if value is not None:
            parse_args += [name, value]
    parsed, parse_out = _capture(dbtRunner(), parse_args)
    STATS["parses"] += 1
    STATS["parse_s"] += time.perf_counter() - started
    if not parsed.success:
        return parse_out + "\n" + str(parsed.exception or "dbt parse failed") + "\n"
    _MANIFESTS[key] = (pickle.dumps(_fields(parsed.result), protocol=pickle.HIGHEST_PROTOCOL), database)
    _save_shared(key, _MANIFESTS[key])
    return parse_out
