"""Least privilege (docs/spec.md §10, docs/access.md), checked over a real connection as a BI user.

A tiny shop is built with its own BI role (var bi_role, so parallel test databases do not share
one); a LOGIN user that is only a member of that role then tries what a BI tool could:
read the marts and API views (allowed), read raw / staging / intermediate / history / audit
(denied), find PII (none), write, create objects or functions (denied), execute the PL/Python
functions (only the segment_query_* functions meant for BI). Roles are cluster-wide, so both
are dropped at the end.
"""

from __future__ import annotations

import secrets

import psycopg
import pytest
from conftest import BASE_DSN, MODELS_ONLY, dsn_for, fresh_database, generate, query, run_dbt
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from shopseg.settings import CATALOG, INTERMEDIATE, MARTS, STAGING, UDF

BI_FUNCTIONS = {"segment_query_customers", "segment_query_filter", "segment_query_parse", "segment_query_vocabulary"}
BI_SEEDS = {"segment_axes", "segment_axis_labels", "segment_label_synonyms", "legacy_axis_names"}


@pytest.fixture(scope="module")
def access_db():
    """(database, BI role, login user): a built shop whose BI role has one LOGIN member."""
    suffix = secrets.token_hex(3)
    role, user = f"shopseg_bi_t{suffix}", f"shopseg_bi_user_t{suffix}"
    with fresh_database("shopseg_access") as name:
        try:
            generate(name, "--customers", "400", "--seed", "21")
            run_dbt(name, "build", *MODELS_ONLY, "--vars", f"{{bi_role: {role}}}")
            with psycopg.connect(BASE_DSN, autocommit=True) as con:
                con.execute(
                    sql.SQL("create role {} login in role {}").format(sql.Identifier(user), sql.Identifier(role))
                )
            yield name, role, user
        finally:
            with psycopg.connect(BASE_DSN, autocommit=True) as con:
                for r in (user, role):
                    # privileges live in the test database, dropped by fresh_database afterwards;
                    # drop owned/privileges there first so the role can go now
                    try:
                        with psycopg.connect(dsn_for(name), autocommit=True) as db:
                            db.execute(sql.SQL("drop owned by {}").format(sql.Identifier(r)))
                    except psycopg.Error:
                        pass
                    con.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(r)))


def bi_connect(dbname: str, user: str) -> psycopg.Connection:
    params = conninfo_to_dict(dsn_for(dbname))
    params["user"] = user
    params.pop("password", None)
    return psycopg.connect(make_conninfo(**params), autocommit=True)


def denied(con: psycopg.Connection, statement: str) -> bool:
    try:
        con.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


def test_bi_user_reads_marts_and_api_views(access_db):
    name, _, user = access_db
    with bi_connect(name, user) as con:
        assert con.execute("select current_user").fetchone()[0] == user
        (profiles,) = con.execute(f"select count(*) from {MARTS}.customer_profiles").fetchone()
        assert profiles > 0
        for relation in (
            "customer_segment_memberships",
            "archetypes",
            "segment_centroids",
            "api_customer_profile",
            "api_top_archetypes",
        ):
            con.execute(f"select * from {MARTS}.{relation} limit 1").fetchall()
        (profile,) = con.execute(
            f"select profile from {MARTS}.api_customer_profile order by customer_id limit 1"
        ).fetchone()
        assert "segmentation_status" in profile


def test_bi_user_sees_nothing_raw_and_no_pii(access_db):
    name, _, user = access_db
    with bi_connect(name, user) as con:
        for relation in (
            "raw.customers",
            "raw.orders",
            f"{STAGING}.stg_shop__customers",
            f"{INTERMEDIATE}.int_customer_features",
            f"{INTERMEDIATE}.int_orders_validated",
            f"{CATALOG}.segment_axis_features",
            f"{CATALOG}.currency_rates",
        ):
            assert denied(con, f"select 1 from {relation} limit 1"), relation
        assert denied(con, "select email from raw.customers limit 1")
        # every relation the user can read, anywhere in the database
        readable = con.execute("""
            select n.nspname, c.relname
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where c.relkind in ('r', 'v', 'm', 'p', 'f')
              and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
              and has_schema_privilege(n.oid, 'USAGE')
              and has_table_privilege(c.oid, 'SELECT')""").fetchall()
        schemas = {s for s, _ in readable}
        assert schemas <= {MARTS, CATALOG}, readable
        assert {r for s, r in readable if s == CATALOG} == BI_SEEDS
        assert {"customer_profiles", "api_customer_profile", "api_top_archetypes"} <= {
            r for s, r in readable if s == MARTS
        }
        # PII: no readable column is an email, and no readable text value looks like one
        columns = con.execute(f"""
            select table_schema, table_name, column_name, data_type
            from information_schema.columns
            where table_schema in ('{MARTS}', '{CATALOG}')""").fetchall()
        assert columns and not [c for c in columns if "mail" in c[2].lower()]
        for schema, table, column, data_type in columns:
            if data_type in ("text", "jsonb", "character varying"):
                (hits,) = con.execute(
                    sql.SQL("select count(*) from {} where {}::text ~ %s").format(
                        sql.Identifier(schema, table), sql.Identifier(column)
                    ),
                    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",),
                ).fetchone()
                assert hits == 0, f"{schema}.{table}.{column} holds email-like values"


