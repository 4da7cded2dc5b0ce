"""The daily build's tests check the rows it rewrote (docs/lifecycle.md "Which tests run when"):
with `test_scope: rewritten` a generic test of an incremental model reads only the customers of
the model's scope (meta rewrite_scope), with the default `test_scope: all` the whole table.
Real PostgreSQL, a private copy of the built tiny shop."""

from __future__ import annotations

import psycopg
from conftest import dsn_for, query, run_dbt

from shopseg.settings import INTERMEDIATE as INTER
from shopseg.settings import MARTS
from shopseg.settings import TEST_AUDIT as AUDIT

SELECT = ["--select", "customer_profiles,test_name:fuzzy_memberships_valid"]


def test_daily_tests_read_only_the_rewritten_customers(clone_of_built_db):
    db = clone_of_built_db
    (broken,), (other,) = query(
        db,
        f"""
        select customer_id from {MARTS}.customer_profiles where segmentation_status = 'segmented'
        order by customer_id limit 2""",
    )
    with psycopg.connect(dsn_for(db), autocommit=True) as con:
        # a daily build that re-scored only `other`; then a broken profile of `broken`
        con.execute(f"delete from {INTER}.int_customers_to_score")
        con.execute(f"insert into {INTER}.int_customers_to_score (customer_id) values (%s)", (other,))
        con.execute(
            f"""update {MARTS}.customer_profiles
            set fuzzy_memberships = jsonb_set(fuzzy_memberships, '{{purchase_value}}', '{{}}')
            where customer_id = %s""",
            (broken,),
        )

    # the broken row was not rewritten: the daily scope does not read it
    daily = run_dbt(db, "test", *SELECT, "--vars", "{test_scope: rewritten}", check=False)
    assert daily.returncode == 0, daily.stdout[-3000:]
    # the whole table (monthly, CI, any plain build): found
    full = run_dbt(db, "test", *SELECT, check=False)
    assert full.returncode != 0 and "fuzzy_memberships_valid" in full.stdout, full.stdout[-3000:]

    # once the broken customer is among the rewritten ones, the daily scope finds it too
    with psycopg.connect(dsn_for(db), autocommit=True) as con:
        con.execute(f"insert into {INTER}.int_customers_to_score (customer_id) values (%s)", (broken,))
    daily = run_dbt(db, "test", *SELECT, "--vars", "{test_scope: rewritten}", check=False)
    assert daily.returncode != 0 and "fuzzy_memberships_valid" in daily.stdout, daily.stdout[-3000:]


def test_unknown_test_scope_is_rejected(built_db):
    done = run_dbt(built_db, "test", *SELECT, "--vars", "{test_scope: some}", check=False)
    assert done.returncode != 0
    assert "var test_scope must be 'all' or 'rewritten', got 'some'" in done.stdout, done.stdout[-3000:]


def test_primary_key_fails_on_a_null_and_a_duplicate_key(clone_of_built_db):
    """`primary_key` (tests/generic/primary_key.sql, one node instead of unique + not_null) fails on
    a null key and on a duplicated key in one scan, with a row naming each; it reads the model
    through get_where_subquery, so the daily scope applies to it like to the built-in tests."""
    db = clone_of_built_db
    table = f"{INTER}.int_customer_order_features"
    test = "primary_key_int_customer_order_features_customer_id"
    select = ["--select", "test_name:primary_key,int_customer_order_features", "--store-failures"]
    clean = run_dbt(db, "test", *select, check=False)
    assert clean.returncode == 0 and test in clean.stdout, clean.stdout[-3000:]

    (key,), (other,) = query(db, f"select customer_id from {table} order by customer_id limit 2")
    with psycopg.connect(dsn_for(db), autocommit=True) as con:
        con.execute(f"insert into {table} select * from {table} where customer_id = %s", (key,))
        # one null key: a group of one, which a duplicate check alone would not report
        con.execute(f"insert into {table} (customer_id, order_count) values (null, 1)")
        # a daily build that rewrote only `other`: neither planted row is in its scope
        con.execute(f"delete from {INTER}.int_customers_changed")
        con.execute(f"insert into {INTER}.int_customers_changed (customer_id) values (%s)", (other,))

    daily = run_dbt(db, "test", *select, "--vars", "{test_scope: rewritten}", check=False)
    assert daily.returncode == 0, daily.stdout[-3000:]

    full = run_dbt(db, "test", *select, check=False)
    assert full.returncode != 0 and f"Failure in test {test}" in full.stdout, full.stdout[-3000:]
    assert "Got 2 results" in full.stdout, full.stdout[-3000:]
    found = query(
        db,
        f"select key_value::text, n_records, failure, message from {AUDIT}.{test} order by failure",
    )
    assert found == [
        (str(key), 2, "duplicate_key", f"customer_id: key '{key}' on 2 rows (duplicate_key)"),
        (None, 1, "null_key", "customer_id: 1 row(s) without a key (null_key)"),
    ], found
    # the on-run-end hook prints both sentences
    assert f"customer_id: key '{key}' on 2 rows (duplicate_key)" in full.stdout, full.stdout[-3000:]
    assert "customer_id: 1 row(s) without a key (null_key)" in full.stdout, full.stdout[-3000:]

    # the duplicated customer among the rewritten ones: the daily scope finds the duplicate
    with psycopg.connect(dsn_for(db), autocommit=True) as con:
        con.execute(f"insert into {INTER}.int_customers_changed (customer_id) values (%s)", (key,))
    daily = run_dbt(db, "test", *select, "--vars", "{test_scope: rewritten}", check=False)
    assert daily.returncode != 0 and f"Failure in test {test}" in daily.stdout, daily.stdout[-3000:]
