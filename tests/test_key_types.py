"""Key types (docs/source_contract.md, "Key types"): ids keep the source's type.

The session's built_db is generated with integer ids, so every key family is bigint from staging
to the marts. A private copy of it rebuilt with every family forced to text (var key_types, the
behaviour before key types) must segment every customer identically: the discovery sample, its
order and the data identity do not depend on the key type. Rebuilding on top of the bigint build
without --full-refresh stops with the fix instead of mixing two types in the incremental tables.
One dbt run of the subgraph up to customer_profiles (no tests): the bad-foreign-key case is in
tests/test_source_formats.py (the orders-only mapped shop).
"""

from __future__ import annotations

import json

import psycopg
from conftest import dsn_for, query, run_dbt

from shopseg.settings import DEFAULT_SCHEMA, INTERMEDIATE, MARTS, STAGING_LAYER

FAMILIES = ("customer", "order", "product", "order_line", "refund", "ticket")
TEXT_KEYS = json.dumps({"key_types": dict.fromkeys(FAMILIES, "text")})
KEY_COLUMNS = ("customer_id", "order_id", "product_id", "order_line_id", "refund_id", "ticket_id")


def key_column_types(db) -> set[str]:
    """The types of every key column of the project's schemas (staging to marts)."""
    rows = query(
        db,
        """select distinct data_type from information_schema.columns
            where column_name = any(%s) and table_schema like 'analytics%%' and table_schema not like '%%audit'
              and table_schema not like '%%history'""",
        (list(KEY_COLUMNS),),
    )
    return {r[0] for r in rows}


def profiles(db) -> dict:
    rows = query(
        db,
        f"""select customer_id::text, segmentation_status, archetype_id, ltv_tier, ltv, order_count,
                   dominant_segments, fuzzy_memberships, centroid_version
            from {MARTS}.customer_profiles""",
    )
    return {r[0]: r[1:] for r in rows}


def test_text_keys_segment_like_integer_keys(built_db, clone_of_built_db):
    db = clone_of_built_db
    assert key_column_types(db) == {"bigint"}
    # the key type changes: without --full-refresh the build stops and names the fix
    done = run_dbt(db, "run", "--select", "+customer_profiles", "--vars", TEXT_KEYS, check=False)
    out = " ".join(done.stdout.split())
    assert done.returncode != 0
    assert "The customer key type changed since the previous build" in out and "--full-refresh" in out
    run_dbt(db, "run", "--full-refresh", "--select", "+customer_profiles", "--vars", TEXT_KEYS)
    assert key_column_types(db) == {"text"}
    text_build, integer_build = profiles(db), profiles(built_db)
    assert len(integer_build) > 1000
    segmented = [p for p in integer_build.values() if p[0] == "segmented"]
    assert len(segmented) > 0.5 * len(integer_build)
    assert text_build == integer_build


UUID_OF = "md5(({id})::text)::uuid"  # a stable UUID for each integer customer id


def test_uuid_customer_keys(built_db, clone_of_built_db):
    """Customer ids as UUIDs (owner column of type uuid), written as text in the foreign keys in
    the spellings exports use (lower case hyphenated, upper case, braces without hyphens): the
    customer family is read as uuid from staging to the marts, every customer is profiled with the
    same orders as in the integer build, and an order whose customer id is not a UUID is rejected
    as null_customer. A dbt run (models only): the unit tests' digit ids cannot be UUIDs
    (docs/source_contract.md, Key types)."""
    db = clone_of_built_db
    ((bad_order,),) = query(db, "select max(order_id) + 1 from raw.orders")
    with psycopg.connect(dsn_for(db), autocommit=True) as con:
        # the staging views read the raw columns (the full-refresh run below recreates them)
        con.execute(f"drop schema {DEFAULT_SCHEMA}_{STAGING_LAYER} cascade")
        for table, name in con.execute(
            "select conrelid::regclass::text, conname from pg_constraint "
            "where connamespace = 'raw'::regnamespace and contype = 'f'"
        ).fetchall():
            con.execute(f"alter table {table} drop constraint {name}")
        con.execute(
            f"alter table raw.customers alter column customer_id type uuid using {UUID_OF.format(id='customer_id')}"
        )
        con.execute(
            "alter table raw.orders alter column customer_id type text using case customer_id % 3 "
            f"when 0 then {UUID_OF.format(id='customer_id')}::text "
            f"when 1 then upper({UUID_OF.format(id='customer_id')}::text) "
            "else '{' || md5(customer_id::text) || '}' end"
        )
        con.execute(
            "alter table raw.support_tickets alter column customer_id type uuid "
            f"using {UUID_OF.format(id='customer_id')}"
        )
        con.execute(
            "insert into raw.orders (order_id, customer_id, created_at, currency, subtotal, discount_amount, "
            "shipping_amount, tax_amount, total, discount_code, sales_channel, cancelled_at) "
            f"select {bad_order}, 'not-a-uuid', max(created_at), 'USD', 10, 0, 0, 0, 10, null, 'web', null "
            "from raw.orders"
        )
    run_dbt(db, "run", "--full-refresh", "--select", "+customer_profiles")
    types = query(
        db,
        """select distinct data_type from information_schema.columns
            where column_name = 'customer_id' and table_schema like 'analytics%%'
              and table_schema not like '%%audit' and table_schema not like '%%history'""",
    )
    assert types == [("uuid",)]
    assert key_column_types(db) == {"uuid", "bigint"}  # the other families keep their integer ids
    ((reason,),) = query(
        db, f"select rejection_reason from {INTERMEDIATE}.int_orders_validated where order_id = %s", (bad_order,)
    )
    assert reason == "null_customer"
    integer_build = {
        customer: (status, orders)
        for customer, status, orders in query(
            built_db,
            f"select {UUID_OF.format(id='customer_id')}::text, segmentation_status, order_count "
            f"from {MARTS}.customer_profiles",
        )
    }
    uuid_build = {
        customer: (status, orders)
        for customer, status, orders in query(
            db, f"select customer_id::text, segmentation_status, order_count from {MARTS}.customer_profiles"
        )
    }
    assert len(uuid_build) == len(integer_build) > 1000
    assert uuid_build == integer_build
