"""Drift and data identity (issue 22), on tiny generated shops in a real PostgreSQL.

One module database (a copy of the session's built shop) goes through the life of a deployment;
each step builds only the subgraph the drift needs (`dbt run --select +segment_drift`: features,
sample, centroids, assignment, drift mart) and the drift test:

1. 1% of the buyers place a new order (daily build, reference date pinned): identity unchanged,
   nothing drifts, no rediscovery, the test passes;
2. every order's amounts x4 (same customers, another price level): purchase_value drifts; the test
   warns naming the axis and the command (and fails with drift_severity: error); the report's drift
   section lists it; rediscover_on_drift: true rediscovers (reason drift), then the test passes;
3. the data is replaced by a differently generated shop (another seed and size, no helpdesk
   export): the data identity differs, so with on_identity_change: fail the build stops before the
   assignment naming the differences and the command, and by default it rediscovers (reason
   data_identity) instead of reusing the old version; the log names the differences and the
   drifted axes;
4. `make demo`'s reset: run-operation shopseg_reset_centroid_history drops the history (make demo
   runs it through the on-run-start hook shopseg_start_over, var start_over: checked by
   test_reliability.py::test_demo_twice_changes_nothing).
"""

from __future__ import annotations

import re

import psycopg
import pytest
from conftest import clone_database, dsn_for, generate, query, run_dbt

from shopseg.report.data import fetch_drift
from shopseg.report.html import render_drift
from shopseg.settings import DEFAULT_SCHEMA, INTERMEDIATE, MARTS, TEST_AUDIT

SUBGRAPH = ("--select", "+segment_drift")
# Every dbt call passes one of a few fixed var sets, each with its own target dir: dbt re-parses the
# whole project whenever the vars differ from its saved manifest's (~10-20 s on the shared machine).
VAR_SETS = {
    "pinned": "",
    "strict": "rediscover_on_drift: true, drift_severity: error, on_identity_change: fail",
}
STATE: dict[str, str] = {}


def dbt(dbname: str, var_set: str, *args: str, check: bool = True):
    extra = VAR_SETS[var_set]
    variables = "{reference_date: '%s'%s}" % (STATE["reference_date"], ", " + extra if extra else "")
    return run_dbt(dbname, *args, "--vars", variables, check=check, target_dir=f"target/pytest/{dbname}_{var_set}")


def build(dbname: str, *args: str, var_set: str = "pinned", check: bool = True):
    return dbt(dbname, var_set, "run", *SUBGRAPH, *args, check=check)


def drift_test(dbname: str, *args: str, var_set: str = "pinned"):
    return dbt(dbname, var_set, "test", "--select", "assert_centroids_fit_the_data", *args, check=False)


def latest(dbname: str) -> dict[str, dict]:
    rows = query(
        dbname,
        f"""
        select axis, compared_version, centroid_version, rediscovered, rediscover_reason, identity_matches,
               identity_differences, mean_shift, spread_shift, segment_share_psi, drifted, worst_feature
        from {MARTS}.segment_drift
        where build_id = (select build_id from {MARTS}.segment_drift order by built_at desc limit 1)""",
    )
    keys = (
        "compared_version",
        "centroid_version",
        "rediscovered",
        "rediscover_reason",
        "identity_matches",
        "identity_differences",
        "mean_shift",
        "spread_shift",
        "segment_share_psi",
        "drifted",
        "worst_feature",
    )
    return {r[0]: dict(zip(keys, r[1:])) for r in rows}


def versions(dbname: str) -> list[tuple]:
    return query(
        dbname,
        f"""
        select centroid_version, min(rediscover_reason), min(source_schema), min(data_customers)
        from {MARTS}.segment_centroids group by 1 order by 1""",
    )


