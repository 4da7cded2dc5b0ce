"""Shared fixtures: every test runs against the real PostgreSQL server of SHOPSEG_TEST_DSN
(default: the project-local cluster that `make setup` starts), never a mock.

    fresh_database(name_prefix)  -> a new empty database (plpython3u enabled), dropped afterwards
    generate(dsn, *args)         -> run the demo-data generator CLI into a database
    run_dbt(dbname, *args)       -> run dbt against a database, output captured, returns CompletedProcess
    built_db                     -> (session) a tiny generated database after a full `dbt build`
    clone_database(source)       -> a copy of a database (CREATE DATABASE ... TEMPLATE), dropped afterwards
"""
from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[1]
BASE_DSN = os.environ.get("SHOPSEG_TEST_DSN", "postgresql://postgres@127.0.0.1:55432/postgres")
VENV_BIN = Path(sys.executable).parent
TINY_CUSTOMERS = int(os.environ.get("SHOPSEG_TEST_CUSTOMERS", "3000"))


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


@contextlib.contextmanager
def clone_database(source: str, prefix: str = "shopseg_clone"):
    """A copy of `source` (CREATE DATABASE ... TEMPLATE; nobody may be connected to it), dropped
    (with force) when the block ends."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(BASE_DSN, autocommit=True) as con:
        con.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source)))
    try:
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


def run_dbt(dbname: str, *args: str, check: bool = True, target_dir: str | None = None):
    """Run dbt in the project against `dbname` (own target/log dirs, so runs don't collide)."""
    params = conninfo_to_dict(dsn_for(dbname))
    env = dict(os.environ)
    env.update({
        "PGHOST": params.get("host", "127.0.0.1"),
        "PGPORT": str(params.get("port", "5432")),
        "PGUSER": params.get("user", "postgres"),
        "PGDATABASE": dbname,
        "DBT_PROFILES_DIR": str(ROOT),
        "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
    })
    if params.get("password"):
        env["PGPASSWORD"] = params["password"]
    work = target_dir or f"target/pytest/{dbname}"
    cmd = [str(VENV_BIN / "dbt"), *args, "--target-path", work, "--log-path", f"{work}/logs"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if check and done.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}")
    return done


def query(dbname: str, statement: str, params=None):
    with psycopg.connect(dsn_for(dbname)) as con:
        return con.execute(statement, params).fetchall()


@pytest.fixture(scope="session")
def built_db():
    """A tiny generated shop after one full `dbt build`: the database name."""
    with fresh_database("shopseg_built") as name:
        generate(name, "--customers", str(TINY_CUSTOMERS), "--seed", "11")
        run_dbt(name, "build")
        yield name
