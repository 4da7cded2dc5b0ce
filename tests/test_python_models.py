"""The dbt_plpython package (packages/dbt_plpython): Python models and Python UDFs on
dbt-postgres, end to end against a real server.

The package's integration project packages/dbt_plpython/integration_tests/ is a standalone
dbt-postgres project with no shopseg code: it installs the package from ../ (`dbt deps`, run
here first), and builds Python table / incremental models and its own Python UDF. A fresh
database `pym_<random>` is created for the module and dropped afterwards; dbt writes its profile,
target and logs into a pytest tmp dir, so concurrent runs do not collide.

Server: SHOPSEG_TEST_DSN (default postgresql://postgres@127.0.0.1:55432/postgres), a role that
may create databases and the plpython3u extension; the server's Python needs numpy and sklearn.
dbt runs: `dbt deps`, one `dbt build` for every model but py_missing_module, then three targeted
`dbt run`s (failing rebuild; second incremental batch with the failing preflight and
on_schema_change: fail; preflight after dropping plpython3u).
"""

from __future__ import annotations

import datetime as dt
import decimal
import getpass
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "packages" / "dbt_plpython"
FIXTURE = PACKAGE / "integration_tests"
UDF_FILE = FIXTURE / "functions" / "plpython_runtime_info.py"
DSN = os.environ.get("SHOPSEG_TEST_DSN", "postgresql://postgres@127.0.0.1:55432/postgres")
SCHEMA = "pym"  # the profile's schema: models and functions land here
RAW_SCHEMA = "pym_raw"  # the fixture's source schema ("{{ target.schema }}_raw")
DBT_TIMEOUT = 300

PROFILE = (
    """\
dbt_plpython_integration_tests:
  target: test
  outputs:
    test:
      type: postgres
      host: "{{ env_var('PYM_TEST_HOST') }}"
      port: "{{ env_var('PYM_TEST_PORT') | as_number }}"
      user: "{{ env_var('PYM_TEST_USER') }}"
      password: "{{ env_var('PYM_TEST_PASSWORD', '') }}"
      dbname: "{{ env_var('PYM_TEST_DBNAME') }}"
      schema: %s
      threads: 2
      connect_timeout: 10
"""
    % SCHEMA
)


def _dbt_executable() -> str | None:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else shutil.which("dbt")