@pytest.fixture(scope="module")
def drift_db(built_db):
    """A copy of the session's built shop (3,000 customers by default), so the module starts from a
    full build without paying for one."""
    with clone_database(built_db, "shopseg_drift") as name:
        # the reference date of the build, pinned from here on as the daily job does, so every
        # call shares the var set "pinned"
        ((STATE["reference_date"],),) = query(
            name, f"select reference_date::text from {MARTS}.segment_centroids limit 1"
        )
        ((STATE["customers"],),) = query(name, "select count(distinct customer_id) from raw.customers")
        yield name


def test_first_build_records_identity_and_an_empty_comparison(drift_db):
    ((version, reason, schema, customers),) = versions(drift_db)
    assert (version, reason, schema, customers) == (1, "first", "raw", STATE["customers"])
    ((sketch, tiers, fingerprint),) = query(
        drift_db,
        f"""
        select cardinality(sample_key_sketch), sample_tier_sizes, sample_fingerprint
        from {MARTS}.segment_centroids limit 1""",
    )
    assert sketch == 64 and sum(tiers.values()) > 0 and len(fingerprint) == 32
    rows = latest(drift_db)
    assert len(rows) == 13
    assert all(r["compared_version"] is None and r["centroid_version"] == 1 and not r["drifted"] for r in rows.values())


def test_one_percent_new_orders_does_not_trigger(drift_db):
    ref = STATE["reference_date"]
    with psycopg.connect(dsn_for(drift_db), autocommit=True) as con:
        # 1% of the buyers repeat their last order the day after the reference date
        (added,) = (
            con.execute(f"""
            with last_orders as (
                select distinct on (customer_id) * from raw.orders
                where cancelled_at is null order by customer_id, created_at desc
            ), chosen as (
                select * from last_orders order by md5(customer_id::text)
                limit (select count(*) / 100 from last_orders)
            )
            insert into raw.orders
            select (select max(order_id) from raw.orders) + row_number() over (order by customer_id), customer_id,
                   date '{ref}' + interval '1 day 3 hours', currency, subtotal, discount_amount,
                   shipping_amount, tax_amount, total, discount_code, sales_channel, null
            from chosen""").rowcount,
        )
    assert added >= 8
    build(drift_db)
    rows = latest(drift_db)
    assert [v[0] for v in versions(drift_db)] == [1], "a 1% change must not rediscover"
    assert all(r["compared_version"] == 1 and r["identity_matches"] is True for r in rows.values())
    assert not [a for a, r in rows.items() if r["drifted"]], rows
    shifts = [r["mean_shift"] for r in rows.values() if r["mean_shift"] is not None]
    # measured, not assumed zero: the new orders move some features a little (0.00-0.03 sd here)
    assert len(shifts) >= 10 and 0 < max(shifts) < 0.1
    done = drift_test(drift_db)
    assert done.returncode == 0 and "WARN=0 ERROR=0" in done.stdout, done.stdout[-2000:]


