"""Connection settings and relation names shared by the command-line tools, the servers and the tests.

One place for what was spelled out in every module before (issue 18):

* the default connection: ``$SHOPSEG_DSN`` (``scripts/run.sh`` sets it to the project-local
  cluster), else :data:`DEFAULT_DSN`; the tests' admin connection ``$SHOPSEG_TEST_DSN``, else
  :data:`DEFAULT_TEST_DSN`;
* the dbt target schema (``$SHOPSEG_SCHEMA``, default ``analytics``, as in profiles.yml) and the
  schemas of its layers, ``<schema>_<layer>`` (dbt_project.yml ``+schema``), e.g. ``analytics_marts``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from psycopg import sql

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the dbt project (this checkout)
LOCAL_CLUSTER = "postgresql://postgres@127.0.0.1:55432"
DEFAULT_DSN = f"{LOCAL_CLUSTER}/shopseg"
DEFAULT_TEST_DSN = f"{LOCAL_CLUSTER}/postgres"
DEFAULT_SCHEMA = "analytics"

# layers of the dbt project (dbt_project.yml `+schema`), each in `<target schema>_<layer>`
STAGING_LAYER = "staging"
INTERMEDIATE_LAYER = "intermediate"
MARTS_LAYER = "marts"
CATALOG_LAYER = "catalog"
UDF_LAYER = "udf"
HISTORY_LAYER = "history"
TEST_AUDIT_LAYER = "dbt_test__audit"


def dsn(default: str = DEFAULT_DSN, env: Mapping[str, str] = os.environ) -> str:
    """The connection string of the tools: $SHOPSEG_DSN, else `default` ("" = libpq's PG* variables)."""
    return env.get("SHOPSEG_DSN") or default


def test_dsn(env: Mapping[str, str] = os.environ) -> str:
    """The tests' admin connection (a role that creates databases): $SHOPSEG_TEST_DSN, else the local cluster."""
    return env.get("SHOPSEG_TEST_DSN") or DEFAULT_TEST_DSN


def target_schema(env: Mapping[str, str] = os.environ) -> str:
    """The dbt target schema: $SHOPSEG_SCHEMA, else `analytics`."""
    return env.get("SHOPSEG_SCHEMA") or DEFAULT_SCHEMA


def layer_schema(layer: str, schema: str = DEFAULT_SCHEMA) -> str:
    """The schema of one layer of the target schema `schema`, e.g. ("marts", "analytics") -> analytics_marts."""
    return f"{schema}_{layer}"


def relation(layer: str, name: str, schema: str = DEFAULT_SCHEMA) -> sql.Composed:
    """A quoted `<schema>_<layer>.<name>` for psycopg.sql statements."""
    return sql.SQL("{}.{}").format(sql.Identifier(layer_schema(layer, schema)), sql.Identifier(name))


# the layer schemas of the default target (what the tests and the demo build use)
STAGING = layer_schema(STAGING_LAYER)
INTERMEDIATE = layer_schema(INTERMEDIATE_LAYER)
MARTS = layer_schema(MARTS_LAYER)
CATALOG = layer_schema(CATALOG_LAYER)
UDF = layer_schema(UDF_LAYER)
HISTORY = layer_schema(HISTORY_LAYER)
TEST_AUDIT = layer_schema(TEST_AUDIT_LAYER)