class DbtProject:
    """The integration project bound to a fresh database."""

    def __init__(self, dbname: str, tmp: Path, conninfo: dict, dbt_bin: str):
        self.dbname = dbname
        self.tmp = tmp
        self.dbt_bin = dbt_bin
        self.conninfo = make_conninfo(DSN, dbname=dbname)
        self.conn = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
        self.env.update(
            {
                "PYM_TEST_HOST": conninfo.get("host") or "localhost",
                "PYM_TEST_PORT": str(conninfo.get("port") or 5432),
                "PYM_TEST_USER": conninfo.get("user") or getpass.getuser(),
                "PYM_TEST_PASSWORD": conninfo.get("password") or "",
                "PYM_TEST_DBNAME": dbname,
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DBT_VERSION_CHECK": "false",
                "DBT_USE_COLORS": "false",
                "DBT_PARTIAL_PARSE": "false",
            }
        )
        self.deps: subprocess.CompletedProcess | None = None
        self.build: subprocess.CompletedProcess | None = None

    def dbt(self, *args: str, vars: dict | None = None) -> subprocess.CompletedProcess:
        cmd = [self.dbt_bin, *args, "--project-dir", str(FIXTURE), "--log-path", str(self.tmp / "logs")]
        if args[0] != "deps":  # deps takes neither a profile nor a target path
            cmd += ["--profiles-dir", str(self.tmp), "--target-path", str(self.tmp / "target")]
        if vars:
            cmd += ["--vars", json.dumps(vars)]
        # cwd = tmp: the project's relative paths (packages.yml's ../) must resolve from the project dir
        return subprocess.run(cmd, cwd=self.tmp, env=self.env, capture_output=True, text=True, timeout=DBT_TIMEOUT)

    def query(self, query, params=None) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def execute(self, query, params=None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(query, params)

    def table(self, name: str, order_by: str) -> list[tuple]:
        return self.query(
            sql.SQL("select * from {}.{} order by {}").format(
                sql.Identifier(SCHEMA), sql.Identifier(name), sql.SQL(order_by)
            )
        )

    def columns(self, name: str) -> list[tuple[str, str]]:
        """(column name, type as information_schema spells it; arrays as <udt_name>)."""
        return [
            (c, udt if dtype == "ARRAY" else dtype)
            for c, dtype, udt in self.query(
                "select column_name, data_type, udt_name from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position",
                (SCHEMA, name),
            )
        ]

    def relkind(self, name: str) -> str | None:
        rows = self.query(
            "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s",
            (SCHEMA, name),
        )
        return rows[0][0] if rows else None

    def oid(self, name: str) -> int | None:
        rows = self.query("select to_regclass(%s)::oid", (f'"{SCHEMA}"."{name}"',))
        return rows[0][0]

    def leftovers(self) -> list[str]:
        """Intermediate / backup / scratch relations the materializations must not leave behind."""
        return [
            r[0]
            for r in self.query(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and (c.relname like '%%\\_\\_dbt\\_tmp%%' "
                "or c.relname like '%%\\_\\_dbt\\_backup%%' or c.relname like '%%\\_\\_dbt\\_py\\_incr%%')",
                (SCHEMA,),
            )
        ]


def _output(result: subprocess.CompletedProcess) -> str:
    return (result.stdout or "") + (result.stderr or "")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    dbt_bin = _dbt_executable()
    if dbt_bin is None:
        pytest.fail("dbt is not installed")
    try:
        admin = psycopg.connect(DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL not reachable at {DSN}: {exc}")
    dbname = f"pym_{secrets.token_hex(5)}"
    tmp = tmp_path_factory.mktemp("pymodels")
    (tmp / "profiles.yml").write_text(PROFILE)
    admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    proj = DbtProject(dbname, tmp, conninfo_to_dict(DSN), dbt_bin)
    try:
        proj.conn = psycopg.connect(proj.conninfo, autocommit=True)
        proj.execute("create extension plpython3u")
        # the source table of py_ref_source
        proj.execute(sql.SQL("create schema {}").format(sql.Identifier(RAW_SCHEMA)))
        proj.execute(sql.SQL("create table {}.events (base_id bigint, qty bigint)").format(sql.Identifier(RAW_SCHEMA)))
        proj.execute(sql.SQL("insert into {}.events values (1, 2), (1, 3), (3, 10)").format(sql.Identifier(RAW_SCHEMA)))
        # relations that exist as views before their Python models are first built
        proj.execute(sql.SQL("create schema {}").format(sql.Identifier(SCHEMA)))
        proj.execute(sql.SQL("create view {}.py_from_view as select 99 as id").format(sql.Identifier(SCHEMA)))
        proj.execute(sql.SQL("create view {}.py_incr_from_view as select 99 as id").format(sql.Identifier(SCHEMA)))
        # the package, installed the way any project installs it (packages.yml: local ../)
        proj.deps = proj.dbt("deps")
        # every model (but the one whose preflight must fail) and the UDF
        proj.build = proj.dbt(
            "build",
            "--select",
            "resource_type:model",
            "resource_type:function",
            "--exclude",
            "py_missing_module",
            vars={"pym_greeting": "hello from --vars"},  # py_ref_source's runtime var
        )
        yield proj
    finally:
        if proj.conn is not None:
            proj.conn.close()
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
        admin.close()


def test_package_installed_by_dbt_deps(project):
    out = _output(project.deps)
    assert project.deps.returncode == 0, out[-4000:]
    installed = FIXTURE / "dbt_packages" / "dbt_plpython"
    assert installed.resolve() == PACKAGE.resolve(), out[-2000:]


def test_build_succeeds(project):
    out = _output(project.build)
    assert project.build.returncode == 0, out[-6000:]
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", out), out[-3000:]
    assert project.leftovers() == []


def test_all_column_types_round_trip(project):
    assert project.columns("py_types") == [
        ("i", "bigint"),
        ("f", "double precision"),
        ("s", "text"),
        ("b", "boolean"),
        ("ts", "timestamp without time zone"),
        ("tstz", "timestamp with time zone"),
        ("d", "date"),
        ("j", "jsonb"),
        ("arr", "_float8"),
        ("emb", "_float8"),
        ("dec", "numeric"),
        ("np_i", "bigint"),
        ("np_f", "double precision"),
        ("np_b", "boolean"),
        ("cfg_int", "integer"),
        ("cfg_bigint_arr", "_int8"),
        ("cfg_text_arr", "_text"),
    ]
    utc = dt.UTC
    rows = project.table("py_types", "np_i")
    assert rows == [
        (
            1,
            1.5,
            "plain",
            True,
            dt.datetime(2024, 1, 2, 3, 4, 5),
            dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc),
            dt.date(2024, 2, 29),
            {"a": 1, "b": [1, 2]},
            [1.0, 2.5],
            [0.5, 1.5],
            decimal.Decimal("1.10"),
            7,
            0.125,
            False,
            1,
            [1, 2**53 + 1],
            ["a", "b,c"],
        ),
        (
            -2,
            -0.25,
            'O\'Reilly "quoted" \\ back',
            False,
            dt.datetime(1999, 12, 31, 23, 59, 59, 123456),
            dt.datetime(2024, 7, 1, 10, 0, tzinfo=utc),
            dt.date(1970, 1, 1),
            [1, "x", None],
            [None, 3.0],
            [2.5, 3.5],
            decimal.Decimal("-2.5"),
            8,
            0.25,
            True,
            2,
            [None],
            ['q"uote', None],
        ),
        (
            2**40,
            1e10,
            "ünïcödé ✓",
            True,
            dt.datetime(2030, 6, 1),
            dt.datetime(2000, 1, 1, tzinfo=utc),
            dt.date(2099, 12, 31),
            {"nested": {"k": None, "t": True}},
            [],
            [4.5, 5.5],
            decimal.Decimal("123456789.123456789"),
            9,
            0.5,
            False,
            3,
            [-3],
            [],
        ),
    ]


def test_nan_and_none_become_null(project):
    assert project.columns("py_nulls") == [
        ("id", "bigint"),
        ("f", "double precision"),
        ("np_f", "double precision"),
        ("i", "bigint"),
        ("s", "text"),
        ("b", "boolean"),
        ("ts", "timestamp without time zone"),
        ("j", "jsonb"),
        ("arr", "_float8"),
        ("all_none", "text"),
        ("nan_only", "text"),
    ]
    assert project.table("py_nulls", "id") == [
        (1, 1.0, None, None, "x", None, None, {"k": 1}, None, None, None),
        (2, None, 2.0, 5, None, True, dt.datetime(2024, 5, 6, 7, 8, 9), None, [1.0, None], None, None),
        (3, None, None, None, None, None, None, None, None, None, None),
    ]
    # NULL, not the float NaN (NaN = NaN is true in PostgreSQL)
    assert project.query("select count(*) from pym.py_nulls where f = 'NaN' or np_f = 'NaN'") == [(0,)]


def test_empty_result_creates_empty_table_with_configured_columns(project):
    assert project.relkind("py_empty") == "r"
    assert project.columns("py_empty") == [
        ("id", "bigint"),
        ("label", "text"),
        ("seen_at", "timestamp with time zone"),
        ("score", "_float8"),
    ]
    assert project.query("select count(*) from pym.py_empty") == [(0,)]
    # dbt.ref of an empty relation still knows its columns
    assert project.columns("py_empty_ref") == [("id", "bigint"), ("label", "text")]
    assert project.query("select count(*) from pym.py_empty_ref") == [(0,)]


def test_list_of_row_dicts(project):
    assert project.columns("py_rows") == [("id", "bigint"), ("name", "text"), ("extra", "boolean")]
    assert project.table("py_rows", "id") == [(1, "a", None), (2, None, True), (3, "c", False)]


def test_ref_source_config_and_this(project):
    rows = project.table("py_ref_source", "id")
    this = f'"{project.dbname}"."{SCHEMA}"."py_ref_source"'
    common = (
        "custom value",
        "fallback",
        "hello from --vars",
        this,
        "py_ref_source",
        False,
        42,
        "c",
        "int64,object,float64,object,object",
    )
    assert rows == [
        (1, "alpha", 2.5, True, 5) + common,
        (2, "beta", None, False, 0) + common,
        (3, "gamma", 7.25, None, 10) + common,
    ]


def test_quoted_identifiers(project):
    # mixed-case model name -> case-sensitive relation name; column names needing quotes
    assert project.relkind("py_Idents") == "r"
    assert project.relkind("py_idents") is None
    assert project.columns("py_Idents") == [
        ("MixedCase", "bigint"),
        ("with space", "text"),
        ("select", "boolean"),
        ('quote"d', "double precision"),
        ("lower_one", "text"),
    ]
    rows = project.query(
        'select "MixedCase", "with space", "select", "quote""d", lower_one from pym."py_Idents" order by "MixedCase"'
    )
    assert rows == [(1, "a", True, 0.5, "x"), (2, "b", False, 1.5, "y")]


def test_existing_view_is_replaced_by_python_table(project):
    for name in ("py_from_view", "py_incr_from_view"):
        assert project.relkind(name) == "r", name
        assert project.table(name, "id") == [(1,), (2,)], name
    assert project.leftovers() == []


def test_failing_rebuild_keeps_previous_table(project):
    before = {name: (project.oid(name), project.table(name, "id")) for name in ("py_atomic", "py_atomic_write")}
    assert before["py_atomic"][1] == [(1, "one"), (2, "two"), (3, "three")]
    assert before["py_atomic_write"][1] == [(10,), (20,)]

    result = project.dbt("run", "--select", "py_atomic", "py_atomic_write", vars={"atomic_fail": True})
    out = _output(result)
    assert result.returncode != 0, out[-4000:]
    # the model raised: model name, exception class and message, and the raising line of the
    # model's own .py file (PL/Python traceback line numbers are the file's)
    source = (FIXTURE / "models" / "py_atomic.py").read_text().splitlines()
    raise_line = next(i for i, line in enumerate(source, 1) if "raise AtomicSwitchError" in line)
    assert "Failure in model py_atomic (models/py_atomic.py)" in out, out[-4000:]
    assert "AtomicSwitchError: py_atomic was told to fail by var atomic_fail" in out, out[-4000:]
    assert f"line {raise_line}, in model" in out, out[-4000:]
    assert source[raise_line - 1].strip() in out
    # the write failed after the intermediate table was created
    assert "Failure in model py_atomic_write (models/py_atomic_write.py)" in out, out[-4000:]
    assert 'invalid input syntax for type bigint: "not a number"' in out, out[-4000:]

    after = {name: (project.oid(name), project.table(name, "id")) for name in ("py_atomic", "py_atomic_write")}
    assert after == before
    assert project.leftovers() == []


@pytest.fixture(scope="module")
def second_batch(project):
    """Rows of the incremental models after the build, then after a run with batch 2. The same
    run (one dbt call less) includes the two models that must fail: py_missing_module (preflight)
    and py_incr_schema_fail (on_schema_change: fail); dbt still runs the others."""
    names = {
        "py_incr_append": "id",
        "py_incr_merge": '"Key Id"',
        "py_incr_merge2": "k1, k2",
        "py_incr_schema": "id",
        "py_incr_schema_ignore": "id",
        "py_incr_schema_sync": "id",
        "py_incr_schema_fail": "id",
    }
    before = {name: project.table(name, order) for name, order in names.items()}
    result = project.dbt("run", "--select", *names, "py_missing_module", vars={"batch": 2})
    after = {name: project.table(name, order) for name, order in names.items()}
    return result, before, after


def _assert_incremental_ok(result, *names):
    out = _output(result)
    for name in names:
        assert re.search(rf"OK created python incremental model {SCHEMA}\.{name} ", out), out[-4000:]


def test_incremental_appends(project, second_batch):
    result, before, after = second_batch
    _assert_incremental_ok(result, "py_incr_append")
    first = [(1, 1, False, 0.5, [1.0]), (2, 1, False, 1.5, [2.0, None])]
    assert before["py_incr_append"] == first
    # batch 2 has only NaN/None for score and tags: they arrive as NULL in the existing columns
    assert after["py_incr_append"] == first + [(3, 2, True, None, None), (4, 2, True, None, None)]
    assert project.columns("py_incr_append") == [
        ("id", "bigint"),
        ("batch", "bigint"),
        ("was_incremental", "boolean"),
        ("score", "double precision"),
        ("tags", "_float8"),
    ]
    assert project.leftovers() == []


def test_incremental_unique_key_replaces(project, second_batch):
    result, before, after = second_batch
    _assert_incremental_ok(result, "py_incr_merge", "py_incr_merge2")
    assert before["py_incr_merge"] == [(1, "a1", 1), (2, "b1", 1)]
    assert after["py_incr_merge"] == [(1, "a1", 1), (2, "b2", 2), (3, "c2", 2)]
    assert project.columns("py_incr_merge") == [("Key Id", "bigint"), ("Value Text", "text"), ("batch", "bigint")]
    # composite unique_key
    assert before["py_incr_merge2"] == [("a", 1, 1.0), ("a", 2, 2.0), ("b", 1, 3.0)]
    assert after["py_incr_merge2"] == [("a", 1, 1.0), ("a", 2, 20.0), ("b", 1, 3.0), ("b", 2, 40.0)]


def test_incremental_on_schema_change(project, second_batch):
    """Batch 2 returns a new column `note` and no longer returns `dropped_later`."""
    result, before, after = second_batch
    _assert_incremental_ok(result, "py_incr_schema", "py_incr_schema_ignore", "py_incr_schema_sync")
    for name in ("py_incr_schema", "py_incr_schema_ignore", "py_incr_schema_sync"):
        assert before[name] == [(1, "x"), (2, "y")], name
    # append_new_columns: the new column is added (NULL for the rows already there), none dropped
    assert project.columns("py_incr_schema") == [("id", "bigint"), ("dropped_later", "text"), ("note", "text")]
    assert after["py_incr_schema"] == [(1, "x", None), (2, "y", None), (3, None, "new in batch 2")]
    # ignore (dbt's default): the target keeps its columns, the new one is not written
    assert project.columns("py_incr_schema_ignore") == [("id", "bigint"), ("dropped_later", "text")]
    assert after["py_incr_schema_ignore"] == [(1, "x"), (2, "y"), (3, None)]
    # sync_all_columns: added and dropped
    assert project.columns("py_incr_schema_sync") == [("id", "bigint"), ("note", "text")]
    assert after["py_incr_schema_sync"] == [(1, None), (2, None), (3, "new in batch 2")]
    assert project.leftovers() == []


def test_failing_checks_stop_before_writing(project, second_batch):
    """The preflight names a module the server lacks (and its Debian package); on_schema_change:
    fail names the columns; neither leaves a table or scratch table behind."""
    result, before, after = second_batch
    out = _output(result)
    assert result.returncode != 0, out[-4000:]
    assert re.search(r"Done\. PASS=6 WARN=0 ERROR=2 SKIP=0", out), out[-3000:]
    assert "Failure in model py_missing_module (models/py_missing_module.py)" in out, out[-4000:]
    assert (
        "the database server's Python cannot import dbt_plpython_no_such_module "
        "(Debian/Ubuntu package python3-dbt_plpython_no_such_module)" in out
    ), out[-4000:]
    assert project.relkind("py_missing_module") is None
    assert "py_incr_schema_fail (on_schema_change: fail)" in out, out[-4000:]
    assert "new ['note'], missing ['dropped_later']" in out, out[-4000:]
    assert before["py_incr_schema_fail"] == [(1, "x"), (2, "y")]
    assert after["py_incr_schema_fail"] == before["py_incr_schema_fail"]
    assert project.columns("py_incr_schema_fail") == [("id", "bigint"), ("dropped_later", "text")]
    assert project.leftovers() == []


def test_model_imports_udf_file_as_module(project):
    """config udf_modules: the model runs the UDF file's code (the one deployed as the function)."""
    info = dict(project.table("py_udf_module", "key"))
    deployed = project.query(sql.SQL("select {}.plpython_runtime_info()").format(sql.Identifier(SCHEMA)))[0][0]
    assert info == deployed
    assert set(info) == {"python", "numpy", "scikit_learn"}


def test_embedded_runtime_matches_the_py_files():
    """macros/runtime_sources.sql is generated from runtime/*.py and committed: it must be current."""
    script = PACKAGE / "scripts" / "embed_runtime.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    spec = importlib.util.spec_from_file_location("embed_runtime_under_test", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rendered = module.render()
    for path in sorted((PACKAGE / "runtime").glob("*.py")):
        assert f"{{% macro runtime_file_{path.stem}() -%}}" in rendered
        assert "{% raw %}" + path.read_text() + "{% endraw %}" in rendered


def test_embed_refuses_what_would_break_the_macro(tmp_path, monkeypatch):
    """A runtime file whose text would end the raw block early, or whose name is no macro name,
    stops the generator instead of producing a broken macro file."""
    script = PACKAGE / "scripts" / "embed_runtime.py"
    spec = importlib.util.spec_from_file_location("embed_runtime_refusals", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RUNTIME", tmp_path)
    (tmp_path / "ok.py").write_text("x = 1\n")
    assert "{% macro runtime_file_ok() -%}\n{% raw %}x = 1\n{% endraw %}" in module.render()
    (tmp_path / "bad.py").write_text("s = '{%- endraw %}'\n")
    with pytest.raises(SystemExit, match="endraw/endmacro"):
        module.render()
    (tmp_path / "bad.py").unlink()
    (tmp_path / "Bad-Name.py").write_text("x = 1\n")
    with pytest.raises(SystemExit, match="lower-case identifiers"):
        module.render()


def _looks_like_version(value) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", value) is not None


def test_udf_deployed_by_functions_resource(project):
    info = project.query(sql.SQL("select {}.plpython_runtime_info()").format(sql.Identifier(SCHEMA)))[0][0]
    assert set(info) == {"python", "numpy", "scikit_learn"}, info
    assert all(_looks_like_version(v) for v in info.values()), info
    # deployed as a stable PL/Python function returning jsonb (config volatility, returns.data_type)
    server = project.query(
        "select lanname, provolatile, format_type(prorettype, null) from pg_proc p "
        "join pg_language l on l.oid = p.prolang join pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname = %s and p.proname = 'plpython_runtime_info'",
        (SCHEMA,),
    )
    assert server == [("plpython3u", "s", "jsonb")]


def test_udf_file_imports_and_runs_locally():
    import numpy
    import sklearn

    spec = importlib.util.spec_from_file_location("plpython_runtime_info_under_test", UDF_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    info = json.loads(module.main())
    assert info == {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scikit_learn": sklearn.__version__,
    }


def test_preflight_recreates_dropped_plpython(project):
    """Runs last: dropping the extension also drops every PL/Python function (the UDF)."""
    old_oid = project.oid("py_preflight")
    assert old_oid is not None
    project.execute("drop extension plpython3u cascade")
    assert project.query("select count(*) from pg_extension where extname = 'plpython3u'") == [(0,)]

    result = project.dbt("run", "--select", "py_preflight")
    assert result.returncode == 0, _output(result)[-4000:]
    assert project.query("select count(*) from pg_extension where extname = 'plpython3u'") == [(1,)]
    assert project.oid("py_preflight") != old_oid  # rebuilt, not the table of the first build
    assert project.table("py_preflight", "ok") == [(True,)]