def test_a_price_shift_warns_naming_the_axis_and_can_rediscover(drift_db, tmp_path):
    with psycopg.connect(dsn_for(drift_db), autocommit=True) as con:
        con.execute("""update raw.orders set subtotal = subtotal * 4, discount_amount = discount_amount * 4,
                       shipping_amount = shipping_amount * 4, tax_amount = tax_amount * 4, total = total * 4""")
        con.execute("update raw.order_lines set unit_price = unit_price * 4, discount_amount = discount_amount * 4")
        con.execute("update raw.refunds set amount = amount * 4")
    # an in-place edit changes no row count: a full refresh re-computes the features (docs/lifecycle.md)
    done = build(drift_db, "--full-refresh")
    rows = latest(drift_db)
    drifted = {a for a, r in rows.items() if r["drifted"]}
    assert "purchase_value" in drifted and rows["purchase_value"]["mean_shift"] > 0.25, rows["purchase_value"]
    assert rows["purchase_value"]["identity_matches"] is True and not rows["purchase_value"]["rediscovered"]
    assert re.search(r"shopseg: drift from centroid version 1 on [^\n]*purchase_value", done.stdout), done.stdout[
        -3000:
    ]
    assert [v[0] for v in versions(drift_db)] == [1], "drift alone does not rediscover by default"

    warned = drift_test(drift_db, "--store-failures")
    assert warned.returncode == 0 and "WARN" in warned.stdout, warned.stdout[-2000:]
    messages = [m for (m,) in query(drift_db, f"select message from {TEST_AUDIT}.assert_centroids_fit_the_data")]
    assert {m.split()[1] for m in messages} == drifted
    message = next(m for m in messages if m.startswith("axis purchase_value "))
    assert "make monthly" in message and "dbt build --vars '{rediscover: true}'" in message, message

    failed = drift_test(drift_db, var_set="strict")  # drift_severity: error, before the build rediscovers
    assert failed.returncode != 0 and "Failure in test assert_centroids_fit_the_data" in failed.stdout, failed.stdout[
        -2000:
    ]

    with psycopg.connect(dsn_for(drift_db)) as con:
        html = render_drift(fetch_drift(con, DEFAULT_SCHEMA))
    assert re.search(r'data-axis="purchase_value">.*?data-metric="drifted" data-value="1"', html), html

    build(drift_db, var_set="strict")  # rediscover_on_drift: true
    assert versions(drift_db)[-1][:2] == (2, "drift")
    rows = latest(drift_db)
    assert rows["purchase_value"]["rediscovered"] and rows["purchase_value"]["rediscover_reason"] == "drift"
    done = drift_test(drift_db, var_set="strict")
    assert done.returncode == 0 and "WARN=0 ERROR=0" in done.stdout, done.stdout[-2000:]


def test_another_shop_stops_or_is_rediscovered(drift_db):
    """The issue's case: a differently generated shop replaces the data (`make demo CUSTOMERS=3000
    SEED=5` after the 10,000-customer demo). Its distributions resemble the old ones on the axes
    both shops have (same generator), so drift alone would miss it; the identity does not. With
    on_identity_change: fail the build stops before the assignment; by default it rediscovers."""
    before = versions(drift_db)
    generate(drift_db, "--customers", "900", "--seed", "77", "--no-tickets")
    stopped = build(drift_db, "--full-refresh", var_set="strict", check=False)  # as make demo builds new data
    assert stopped.returncode != 0
    assert f"the data is not what centroid version {before[-1][0]} was fitted on" in stopped.stdout
    assert "0 of 64 sampled customers found" in stopped.stdout and "make monthly" in stopped.stdout
    assert versions(drift_db) == before

    done = build(drift_db, "--full-refresh")
    version, reason, schema, customers = versions(drift_db)[-1]
    assert (version, reason, schema, customers) == (before[-1][0] + 1, "data_identity", "raw", 900)
    rows = latest(drift_db)
    assert all(r["identity_matches"] is False and r["rediscovered"] for r in rows.values())
    differences = rows["purchase_value"]["identity_differences"]
    assert "0 of 64 sampled customers found" in differences and f"customers {STATE['customers']} -> 900" in differences
    assert f"the data is not what centroid version {before[-1][0]} was fitted on" in done.stdout
    # the support axes lost their source: named as drifted from the old version
    line = re.search(r"shopseg: drift from centroid version \d+ on ([^\n]*)", done.stdout)
    assert line and "communication_preference" in line.group(1) and "problem_complexity_profile" in line.group(1)
    assigned = query(drift_db, f"select distinct centroid_version from {INTERMEDIATE}.int_customer_assignments_wide")
    assert assigned == [(version,)]


def test_demo_reset_starts_the_history_over(drift_db):
    """make demo runs this after generating new data; the next build is then a first build (as the
    module fixture's, whose version 1 has rediscover_reason 'first')."""
    assert query(drift_db, f"select count(*) from {MARTS}.segment_centroids")[0][0] > 0
    done = dbt(drift_db, "pinned", "run-operation", "shopseg_reset_centroid_history")
    assert "dropped" in done.stdout and "segment_centroids" in done.stdout
    left = query(
        drift_db,
        """
        select table_name from information_schema.tables
        where table_name in ('segment_centroids', 'segment_drift', 'customer_segments_snapshot')""",
    )
    assert left == []