def test_bi_user_cannot_write_or_create(access_db):
    name, _, user = access_db
    with bi_connect(name, user) as con:
        assert denied(con, f"delete from {MARTS}.customer_profiles")
        assert denied(con, f"update {MARTS}.archetypes set customer_count = 0")
        assert denied(con, f"insert into {MARTS}.archetypes (archetype_id) values ('x')")
        assert denied(con, f"truncate {MARTS}.customer_profiles")
        assert denied(con, f"create table {MARTS}.bi_scratch (x int)")
        assert denied(con, "create table public.bi_scratch (x int)")
        assert denied(con, f"create view {MARTS}.bi_view as select 1 as x")
        assert denied(con, f"alter table {MARTS}.customer_profiles add column x int")
        assert denied(con, f"drop view {MARTS}.api_customer_profile")
        # PL/Python is untrusted: only superusers create functions in it, in any schema
        assert denied(con, "create function pg_temp.f() returns int language plpython3u as 'return 1'")
        assert denied(con, f"create function {UDF}.f() returns int language sql as 'select 1'")
        assert denied(
            con,
            f"create or replace function {UDF}.discover_axis(double precision[], jsonb) "
            "returns jsonb language sql as 'select null::jsonb'",
        )


def test_bi_user_executes_only_the_functions_meant_for_it(access_db):
    name, role, user = access_db
    deployed = {
        r[0]
        for r in query(
            name,
            f"""
        select p.proname from pg_proc p where p.pronamespace = '{UDF}'::regnamespace""",
        )
    }
    assert {"discover_axis", "shopseg_runtime_info"} <= deployed
    with bi_connect(name, user) as con:
        assert denied(con, f"select {UDF}.shopseg_runtime_info()")
        assert denied(con, f"select {UDF}.discover_axis(array[[1.0]], '{{}}'::jsonb)")
        for function in sorted(deployed):
            (allowed,) = con.execute(
                "select has_function_privilege(p.oid, 'EXECUTE') from pg_proc p "
                "where p.proname = %s and p.pronamespace = %s::regnamespace",
                (function, UDF),
            ).fetchone()
            assert allowed == (function in BI_FUNCTIONS), function
        if "segment_query_customers" in deployed:
            # the call itself (SECURITY INVOKER: it reads customer_profiles and two seeds as the user)
            try:
                con.execute(f"select count(*) from {UDF}.segment_query_customers('weekly shoppers', true)")
            except errors.InsufficientPrivilege as exc:
                pytest.fail(f"segment_query_customers is not usable by BI: {exc}")
            except psycopg.Error:
                pass  # an answer about the question, not about privileges
    # PUBLIC holds no EXECUTE on any deployed function (PostgreSQL's default is revoked)
    public = query(
        name,
        f"""
        select p.proname from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        where p.pronamespace = '{UDF}'::regnamespace and a.grantee = 0""",
    )
    assert public == []


def test_grants_survive_rebuilds(access_db):
    """A full refresh replaces every table (new objects, no grants): dbt re-applies them."""
    name, role, user = access_db
    run_dbt(name, "build", *MODELS_ONLY, "--full-refresh", "--vars", f"{{bi_role: {role}}}")
    with bi_connect(name, user) as con:
        for relation in ("customer_profiles", "archetypes", "api_customer_profile", "api_top_archetypes"):
            con.execute(f"select count(*) from {MARTS}.{relation}").fetchone()
        assert denied(con, f"select {UDF}.discover_axis(array[[1.0]], '{{}}'::jsonb)")
        assert denied(con, "select 1 from raw.customers")
