"""The daily build's tests check the rows it rewrote (docs/lifecycle.md "Which tests run when"):
with `test_scope: rewritten` a generic test of an incremental model reads only the customers of
the model's scope (meta rewrite_scope), with the default `test_scope: all` the whole table.
Real PostgreSQL, a private copy of the built tiny shop."""

from __future__ import annotations

import psycopg
from conftest import dsn_for, query, run_dbt

from shopseg.settings import INTERMEDIATE as INTER
from shopseg.settings import MARTS

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
